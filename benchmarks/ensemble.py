"""What `--ensemble K` costs in time on the CPU and what it buys: K = 1, 4, 8 side by side on the
same splits (`preset: plain`, hidden [64], 30 epochs, lr 3e-3, one thread), test score = accuracy
for classification, R^2 for regression; mean over the seeds. K = 1 is today's single-network path
(it may stop early); the members of K > 1 train every epoch, each restoring its own best epoch.
"train() seconds" include writing the run directory (report plots), a constant per run.

    PYTHONPATH=src python benchmarks/ensemble.py [--seeds 2] [--tables digits,diabetes]

Timings on a shared machine are noisy: read them as ratios to K = 1 within one run."""

from __future__ import annotations

import argparse
import tempfile
import time

import layerwise


def one(table: str, k: int, seed: int, out) -> tuple[float, float, float, int]:
    config = {"data": {"source": f"builtin:{table}"}, "network": {"hidden": [64]}, "preset": "plain",
              "training": {"epochs": 30, "lr": 3e-3, "seed": seed, "threads": 1, "ensemble": k}}
    started = time.perf_counter()
    run = layerwise.train(config, out=f"{out}/{table}-{k}-{seed}", quiet=True, overwrite=True)
    seconds = time.perf_counter() - started
    test = run.summary["test"]
    return seconds, run.summary["train_seconds"], test.get("accuracy", test.get("r2")), run.summary["epochs_run"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--tables", default="digits,diabetes")
    parser.add_argument("--ks", default="1,4,8")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    print("| table | K | train() seconds | x K=1 | training-loop seconds | x K=1 | epochs run | test score |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as out:
        for table in args.tables.split(","):
            one(table, 1, 0, out)  # warm-up: imports and data caches outside the timings
            base = None
            for k in ks:
                results = [one(table, k, seed, out) for seed in range(args.seeds)]
                seconds, loop, score, epochs = (sum(r[i] for r in results) / len(results) for i in range(4))
                base = base or (seconds, loop)
                print(f"| {table} | {k} | {seconds:.2f} | {seconds / base[0]:.2f} | {loop:.2f} | {loop / base[1]:.2f} "
                      f"| {epochs:.0f} | {score:.4f} |", flush=True)


if __name__ == "__main__":
    main()
