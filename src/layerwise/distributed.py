"""Several processes, one training run: PyTorch DistributedDataParallel under torchrun.

Two ways in, one worker code path:
- `layerwise train ... --nproc-per-node N` calls `launch`, which starts N copies of
  `python -m layerwise train ...` through torch's elastic launcher (the machinery behind torchrun);
- `torchrun ... -m layerwise train ...` starts them itself.
Either way each worker finds RANK/WORLD_SIZE/LOCAL_RANK in its environment and `join` puts it in
the process group: NCCL with one GPU per local rank on CUDA, gloo on the CPU (cores/N threads each).
Rank 0 is the only writer of the run directory; every rank trains, evaluates and decides alike.

This module is imported by the CLI before torch is: torch is imported inside functions only.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Optional

from .errors import LayerwiseError

# A collective that waits longer than this for a peer fails (a hung rank, not a slow one: the
# first collective also waits for every rank to load and prepare its data).
COLLECTIVE_TIMEOUT = timedelta(minutes=30)
PARENT_POLL_SECONDS = 0.05  # how often a worker checks that its launcher is still alive (a getppid call)
EXIT_GRACE_SECONDS = 10.0  # after the launcher dies: time to mark the run failed, then hard exit


class WorkerStopped(LayerwiseError):
    """This worker was told to stop (SIGTERM): a peer failed or the launcher went away. The
    launcher reports the cause in one line, so the worker itself prints nothing."""

    quiet = True


def worker_env() -> Optional[dict[str, int]]:
    """RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE when started by torchrun/elastic, else None."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    world = int(os.environ["WORLD_SIZE"])
    return {"rank": int(os.environ["RANK"]), "world_size": world,
            "local_rank": int(os.environ.get("LOCAL_RANK", 0)),
            "local_world_size": int(os.environ.get("LOCAL_WORLD_SIZE", world))}


def is_silent_rank() -> bool:
    """Ranks other than 0 keep user-facing output (progress, error lines) to themselves: every
    rank reads the same config and data, so rank 0 reports the same mistake once."""
    env = worker_env()
    return env is not None and env["rank"] != 0


