"""Training an ensemble (`training.ensemble: K`): K members at once on the `--repeat` engine,
written as one run directory holding one model (ensemble.py: the saved module and its average).
Apart from ensemble.py so that loading a model (predictor.py) never imports the run writer."""

from __future__ import annotations

import sys
import time

from . import artifacts
from .ensemble import ensemble_module


def train_ensemble(config, data, quiet: bool, overwrite: bool, stream, callbacks, device: str):
    """Train `config.training.ensemble` members at once; write one run directory, one model."""
    from .run_writer import Run, _run_status, resolved_config, write_results
    from .resolve import check_repeatable
    from .training.copies import copy_config
    from .training.prepare import load_training_data, prepare
    from .training.session import TrainingSession

    size = config.training.ensemble
    if config.preset == "auto" and "dropout" not in config.network.model_fields_set:
        config.network.dropout = 0.0  # members share one vmapped step, which has no dropout
    prepared = prepare(config, load_training_data(config, data))  # applies the preset to config
    check_repeatable(config, "training.ensemble")
    session = TrainingSession(copy_config(config, 0), prepared, device, copies=size)
    for callback in callbacks:
        session.trainer.add_callback(callback)
    run_dir = artifacts.create_run_dir(config.out, config.name or prepared.name, overwrite)
    stream = stream or sys.stdout
    if not quiet:
        print(f"device: {device}  data: {prepared.name} ({len(prepared.train_idx)} train rows)  "
              f"task: {prepared.task}  ensemble of {size}  run: {run_dir}", file=stream, flush=True)
    with _run_status(run_dir):
        resolved = resolved_config(config, prepared, session)
        resolved["resolved"]["threads"] = session.threads
        artifacts.write_yaml(run_dir / artifacts.CONFIG, resolved)
        started = time.perf_counter()
        session.fit(None, quiet, stream)  # members train every epoch; each restores its own best
        seconds = time.perf_counter() - started
        members = [session.member(i) for i in range(size)]
        model = ensemble_module([member for member, _, _ in members], prepared.task)
        history = [{k: v for k, v in row.items() if k != "members"} for row in session.trainer.history]
        best_epochs = [best for _, _, best in members]
        summary = session.summarise(max(best_epochs), seconds, model, history)
        summary.update({"ensemble": size, "member_best_epochs": best_epochs})
        predictor = write_results(run_dir, prepared, model, history, summary, resolved)
    return Run(run_dir, config, history, summary, predictor)
