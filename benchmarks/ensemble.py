"""What `--ensemble K` costs in time on the CPU, per kind (independent vmapped copies; TabM's
shared weights), side by side with one network on the same splits: the default recipe's network
(`preset: auto`: 3x256, batch 256; the independent kind trains without dropout, which its vmapped
step cannot do) for a fixed number of epochs with early stopping off, so every run does the same
number of steps; one torch thread. Test score = accuracy (classification) or R^2 (regression) after
those epochs, mean over the seeds: a sanity check, not the quality comparison (benchmarks/quality.py
with --variant training.ensemble=K does that, with the recipe's own epochs and early stopping).

    PYTHONPATH=src python benchmarks/ensemble.py [--seeds 1] [--tables digits,synthetic10k]
        [--ks 1,4,8,16] [--kinds independent,tabm] [--epochs 10]

"loop s" is the training loop's time (the sum of the epochs' seconds); "x 1" its ratio to one
network (K = 1). Timings on a shared machine are noisy: read them as ratios within one run."""

from __future__ import annotations

import argparse
import tempfile

import layerwise


def _data(table: str):
    """An in-memory table for `synthetic10k` (10,000 rows x 20 columns, the issue's reference
    size), else None: the built-in data set of that name."""
    if table != "synthetic10k":
        return None
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=10_000, n_features=20, n_informative=10, n_classes=3, random_state=0)
    return X.astype("float32"), y


def one(table: str, k: int, kind: str, seed: int, epochs: int, out) -> tuple[float, float, float]:
    config = {"data": {"source": f"builtin:{table}", "test_split": 0.2}, "preset": "auto",  # scored on held-out rows
              "training": {"epochs": epochs, "seed": seed, "threads": 1, "early_stopping": False,
                           "ensemble": k, "ensemble_kind": kind}}
    data = _data(table)
    if data is not None:
        del config["data"]["source"]
    run = layerwise.train(config, data=data, out=f"{out}/{table}-{kind}-{k}-{seed}", quiet=True, overwrite=True)
    test = run.summary["test"]
    parameters = sum(p.numel() for p in run.predictor.module.parameters())
    return run.summary["train_seconds"], test.get("accuracy", test.get("r2")), parameters


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--tables", default="digits,synthetic10k")
    parser.add_argument("--ks", default="1,4,8,16")
    parser.add_argument("--kinds", default="independent,tabm")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    print(f"{args.epochs} epochs, early stopping off, preset auto, 1 thread\n")
    print("| table | kind | K | parameters | loop s | x 1 | test score |")
    print("|---|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as out:
        for table in args.tables.split(","):
            one(table, 1, "independent", 0, 1, out)  # warm-up: imports and data caches outside the timings
            single = None
            for kind in args.kinds.split(","):
                for k in ks:
                    if k == 1 and single is not None:
                        continue  # one network is the same for every kind
                    results = [one(table, k, kind, seed, args.epochs, out) for seed in range(args.seeds)]
                    loop, score = (sum(r[i] for r in results) / len(results) for i in range(2))
                    single = single or loop
                    name = "(one network)" if k == 1 else kind
                    print(f"| {table} | {name} | {k} | {results[0][2]:,} | {loop:.2f} | {loop / single:.2f} "
                          f"| {score:.4f} |", flush=True)


if __name__ == "__main__":
    main()