@dataclass
class Group:
    """This process's place in a DDP job, and the few collectives the training loop needs."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    backend: str  # "nccl" | "gloo"
    device: str  # "cuda:<local_rank>" | "cpu"

    @property
    def is_writer(self) -> bool:
        return self.rank == 0

    def describe(self) -> dict[str, Any]:
        return {"world_size": self.world_size, "backend": self.backend}

    def sum(self, tensor):
        """Element-wise sum over ranks (a new tensor; the input is left alone)."""
        import torch.distributed as dist

        total = tensor.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    def share(self, value: Any) -> Any:
        """Rank 0's `value`, on every rank (small Python objects and CPU tensors)."""
        import torch.distributed as dist

        box = [value if self.is_writer else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's `value`, in rank order, on every rank."""
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out

    def predict(self, model, X, rows=None, held: bool = False):
        """The network's outputs for all of X (or its `rows`), computed a contiguous slice per rank
        and gathered in order: each row once, and every rank holds the same full result.

        held: X holds only this rank's rows (a large source read per shard), consecutive in rank
        order; each rank predicts its own and the results are gathered in rank order."""
        import torch

        from .training.loop import predict_outputs

        if held:
            return self.concat(predict_outputs(model, X, rows))
        count = len(X) if rows is None else len(rows)
        chunk = -(-count // self.world_size)
        start, stop = min(self.rank * chunk, count), min((self.rank + 1) * chunk, count)
        mine = torch.arange(start, stop, device=X.device) if rows is None else rows[start:stop]
        return self.concat(predict_outputs(model, X, mine))  # (stop - start, k) each

    def concat(self, part):
        """Every rank's `part` (a tensor; lengths may differ), concatenated in rank order."""
        import torch
        import torch.distributed as dist

        lengths = [torch.zeros(1, dtype=torch.int64, device=part.device) for _ in range(self.world_size)]
        dist.all_gather(lengths, torch.tensor([len(part)], dtype=torch.int64, device=part.device))
        lengths = [int(n) for n in torch.cat(lengths).tolist()]
        padded = part.new_zeros((max(lengths),) + tuple(part.shape[1:]))
        padded[:len(part)] = part
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded)
        return torch.cat([chunk[:n] for chunk, n in zip(parts, lengths)])

    def peer_failure(self, exc: BaseException) -> LayerwiseError:
        cause = str(exc).splitlines()[0].split("] ")[-1].split(". ")[0][:100]  # gloo: "[file:line] Read error ..."
        return WorkerStopped(f"rank {self.rank}: a collective with the other {self.world_size - 1} "
                             f"process(es) failed, so a peer probably died ({cause})")


_group: Optional[Group] = None
_previous_sigterm = None  # the SIGTERM handler `join` replaced, put back when the command is over


def current() -> Optional[Group]:
    return _group


def join(requested_device: str) -> Group:
    """Join the process group described by the environment (once per process)."""
    global _group
    if _group is not None:
        return _group
    import torch
    import torch.distributed as dist

    env = worker_env()
    if env is None:
        raise LayerwiseError("not started by torchrun: RANK and WORLD_SIZE are not set")
    use_cuda = requested_device.startswith("cuda") or (requested_device == "auto" and torch.cuda.is_available())
    if requested_device == "mps":
        raise LayerwiseError("--device mps: several processes need CUDA (NCCL) or the CPU (gloo)")
    if use_cuda:
        if not torch.cuda.is_available():
            raise LayerwiseError("--device cuda: no CUDA device is available (try --device cpu)")
        if env["local_rank"] >= torch.cuda.device_count():
            raise LayerwiseError(f"local rank {env['local_rank']} has no GPU: this machine has "
                                 f"{torch.cuda.device_count()}; start at most that many processes per node")
        torch.cuda.set_device(env["local_rank"])
        backend, device = "nccl", f"cuda:{env['local_rank']}"
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        torch.set_num_threads(max(1, cores // env["local_world_size"]))
        backend, device = "gloo", "cpu"
    _stop_on_sigterm()
    _watch_parent()
    dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
    # Every way out leaves the group while the interpreter is whole: a process that exits with gloo's
    # threads still running (an error path that never reached `leave`) aborts in C++ at shutdown
    # ("terminate called without an active exception"), which hides its own one-line error.
    atexit.register(leave)
    _group = Group(env["rank"], env["world_size"], env["local_rank"], env["local_world_size"], backend, device)
    return _group


def finish() -> None:
    """Leave the process group after a run that went well, all ranks together: rank 0 may still
    be writing the run directory (report, plots) when the others are done, and a rank that tears
    gloo down while a peer is mid-work can abort at exit ("terminate called without an active
    exception"), which fails the whole launch. A failing rank never gets here: its exit breaks
    the barrier for the others (and the launcher stops them)."""
    if _group is None:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
    leave()


def leave() -> None:
    """Leave the process group after a run that went well (every collective is done)."""
    global _group
    if _group is None:
        return
    import torch.distributed as dist

    stop_catching_sigterm()
    if dist.is_initialized():
        dist.destroy_process_group()
    _group = None


def stop_catching_sigterm() -> None:
    """The command is over (done or failed): a SIGTERM from the agent may now end the process
    plainly, instead of raising inside interpreter shutdown."""
    global _previous_sigterm
    if _previous_sigterm is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _previous_sigterm)
        _previous_sigterm = None


def hold_sigterm() -> None:
    """The run is failing and about to record it: a SIGTERM from the agent (which stops the
    survivors when a worker dies) must not interrupt writing status.json, or the run would stay
    `running` (seen under load in CI). The process exits by itself right after."""
    if _previous_sigterm is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _stop_on_sigterm() -> None:
    # The elastic agent sends SIGTERM to the surviving workers when one dies; raising here lets
    # rank 0 mark the run failed (the loop's except clauses) instead of leaving it `running`.
    def stop(signum, frame):
        raise WorkerStopped("stopped by the launcher: another worker failed or the launcher was stopped")

    global _previous_sigterm
    if threading.current_thread() is threading.main_thread():
        _previous_sigterm = signal.signal(signal.SIGTERM, stop)


def _watch_parent() -> None:
    """If the launcher is killed (kill -9 leaves no chance to stop us), stop too: otherwise the
    orphaned workers would go on writing a run directory that `layerwise resume` is about to use."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(EXIT_GRACE_SECONDS)
        os._exit(1)  # still here (stuck in a collective): leave without cleanup

    threading.Thread(target=watch, name="layerwise-parent-watch", daemon=True).start()


# ---- the launcher --------------------------------------------------------------------------------
def launch(nproc_per_node: int, command: list[str]) -> None:
    """Run `python -m layerwise <command>` in `nproc_per_node` local workers (one node), through
    torch's elastic launcher, and turn a failure into one line (exit 2)."""
    import tempfile

    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc_per_node < 1:
        raise LayerwiseError(f"--nproc-per-node {nproc_per_node}: need at least 1 process")
    _quiet_elastic_logs()
    # The agent keeps the workers' error files in a log folder: ours, removed afterwards.
    with tempfile.TemporaryDirectory(prefix="layerwise-elastic-") as logs:
        config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc_per_node,
                              run_id=f"layerwise-{os.getpid()}", rdzv_backend="c10d",
                              rdzv_endpoint="localhost:0", max_restarts=0, monitor_interval=0.1,
                              logs_specs=DefaultLogsSpecs(log_dir=logs))
        try:
            elastic_launch(config, sys.executable)("-m", "layerwise", *command)
        except ChildFailedError as exc:
            raise _launch_failure(exc) from None


def _launch_failure(exc) -> LayerwiseError:
    # Exit code 2 is a user error that rank 0 printed, or a worker that stopped because a peer
    # failed; SIGTERM is the agent stopping the survivors. The root cause is among the others.
    failures = sorted(exc.failures.items(), key=lambda item: item[1].timestamp)
    causes = [(rank, f) for rank, f in failures if f.exitcode not in (2, -signal.SIGTERM)]
    if not causes:
        return _AlreadyReported("")
    rank, failure = causes[0]
    how = (f"was killed by {signal.Signals(-failure.exitcode).name}" if failure.exitcode < 0
           else f"exited with code {failure.exitcode}")
    return LayerwiseError(f"training worker rank {rank} {how}; the other workers were stopped and the run "
                          f"is marked failed (continue it with `layerwise resume RUN_DIR`)")


class _AlreadyReported(LayerwiseError):
    quiet = True


def _quiet_elastic_logs() -> None:
    # The agent logs every start and stop at INFO/WARNING; a failure is reported by us, in one line.
    import logging

    # torch gives each of its modules a logger with its own level, so set them one by one.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("torch.distributed.elastic", "torch.distributed.launcher")):
            logging.getLogger(name).setLevel(logging.CRITICAL)
