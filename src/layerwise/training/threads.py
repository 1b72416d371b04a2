"""How many CPU threads torch may use for one training run (`training.threads`, `--threads`).

torch's default is one intra-op thread per core. Every GEMM then waits for all of them, so when
another process keeps one core busy each step waits for a descheduled thread: a W1 epoch took
50-97 s with 2 threads and 1.8-3.2 s with 1 on this shared 2-core machine at load average ~10
(W1 = MNIST-sized 784-100-50-10, alternating in one process). Small layers gain nothing from a
second thread anyway.

`auto` (0) therefore picks:
- 1 thread when one step's matrix work is small (under SMALL_STEP_MACS multiply-adds), or
  when only one CPU is available;
- otherwise the CPUs this process may really use (its affinity mask, the cgroup CPU quota, an
  explicit OMP_NUM_THREADS) minus the cores other processes kept busy during a short probe.

The choice is made once, before training, and recorded in the run's config.yaml
(`resolved.threads`): a run's result depends on it in the last bits (GEMMs split their work by
thread), so `resume` reuses it and `--threads N` pins it for runs that must match across machines.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path

SMALL_STEP_MACS = 1_000_000  # below this, one step's GEMMs are too small to split across threads
PROBE_SECONDS = 0.1  # how long `auto` watches other processes' CPU use before deciding
BUSY_CORE = 0.5  # a core others used more than half of during the probe counts as taken


def available_cpus() -> int:
    """CPUs this process may run on: affinity mask, cgroup quota and OMP_NUM_THREADS, the least."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    explicit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if explicit.isdigit() and int(explicit) > 0:
        count = min(count, int(explicit))
    return max(1, count)


def cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs' worth of time the cgroup may use (cgroup v2 cpu.max or v1 cfs quota); None if unlimited."""
    try:
        fields = (root / "cpu.max").read_text().split()
        if fields and fields[0] != "max":
            return int(fields[0]) / int(fields[1])
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def step_macs(model, batch_rows: int) -> int:
    """Multiply-adds of one forward pass over a batch: weight-matrix entries x rows (exact for
    dense layers; a lower bound for layers that reuse their weights, such as convolutions)."""
    return batch_rows * sum(p.numel() for p in model.parameters() if p.dim() >= 2)


def busy_cores_of_others(seconds: float = PROBE_SECONDS) -> float:
    """Cores' worth of CPU that other processes used, on the CPUs we may run on, during a short
    probe (0 where /proc/stat is missing)."""
    before_all, before_ours = _busy_seconds(), time.process_time()
    started = time.perf_counter()
    time.sleep(seconds)
    wall = time.perf_counter() - started
    others = (_busy_seconds() - before_all) - (time.process_time() - before_ours)
    return max(0.0, others / wall)


def _busy_seconds() -> float:
    """Non-idle seconds since boot, summed over the CPUs in this process's affinity mask."""
    try:
        ours = {f"cpu{n}" for n in os.sched_getaffinity(0)}
        with open("/proc/stat") as stat:
            lines = [line.split() for line in stat if line.startswith("cpu")]
    except (AttributeError, OSError):
        return 0.0
    busy = 0
    for name, *values in lines:
        if name in ours:
            fields = [int(v) for v in values]
            busy += sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def choose_threads(requested: int, model, batch_rows: int) -> int:
    """The thread count for a run: `requested` when > 0, else the `auto` policy above."""
    if requested > 0:
        return requested
    cpus = available_cpus()
    if cpus == 1 or step_macs(model, batch_rows) < SMALL_STEP_MACS:
        return 1
    taken = int(busy_cores_of_others() + (1 - BUSY_CORE))  # round, with BUSY_CORE as the cut
    return max(1, min(cpus, cpus - taken))


@contextlib.contextmanager
def torch_threads(count: int):
    """torch's intra-op thread count set to `count` while training, the caller's back after."""
    import torch

    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
