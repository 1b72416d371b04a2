"""`layerwise.train(config) -> Run`: data -> preprocessing -> tensors -> loop -> run directory.

The order matters for the "never half-written" promise: everything that can fail because of the
user's data or config happens before the run directory is created; once it exists, its
status.json says `running` until the last artifact is in place and `complete` after.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional, Union

from . import artifacts
from .errors import LayerwiseError
from .resolve import Modes, check_modes
from .run_writer import Run, _predictor, run_in  # noqa: F401  (Run: part of the API)
from .spec import RunConfig


def as_config(config: Union[RunConfig, dict, str, Path, None], overrides=()) -> RunConfig:
    if isinstance(config, RunConfig):
        return config
    if config is None:
        config = {}
    if isinstance(config, (str, Path)):
        return RunConfig.from_yaml(config, list(overrides))
    from .spec import apply_overrides

    raw = dict(config)
    apply_overrides(raw, overrides)
    return RunConfig.from_dict(raw)


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise LayerwiseError("--device cuda: no CUDA device is available (try --device auto)")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise LayerwiseError("--device mps: Apple MPS is not available (try --device auto)")
    return requested


def train(config=None, data=None, out: Optional[str] = None, quiet: bool = False,
          overwrite: bool = False, overrides=(), stream=None, sample_weight=None, repeat: int = 1,
          callbacks=()):
    """Train a network as `config` says and write its run directory.

    config: a RunConfig, a dict shaped like the YAML, or a path to a YAML file.
    data:   optional in-memory data, (X, y) or (X, y, X_test, y_test), instead of data.source.
    repeat: train this many copies at once (seeds seed, seed+1, ...); returns a list of Runs.
    callbacks: `layerwise.training.callbacks.Callback` objects added to the loop.
    """
    from .training.prepare import load_training_data, prepare
    from .training.session import TrainingSession

    config = as_config(config, overrides)
    if out is not None:
        config.out = str(out)
    stream = stream or sys.stdout
    modes = Modes(repeat=repeat, processes=_world_size(), sample_weight=sample_weight is not None)
    check_modes(config, modes)  # resolve's first step, before any data is read or process group joined
    data = _preset_ensemble(config, data, modes)
    if config.training.ensemble > 1:
        from .ensemble_run import train_ensemble

        return train_ensemble(config, data, quiet, overwrite, stream, callbacks, resolve_device(config.training.device))
    if repeat > 1:
        from .many_runs import train_copies

        return train_copies(config, data, repeat, quiet, overwrite, stream, callbacks,
                            resolve_device(config.training.device))
    group = _join_group(config)
    dataset = load_training_data(config, data)
    prepared = prepare(config, dataset, sample_weight, modes=modes)
    device = group.device if group is not None else resolve_device(config.training.device)
    session = TrainingSession(config, prepared, device, group)  # builds the model: may still raise
    for callback in callbacks:
        session.trainer.add_callback(callback)
    if group is not None and not group.is_writer:
        return follow(session)
    run_dir = artifacts.create_run_dir(config.out, config.name or prepared.name, overwrite)
    if not quiet:
        processes = f"  processes: {group.world_size} ({group.backend})" if group is not None else ""
        print(f"device: {device}  data: {prepared.name} ({len(prepared.train_idx)} train rows)  "
              f"task: {prepared.task}{processes}  run: {run_dir}", file=stream, flush=True)
    return _left(run_in(run_dir, config, prepared, session, quiet, stream))


def _preset_ensemble(config: RunConfig, data, modes: Modes):
    """preset auto trains small tables as a bagged ensemble (recipe.auto_members). The ensemble
    trains on its own path, so its size is chosen here, from the data's row count, before the
    paths part; returns the data, loaded if it had to be read for that."""
    from .recipe import auto_members
    from .resolve import may_bag
    from .training.prepare import load_training_data

    if not may_bag(config, modes):
        return data
    dataset = load_training_data(config, data)
    members = auto_members(config, dataset)
    if members > 1:
        config.training.ensemble, config.training.ensemble_kind = members, "bagging"
    return dataset


def _world_size():
    """The DDP world size when torchrun (or `--nproc-per-node`) started this process, else None."""
    from . import distributed

    env = distributed.worker_env()
    return None if env is None else env["world_size"]


def _join_group(config: RunConfig):
    """This process's DDP group when torchrun (or `--nproc-per-node`) started it, else None."""
    from . import distributed

    if distributed.worker_env() is None:
        return None
    group = distributed.join(config.training.device)
    artifacts.set_writer(group.is_writer)  # rank 0 writes the run directory; the others only train
    return group


