"""What writing report.html costs next to the rest of a small run: per built-in task, the median
wall time of `layerwise.train` and of its `write_report` call (figures, per-class scores, curves,
baseline, permutation importance), in one process after a warm-up run (imports paid once).

    python -m benchmarks.report_cost --repeat 5

Settings are pinned (hidden 16, 10 epochs, Adam 0.01, batch 32, one thread), so a change of
defaults does not change what is timed. Timings on a shared machine are noisy: compare the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

TASKS = (("iris", "multiclass, 4 columns"), ("breast_cancer", "binary, 30 columns"), ("diabetes", "regression, 10 columns"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import layerwise
    import layerwise.report as report

    spent: list[float] = []
    write_report = report.write_report

    def timed(*a, **k):
        started = time.perf_counter()
        write_report(*a, **k)
        spent.append(time.perf_counter() - started)

    report.write_report = timed
    print("| data | task | run s (median) | report s (median) | report share |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, what in TASKS:
            config = {"data": {"source": f"builtin:{name}"}, "network": {"hidden": [16]},
                      "training": {"epochs": 10, "lr": 0.01, "seed": 0, "batch_size": 32, "optimizer": "adam"}}
            totals = []
            for i in range(args.repeat + 1):  # the first is a warm-up (imports, font cache)
                started = time.perf_counter()
                layerwise.train(config, out=f"{tmp}/{name}", overwrite=True, quiet=True)
                if i:
                    totals.append(time.perf_counter() - started)
            run, rep = statistics.median(totals), statistics.median(spent[-args.repeat:])
            print(f"| {name} | {what} | {run:.3f} | {rep:.3f} | {rep / run:.0%} |")


if __name__ == "__main__":
    main()
