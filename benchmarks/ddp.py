"""layerwise with one process against the same run with several (DDP), through the CLI.

    python -m benchmarks.ddp --workload W1 W2 [--epochs 2] [--processes 2]

CPU rows: one process with every core's threads, one process with cores/N threads, and
`--nproc-per-node N` (gloo, cores/N threads each). samples/s = rows / the median timed epoch
(metrics.csv's epoch_seconds of rank 0, which ends after the epoch's all-reduce), after one
warm-up epoch. Scaling efficiency = samples/s with N processes / (N x samples/s of one process
with the same threads per process); against the first row it shows whether N processes use the
same cores better or worse than one process's threads do.
GPU rows (when CUDA is there): one GPU plainly against one GPU through DDP (torchrun, 1 process,
NCCL): the overhead of DDP itself. Without CUDA they print as skipped.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .contention import CpuWatch
from .workloads import Workload, resolve, smoke

TIMEOUT_S = 1800  # one training run


def command(w: Workload, data: Path, out: Path, epochs: int, device: str) -> list[str]:
    return ["train", "--data", str(data), "--preset", "plain", "--hidden", *map(str, w.hidden), "--epochs", str(epochs),
            "--batch-size", str(w.batch_size), "--optimizer", w.optimizer, "--lr", str(w.lr),
            "--seed", str(w.seed), "--no-early-stopping", "--device", device, "--val-split", "0",
            "--test-split", "0", "--out", str(out), "--quiet"]


def timed(argv: list[str], out: Path, env: dict) -> tuple[list[float], float]:
    """Run one training; (epoch seconds after the warm-up epoch, others' share of the CPUs)."""
    watch = CpuWatch()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, env={**os.environ, **env})
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} ... failed: {done.stderr.strip()[-400:]}")
    with open(out / "metrics.csv", newline="") as handle:
        seconds = [float(row["epoch_seconds"]) for row in csv.DictReader(handle)]
    return seconds[1:], watch.others_share()


def setups(processes: int, cuda: bool) -> list[dict]:
    """The rows: label, processes, device, the command's prefix, extra environment, and the index
    of the row its scaling efficiency is measured against."""
    layerwise = [sys.executable, "-m", "layerwise"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    share = max(1, cores // processes)
    rows = [dict(label=f"CPU, 1 process, {cores} threads", processes=1, device="cpu", prefix=layerwise,
                 env={"OMP_NUM_THREADS": str(cores)}, against=None),
            dict(label=f"CPU, 1 process, {share} thread(s)", processes=1, device="cpu", prefix=layerwise,
                 env={"OMP_NUM_THREADS": str(share)}, against=None),
            dict(label=f"CPU, {processes} processes (gloo), {share} thread(s) each", processes=processes,
                 device="cpu", prefix=layerwise, env={}, against=1)]
    if cuda:
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1",
                    "-m", "layerwise"]
        rows += [dict(label="1 GPU", processes=1, device="cuda", prefix=layerwise, env={}, against=None),
                 dict(label="1 GPU through DDP (torchrun, NCCL)", processes=1, device="cuda", prefix=torchrun,
                      env={}, against=3)]
    return rows


def measure(w: Workload, epochs: int, processes: int, cuda: bool) -> list[dict]:
    from .workloads import make_data

    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-ddp-") as scratch:
        data = Path(scratch) / "data.npz"
        X, y = make_data(w)
        np.savez(data, x=X, y=y)
        for setup in setups(processes, cuda):
            out = Path(scratch) / f"run-{len(results)}"
            argv = setup["prefix"] + command(w, data, out, epochs + 1, setup["device"])
            if setup["prefix"][-1] == "layerwise" and setup["processes"] > 1:
                argv += ["--nproc-per-node", str(setup["processes"])]
            seconds, others = timed(argv, out, setup["env"])
            median = statistics.median(seconds)
            results.append({**setup, "seconds": seconds, "median_s": median,
                            "samples_per_s": w.rows / median, "others_share": others})
    for r in results:
        against = results[r["against"]] if r["against"] is not None else None
        r["efficiency"] = (r["samples_per_s"] / (r["processes"] * against["samples_per_s"])
                           if against is not None else None)
    return results


def table(w: Workload, results: list[dict], cuda: bool) -> str:
    lines = [f"#### {w.name} through DDP: {w.title} ({w.rows:,} rows measured)", "",
             "| setup | s/epoch (median) | samples/s | scaling efficiency | others' CPU share |",
             "|---|---|---|---|---|"]
    for r in results:
        efficiency = "" if r["efficiency"] is None else f"{r['efficiency']:.2f}"
        lines.append(f"| {r['label']} | {r['median_s']:.3f} | {r['samples_per_s']:,.0f} | "
                     f"{efficiency} | {r['others_share'] * 100:.0f}% |")
    if not cuda:
        lines.append("| 1 GPU vs 1 GPU through DDP | skipped: no CUDA device | | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ddp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", nargs="+", default=["W1", "W2"])
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs after one warm-up epoch")
    parser.add_argument("--processes", type=int, default=2, help="CPU processes of the DDP row")
    parser.add_argument("--smoke", action="store_true", help="2,000 rows: checks the harness only")
    args = parser.parse_args(argv)
    import torch

    cuda = torch.cuda.is_available()
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f} at start")
    for w in resolve(args.workload):
        w = smoke(w) if args.smoke else w
        print(table(w, measure(w, args.epochs, args.processes, cuda), cuda) + "\n", flush=True)


if __name__ == "__main__":
    main()
