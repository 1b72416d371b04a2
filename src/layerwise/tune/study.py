"""The worker loop: run trials until the study holds exactly N finished ones.

Finished means COMPLETE or PRUNED. A trial that was RUNNING when its process died is marked FAIL
(and so not counted) by Optuna's heartbeat on RDB storages, and at once by the dead-process check
here for workers on this machine (every trial records host:pid:start-time of its worker). Local
workers take a file lock in --out around "count, then start a trial", so K workers never start
more than N trials between them; the lock is released as soon as the trial exists.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
import warnings
from pathlib import Path

from ..errors import LayerwiseError
from .objective import run_trial, sampler_seed

FINISHED = ("COMPLETE", "PRUNED")
MAX_FAILURES_IN_A_ROW = 3
STRAY_AFTER = 60.0  # a RUNNING trial with no recorded worker is abandoned after this many seconds


def make_sampler(plan, number: int):
    import optuna

    return optuna.samplers.TPESampler(seed=sampler_seed(plan.seed, number), constant_liar=plan.workers > 1)


def make_pruner():
    """Median pruning after 5 trials; never in a trial's first 5 epochs (slow starters, such as a
    small learning rate, look bad in the first epochs and were pruned at epoch 3 with 2)."""
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    try:  # field 22 of /proc/PID/stat: start time, so a reused pid is not taken for the worker
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def _is_dead(worker: str) -> bool:
    host, _, rest = worker.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's worker: left to the heartbeat
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    status = Path(f"/proc/{pid}/stat")
    if status.exists():
        fields = status.read_text().rsplit(")", 1)[1].split()
        return fields[0] in ("Z", "X") or (started not in ("?", "") and fields[19] != started)
    return False


def fail_abandoned(study, storage) -> None:
    """Mark FAIL the RUNNING trials whose worker is gone (heartbeat-stale, or dead on this host)."""
    import optuna
    from optuna.trial import TrialState

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    now = time.time()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        started = trial.datetime_start.timestamp() if trial.datetime_start else now
        if (worker and _is_dead(worker)) or (not worker and now - started > STRAY_AFTER):
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                storage.set_trial_user_attr(trial._trial_id, "fail_reason", "its worker process died")
                storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def budget(study, storage, trials: int) -> str:
    """'done' when N trials finished, 'wait' while the running ones may still fill the budget,
    'go' when another trial is needed."""
    fail_abandoned(study, storage)
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    finished = sum(state in FINISHED for state in states)
    if finished >= trials:
        return "done"
    if finished + states.count("RUNNING") + states.count("WAITING") >= trials:
        return "wait"
    return "go"


class AskLock:
    """An exclusive lock on a file shared by this study's local workers (released on process death)."""

    def __init__(self, path: Path):
        self.path, self.handle = path, None

    def acquire(self) -> None:
        import fcntl

        self.handle = open(self.path, "a+")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing drops the flock
            self.handle = None


def work(plan, stream=None) -> None:
    """One worker: start trials while the study needs them, then return."""
    import optuna

    from ..run import as_config
    from ..training.prepare import load_training_data
    from .storage import open_storage

    stream = stream or sys.stdout
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(plan.storage)
    study = optuna.load_study(study_name=plan.study, storage=storage, pruner=make_pruner())
    dataset = load_training_data(as_config(plan.base_raw))
    lock = AskLock(Path(plan.out) / ".tune.lock")
    deadline = time.monotonic() + plan.timeout if plan.timeout else None
    failures, last_error = 0, ""
    while deadline is None or time.monotonic() < deadline:
        lock.acquire()
        try:
            state = budget(study, storage, plan.trials)
            if state == "go":
                outcome = {}
                study.optimize(_objective(plan, dataset, lock, outcome), n_trials=1, catch=(LayerwiseError,))
        finally:
            lock.release()
        if state == "done":
            return
        if state == "wait":
            time.sleep(1.0)
            continue
        if outcome.get("error"):
            failures, last_error = failures + 1, outcome["error"]
            if failures >= MAX_FAILURES_IN_A_ROW:
                raise LayerwiseError(f"{failures} trials in a row failed; the last: {last_error}")
        else:
            failures = 0
        if not plan.quiet:
            _print_trial(study, outcome, plan, stream)


def _objective(plan, dataset, lock: AskLock, outcome: dict):
    import optuna

    def objective(trial):
        trial.set_user_attr("worker", worker_id())
        lock.release()  # the trial exists (RUNNING): other workers may count it and start theirs
        trial.study.sampler = make_sampler(plan, trial.number)
        outcome["number"], started = trial.number, time.perf_counter()
        try:
            return run_trial(plan, trial, dataset)
        except optuna.TrialPruned:
            raise
        except LayerwiseError as exc:
            outcome["error"] = str(exc)
            raise
        finally:
            outcome["seconds"] = time.perf_counter() - started

    return objective


def _print_trial(study, outcome: dict, plan, stream) -> None:
    if "number" not in outcome:
        return
    trial = study.get_trials(deepcopy=False)[outcome["number"]]
    params = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
    value = "" if trial.value is None else f"{plan.metric} {trial.value:.4f}  "
    reason = f"  ({outcome['error']})" if outcome.get("error") else ""
    print(f"trial {trial.number} {trial.state.name.lower()}  {value}{params}  {outcome['seconds']:.1f}s{reason}",
          file=stream, flush=True)
