"""Round 3's loanapp diagnosis (benchmarks/ROUND3_FINDINGS.md): robust scaling's fallback for a
column whose interquartile range is 0 is half its range, so a 0/1 column holding one sentinel (666)
is scaled by 333 and vanishes. This trains on the runner's train.csv files as the CLI does
(`layerwise.train` with data and target only) with today's fallback and with the fallback taken over
a quantile range first, and scores each on test.csv.

    python -m benchmarks.quality_round3 --csv /tmp/r3/csv --tables loanapp --seeds 0 1 2  # the files
    python -m benchmarks.quality_round3_scaling --csv /tmp/r3/csv --table loanapp --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import pandas as pd

FALLBACKS = {"q95-q05": (0.05, 0.95, 1.0), "(q99-q01)/2": (0.01, 0.99, 0.5)}  # quantiles, factor


def with_fallback(original, low_q: float, high_q: float, factor: float):
    """_robust_scales, then a zero-IQR column scaled by factor x its low_q..high_q range (when > 0)."""
    def scales(matrix, stats, rows, flat):
        original(matrix, stats, rows, flat)
        rows = np.arange(len(matrix)) if rows is None else np.asarray(rows)
        sample = np.asarray(matrix[rows], dtype=np.float64).reshape(len(rows), -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q25, q75, low, high = np.nanquantile(sample, [0.25, 0.75, low_q, high_q], axis=0)
        for j, column in enumerate(stats):
            if not q75[j] - q25[j] > 0 and high[j] - low[j] > 0:
                column["std"] = float(factor * (high[j] - low[j]))
    return scales


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", required=True, help="the folder quality_round3 wrote its files to")
    parser.add_argument("--table", default="loanapp")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    args = parser.parse_args(argv)
    import torch

    import layerwise
    from layerwise.data import preprocess

    from .quality_data import ROUND3
    from .quality_round3 import score

    torch.set_num_threads(1)
    X, y, task = ROUND3[args.table][0]()
    target, original = str(y.name), preprocess._robust_scales
    variants = {"default": original, **{name: with_fallback(original, *spec) for name, spec in FALLBACKS.items()}}
    for seed in args.seeds:
        folder = f"{args.csv}/{args.table}-s{seed}"
        test = pd.read_csv(f"{folder}/test.csv", low_memory=False)
        for k, (name, scales) in enumerate(variants.items()):
            preprocess._robust_scales = scales
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run = layerwise.train({"data": {"source": f"{folder}/train.csv", "target": target}},
                                          out=f"{folder}/scaling-{k}", quiet=True, overwrite=True)
            finally:
                preprocess._robust_scales = original
            predicted = layerwise.load(run.dir).predict(test.drop(columns=[target]))
            print(json.dumps({"table": args.table, "seed": seed, "fallback": name,
                              "score": score(task, test[target], predicted)}), flush=True)


if __name__ == "__main__":
    main()
