"""`--workers K`: K local worker processes on one study, each running `study.work`.

Workers are plain subprocesses (`python -m layerwise.tune.workers PLAN`) so each has its own
interpreter, torch threads and SQLite connection; on Linux each dies with the command that
started it (PR_SET_PDEATHSIG), so kill -9 of `layerwise tune` leaves no orphan still training.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from ..errors import LayerwiseError


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_workers(plan) -> None:
    threads = max(1, (os.cpu_count() or 1) // plan.workers)
    env = {**os.environ, "LAYERWISE_TUNE_THREADS": str(threads)}
    procs = [subprocess.Popen([sys.executable, "-m", "layerwise.tune.workers", plan.to_json()], env=env,
                              preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
             for _ in range(plan.workers)]
    try:
        codes = [proc.wait() for proc in procs]
    except KeyboardInterrupt:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            proc.wait()
        raise
    bad = [code for code in codes if code != 0]
    if bad:
        raise LayerwiseError(f"{len(bad)} of {plan.workers} workers failed (exit codes {bad}); "
                             "their errors are printed above; rerun the same command to continue the study")


def main(argv: list[str]) -> int:
    from . import TunePlan
    from .study import work

    threads = os.environ.get("LAYERWISE_TUNE_THREADS")
    if threads and "OMP_NUM_THREADS" not in os.environ:  # an explicit thread count wins
        import torch

        torch.set_num_threads(int(threads))
    try:
        work(TunePlan.from_json(argv[0]))
    except LayerwiseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
