"""W1 and a small table with one other process keeping a core busy, against the same runs on a
quiet machine: the thread policy's job is that a busy neighbour costs a share, not a collapse.

    python -m benchmarks.contended

Rows: layerwise with its default thread policy (`auto`) and pinned to torch's default of one
thread per core, each measured quiet and then next to one busy process (a `while True` loop pinned
to the last CPU). W1 is timed per epoch (median of the timed epochs after a warm-up epoch, in a
fresh worker process, like `benchmarks.peers`); the small table is a 20-epoch run of the
synthetic table of breast_cancer's size (569 x 30) timed as a whole training loop. The pinned row under contention
trains a tenth of W1's rows (quiet and busy alike) and scales its epoch by 10, so a collapse costs
the benchmark seconds, not minutes (the note says so).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import runner
from .workloads import WORKLOADS, Workload

TARGET = 1.5  # issue 14: under one competing busy process, W1 <= 1.5x its quiet time
SMALL = Workload("table", "a small table (569 x 30, breast_cancer's size), 30-32-1, Adam, batch 32, 20 epochs",
                 rows=569, features=30, hidden=(32,), outputs=1, task="binary", batch_size=32,
                 optimizer="adam", lr=1e-3, run_epochs=20)
BUSY_CODE = ("import os, sys\n"
             "cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else []\n"
             "if len(cpus) > 1: os.sched_setaffinity(0, {cpus[-1]})\n"
             "while True: pass\n")


class BusyNeighbour:
    """One process spinning on the last CPU for the duration of a `with` block."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", BUSY_CODE])
        time.sleep(0.5)  # let it reach its loop before anything is measured
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def _seconds(w: Workload, timed: int, scratch: Path) -> tuple[float | None, str]:
    row = runner.run_isolated("layerwise", w, None, "cpu", timed, scratch)
    if row.get("status") != "ok":
        return None, f"{row.get('status')}: {row.get('detail', '')}"
    if w.run_epochs:  # whole runs: the training loop's seconds per run
        return statistics.median(row["seconds"]), ""
    return row["median_s"], ""


def measure(timed: int, scratch: Path) -> list[dict]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    w1 = WORKLOADS["W1"]
    cases = [("W1", "auto", w1, 1), ("W1", f"pinned {cores} (torch default)",
                                       dataclasses.replace(w1, threads=cores), 1),
             ("table", "auto", SMALL, 1), ("table", f"pinned {cores} (torch default)",
                                          dataclasses.replace(SMALL, threads=cores), 1)]
    rows = []
    for name, policy, w, scale in cases:
        print(f"  contention: {name} threads {policy} ...", file=sys.stderr, flush=True)
        if w.threads and not w.run_epochs:  # pinned W1: a tenth of the rows, epoch scaled x10
            w, scale = dataclasses.replace(w, rows=w.rows // 10), 10
        quiet, note = _seconds(w, timed, scratch)
        with BusyNeighbour():
            busy, busy_note = _seconds(w, timed, scratch)
        quiet, busy = (None if v is None else v * scale for v in (quiet, busy))
        notes = [n for n in (note, busy_note) if n]
        if scale != 1:
            notes.append(f"{w.rows:,} rows, epoch x{scale}")
        rows.append({"workload": name, "threads": policy, "quiet_s": quiet, "busy_s": busy,
                     "ratio": busy / quiet if quiet and busy else None, "note": "; ".join(notes)})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| workload | threads | s without the busy process | s with 1 busy process | ratio | target | note |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = row["ratio"]
        target = ""
        if row["workload"] == "W1" and row["threads"] == "auto" and ratio is not None:
            target = f"<= {TARGET}x: {'met' if ratio <= TARGET else 'NOT met'}"
        cell = (lambda v: "n/a" if v is None else f"{v:.3g}")
        lines.append(f"| {row['workload']} | {row['threads']} | {cell(row['quiet_s'])} | "
                     f"{cell(row['busy_s'])} | {cell(ratio)} | {target} | {row['note']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contended", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timed", type=int, default=2,
                        help="timed epochs (W1) / runs (table) after one warm-up")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-contended-") as scratch:
        rows = measure(args.timed, Path(scratch))
    print(f"\n## contention: one busy process on another core, W1 s/epoch and a small table's "
          f"seconds per {SMALL.run_epochs}-epoch run, median of {args.timed} after a warm-up; "
          f"load {os.getloadavg()[0]:.2f} at end\n")
    print(f"W1: {WORKLOADS['W1'].title}; table: {SMALL.title}\n")
    print(table(rows), flush=True)
    return rows


if __name__ == "__main__":
    main()