def follow(session) -> None:
    """A DDP rank other than 0: train and evaluate in step with rank 0, which writes everything."""
    history, best_epoch = session.fit(None, True, sys.stdout)
    session.summarise(best_epoch, 0.0)  # its collectives (sharded evaluation) need every rank
    return _left(None)


def _left(result):
    """A DDP rank that finished its run leaves the process group with the others (no-op in one process)."""
    from .distributed import finish

    finish()
    return result


def fit(config=None, data=None, sample_weight=None, quiet: bool = True, overrides=(), stream=None,
        callbacks=(), rows=None) -> Run:
    """Train in memory and write nothing (`run.dir` is None): for the scikit-learn estimators,
    sweeps and notebooks. Same data path, loop and defaults as `train`.
    rows: optional (train_idx, val_idx, test_idx) replacing the config's splits (k-fold CV)."""
    from .training.prepare import load_training_data, prepare
    from .training.session import TrainingSession

    config = as_config(config, overrides)
    modes = Modes(in_memory=True, sample_weight=sample_weight is not None, chosen_rows=rows is not None)
    check_modes(config, modes)  # before the data is read
    data = _preset_ensemble(config, data, modes)
    if config.training.ensemble > 1:
        from .ensemble_run import fit_in_memory

        return fit_in_memory(config, data, quiet, stream, callbacks, resolve_device(config.training.device))
    prepared = prepare(config, load_training_data(config, data), sample_weight, rows, modes=modes)
    session = TrainingSession(config, prepared, resolve_device(config.training.device))
    for callback in callbacks:
        session.trainer.add_callback(callback)
    started = time.perf_counter()
    history, best_epoch = session.fit(None, quiet, stream or sys.stdout)
    summary = session.summarise(best_epoch, time.perf_counter() - started)
    return Run(None, config, history, summary, _predictor(session.model, prepared))


def resume(run_dir, data=None, quiet: bool = False, stream=None) -> Run:
    """Continue an interrupted or crashed run from its last checkpoint, in its own directory.

    On the CPU the result is bit-identical to a run that was never interrupted (weights,
    metrics.csv apart from the wall-time column, predictions)."""
    from .spec import load_yaml
    from .training.prepare import load_training_data, prepare
    from .training.session import TrainingSession

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise LayerwiseError(f"{run_dir}: run directory not found")
    status = artifacts.read_status(run_dir)
    state = status.get("state")
    if state == "complete":
        raise LayerwiseError(f"{run_dir}: run is already complete; nothing to resume")
    if state == "running":  # its process is alive (a dead one reads as crashed)
        raise LayerwiseError(f"{run_dir}: run is still running (process {status.get('pid')} on "
                             f"{status.get('host')}); wait for it or stop it first")
    raw = load_yaml(run_dir / artifacts.CONFIG)
    config = RunConfig.from_dict(raw, where=str(run_dir / artifacts.CONFIG))
    config.out = str(run_dir)
    modes = Modes(processes=_world_size(), resume_from=str(run_dir))
    check_modes(config, modes)
    group = _join_group(config)
    trained_by = (raw.get("resolved") or {}).get("world_size", 1)
    if (group.world_size if group is not None else 1) != trained_by:
        raise LayerwiseError(f"{run_dir}: trained by {trained_by} process(es); resume it with as many "
                             f"(`layerwise resume` restarts them on one machine; torchrun for several)")
    prepared = prepare(config, load_training_data(config, data), modes=modes)
    device = group.device if group is not None else resolve_device(config.training.device)
    session = TrainingSession(config, prepared, device, group)
    session.restore(run_dir)
    if group is not None and not group.is_writer:
        return follow(session)
    stream = stream or sys.stdout
    if not quiet:
        epoch, step = session.start
        print(f"resuming {run_dir} at epoch {epoch}" + (f", step {step}" if step else ""), file=stream, flush=True)
    return _left(run_in(run_dir, config, prepared, session, quiet, stream))


def trained_by(run_dir) -> int:
    """How many processes trained the run in `run_dir` (its config.yaml; 1 when unknown)."""
    from .spec import load_yaml

    path = Path(run_dir) / artifacts.CONFIG
    if not path.is_file():
        return 1
    return int(((load_yaml(path) or {}).get("resolved") or {}).get("world_size") or 1)
