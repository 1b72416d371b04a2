"""What preset auto's bagged ensemble costs: seconds of `layerwise.fit` with the defaults, one
network (training.ensemble=1) against the bagged members, alternating, on seed 0's split of
benchmarks/quality.py; the faster of two runs each. Prints markdown rows (benchmarks/QUALITY.md).

    python -m benchmarks.bagging_cost breast_cancer titanic ames credit
"""

from __future__ import annotations

import sys
import time

from .quality import load_table, split


def fit_seconds(X, y, training: dict) -> tuple[float, int]:
    """(seconds of one default fit, members it trained)."""
    import layerwise

    started = time.perf_counter()
    run = layerwise.fit({"training": {"seed": 0, **training}, "data": {"test_split": 0.0}}, data=(X, y))
    return time.perf_counter() - started, run.config.training.ensemble


def main(tables: list[str]) -> None:
    print("| table | training rows | members | one network (s) | bagged (s) | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for table in tables:
        X, y, task = load_table(table, 8000)
        X_train, _, y_train, _ = split(X, y, task, 0)
        one, bagged = [], []
        for _ in range(2):  # alternating: a load change on the shared machine hits both
            one.append(fit_seconds(X_train, y_train.to_numpy(), {"ensemble": 1})[0])
            seconds, members = fit_seconds(X_train, y_train.to_numpy(), {})
            bagged.append(seconds)
        print(f"| {table} | {len(X_train):,} | {members} | {min(one):.1f} | {min(bagged):.1f} | "
              f"{min(bagged) / min(one):.1f}x |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["breast_cancer", "titanic", "ames", "credit"])
