"""How much of the CPUs other processes used while we measured, and waiting for them to stop.

On a shared machine a peer timed while someone else compiles or runs tests is slower for reasons
of its own (with 2 cores, a descheduled OpenMP thread stalls every small GEMM of the other). The
tables say so per row instead of silently reporting the slower number.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

QUIET_SHARE = 0.10  # "quiet": others use under 10% of all cores over one probe window
PROBE_SECONDS = 2.0


class CpuWatch:
    """Share of all cores that processes other than this one and its children used."""

    def __init__(self):
        self._busy, self._ours, self._wall = _busy_seconds(), _our_cpu(), time.perf_counter()

    def others_share(self) -> float:
        wall = time.perf_counter() - self._wall
        others = (_busy_seconds() - self._busy) - (_our_cpu() - self._ours)
        return max(0.0, others / (wall * (os.cpu_count() or 1)))


def _busy_seconds() -> float:
    """Seconds all cores spent not idle since boot (0 where /proc/stat is missing)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # first 8: guest is in user


def _our_cpu() -> float:
    """CPU seconds of this process plus its finished children (the isolated peers)."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def wait_for_quiet(limit_s: float) -> float:
    """Sleep until others use under QUIET_SHARE of the cores, for at most `limit_s`; return
    others' share in the last probe, so the caller can say when it gave up waiting."""
    deadline, share = time.perf_counter() + limit_s, 0.0
    while time.perf_counter() < deadline:
        watch = CpuWatch()
        time.sleep(PROBE_SECONDS)
        share = watch.others_share()
        if share < QUIET_SHARE:
            break
    return share
