"""A wide table: what preset auto's periodic embedding costs and buys past a few hundred numeric
columns (recipe.MAX_EMBEDDED_COLUMNS). A synthetic 2,600 x 500 table whose class is the sign of
the sum of 5 columns plus noise (the other 495 are noise), one 20% hold-out, the models of
benchmarks/quality.py side by side:

    python -m benchmarks.quality_wide                                  # defaults, MLP, HGB
    python -m benchmarks.quality_wide --variant network.embedding=periodic --variant training.ensemble=1

Each --variant is one more layerwise run with that override (several `k=v` joined by commas).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from .quality import fit_hgb, fit_layerwise, fit_sklearn_mlp, score


def wide_table(rows: int = 2600, columns: int = 500, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, columns))
    y = (X[:, :5].sum(axis=1) + rng.normal(size=rows) > 0).astype(int)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(columns)]), pd.Series(y, name="y")


def main(argv=None) -> None:
    import torch
    from sklearn.model_selection import train_test_split

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", default=[], help="layerwise overrides k=v[,k=v]")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y = wide_table()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    runs = [("layerwise", ()), *((f"layerwise[{v}]", tuple(v.split(","))) for v in args.variant),
            ("sklearn_mlp", None), ("hgb", None)]
    print("| model | accuracy | seconds |\n|---|---:|---:|")
    for name, overrides in runs:
        started = time.perf_counter()
        if overrides is not None:
            predicted = fit_layerwise(X_train, y_train, X_test, "classification", 0, overrides)
        else:
            predicted = {"sklearn_mlp": fit_sklearn_mlp, "hgb": fit_hgb}[name](X_train, y_train, X_test, "classification", 0)
        print(f"| {name} | {score('classification', y_test, predicted):.4f} | {time.perf_counter() - started:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
