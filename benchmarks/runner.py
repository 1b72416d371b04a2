"""Run one peer on one workload and return its timings as a plain dict (one table row).

By default every peer runs in its own Python process (`python -m benchmarks.worker ...`): a
peer's imports and allocator state cannot slow the next one, a crash becomes an "error" row, and
`ru_maxrss` is that peer's own peak memory (the W3 column).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .contention import CpuWatch
from .workloads import Data, Workload

# table order; the value is the module under benchmarks/
PEERS = {"layerwise": "peer_layerwise", "bare": "peer_bare", "plain": "peer_plain",
         "slicing": "peer_slicing", "stacked": "peer_stacked", "sklearn": "peer_sklearn",
         "skorch": "peer_skorch", "lightning": "peer_lightning", "keras": "peer_keras"}
LABELS = {"layerwise": "layerwise", "bare": "bare zero_grad/backward/step loop",
          "plain": "PyTorch tutorial loop (DataLoader)", "slicing": "hand-written slicing loop",
          "stacked": "hand-written stacked bmm", "sklearn": "scikit-learn MLP",
          "skorch": "skorch", "lightning": "Lightning Trainer", "keras": "Keras 3 (torch)"}
SEQUENTIAL_COPIES = 2  # W5 peers without a multi-model mode: time this many copies, scale to 64
OTHERS_CPU_NOTE = 0.05  # note a row when other processes used more than 5% of all cores
PEER_TIMEOUT_S = 1800  # a hung peer becomes a "timeout" row instead of a hung benchmark


class NotAvailable(Exception):
    """The peer is installed but cannot run this workload (e.g. layerwise lacks `repeat`)."""


def not_applicable(peer: str, w: Workload, device: str) -> str | None:
    """Why `peer` has no row for this workload/device, or None when it does."""
    if peer == "bare" and not w.run_epochs:
        return "W4 reference only"
    if peer == "stacked" and w.models == 1:
        return "W5 only"
    devices = getattr(_peer_module(peer), "DEVICES", None)
    if devices and device not in devices:
        return f"{', '.join(devices)} only"
    return None


def _peer_module(peer: str):
    # peer modules import their heavy packages inside functions, so importing one is cheap
    return importlib.import_module(f"benchmarks.{PEERS[peer]}")


def _missing_package(module) -> str | None:
    for package in getattr(module, "REQUIRES", ()):
        if importlib.util.find_spec(package) is None:
            return package
    return None


def _timed_epochs(train, w: Workload, data: Data, device: str, timed: int) -> list[float]:
    """Run warm-up + `timed` epochs in one training run; return the timed epochs' seconds."""
    seconds = train(w, data, device, timed + 1)
    return list(seconds[1:])


def _timed_runs(train, w: Workload, data: Data, device: str, timed: int) -> dict:
    """W4: one warm-up run, then `timed` whole runs of `w.run_epochs` epochs each."""
    loop, calls = [], []
    for run in range(timed + 1):
        start = time.perf_counter()
        seconds = train(w, data, device, w.run_epochs)
        if run:  # run 0 is the warm-up
            calls.append(time.perf_counter() - start)
            loop.append(sum(seconds))
    steps = w.run_epochs * w.steps_per_epoch
    return {"seconds": loop, "call_seconds": calls, "call_median_s": statistics.median(calls),
            "steps": steps,
            "us_per_step": statistics.median(loop) / steps * 1e6}


def _many_models(module, w: Workload, data: Data, device: str, timed: int) -> dict:
    """W5: one model's epoch time, then all models, natively or as sequential copies."""
    one = statistics.median(_timed_epochs(module.train, w.single(0), data, device, timed))
    if getattr(module, "MULTI_MODEL", False):
        seconds = _timed_epochs(module.train, w, data, device, timed)
        return {"seconds": seconds, "one_model_s": one}
    copies = [one] + [statistics.median(_timed_epochs(module.train, w.single(seed), data,
                                                      device, timed))
                      for seed in range(1, min(SEQUENTIAL_COPIES, w.models))]
    return {"seconds": [statistics.mean(copies) * w.models], "one_model_s": one,
            "note": f"{w.models} copies one after another; x{w.models} of the mean of "
                    f"{len(copies)} timed copies"}


def run_here(peer: str, w: Workload, data: Data, device: str, timed: int) -> dict:
    """Run the peer in this process; every outcome, failures included, is a row dict."""
    row = {"peer": peer, "label": LABELS[peer]}
    reason = not_applicable(peer, w, device)
    if reason:
        return {**row, "status": "n/a", "detail": reason}
    module = _peer_module(peer)
    missing = _missing_package(module)
    if missing:
        return {**row, "status": "not installed", "detail": f"no module '{missing}'"}
    try:
        if w.run_epochs:
            result = _timed_runs(module.train, w, data, device, timed)
        elif w.models > 1:
            result = _many_models(module, w, data, device, timed)
        else:
            result = {"seconds": _timed_epochs(module.train, w, data, device, timed)}
    except NotAvailable as error:
        return {**row, "status": "not available", "detail": str(error)}
    except Exception as error:  # a broken peer is a row, not a crashed benchmark
        traceback.print_exc()
        return {**row, "status": "error", "detail": f"{type(error).__name__}: {error}"[:300]}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux reports KiB
    return {**row, "status": "ok", "median_s": statistics.median(result["seconds"]),
            "rss_mb": peak_kib / 1024, **result}


def run_isolated(peer: str, w: Workload, files: tuple[Path, Path] | None, device: str,
                 timed: int, scratch: Path) -> dict:
    """Run the peer in a fresh `python -m benchmarks.worker` and read back its row."""
    result = scratch / f"{w.name}-{peer}.json"
    command = [sys.executable, "-m", "benchmarks.worker", "--peer", peer, "--device", device,
               "--timed", str(timed), "--workload", json.dumps(dataclasses.asdict(w)),
               "--result", str(result)]
    if files:
        command += ["--files", *map(str, files)]
    row = {"peer": peer, "label": LABELS[peer]}
    watch = CpuWatch()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PEER_TIMEOUT_S,
                              env=_env_with_repo_on_path())
    except subprocess.TimeoutExpired:
        return {**row, "status": "timeout", "detail": f"over {PEER_TIMEOUT_S} s"}
    if done.returncode or not result.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {**row, "status": "error", "detail": f"exit {done.returncode}: {tail[0]}"[:300]}
    row = json.loads(result.read_text())
    row["others_cpu"] = watch.others_share()
    if row["others_cpu"] > OTHERS_CPU_NOTE:
        row["note"] = (row.get("note", "") + f" other processes used {row['others_cpu']:.0%} "
                       "of the CPUs meanwhile").strip()
    return row


def _env_with_repo_on_path() -> dict:
    """The worker imports `benchmarks`, which lives at the repo root, whatever the cwd is."""
    repo = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": repo + (os.pathsep + path if path else "")}
