"""Training an ensemble (`training.ensemble: K`): K members at once, as one model (ensemble.py:
the saved modules and their average), into a run directory or in memory. Apart from ensemble.py
so that loading a model (predictor.py) never imports the run writer."""

from __future__ import annotations

import sys
import time

from . import artifacts


def train_ensemble(config, data, quiet: bool, overwrite: bool, stream, callbacks, device: str):
    """Train `config.training.ensemble` members at once; write one run directory, one model."""
    from .run_writer import Run, _run_status, resolved_config, write_results

    prepared, session = ensemble_session(config, data, device, callbacks)
    run_dir = artifacts.create_run_dir(config.out, config.name or prepared.name, overwrite)
    stream = stream or sys.stdout
    spec = config.training
    if not quiet:
        print(f"device: {device}  data: {prepared.name} ({len(prepared.train_idx)} train rows)  "
              f"task: {prepared.task}  ensemble of {spec.ensemble} ({spec.ensemble_kind})  run: {run_dir}",
              file=stream, flush=True)
    if spec.log:  # session.fit gets no run directory (an ensemble keeps no checkpoints), so not its viewers either
        from .training.loggers import make_loggers

        for logger in make_loggers(spec.log, run_dir, session.config.to_dict(), spec.mlflow_uri):
            session.trainer.add_callback(logger)
    with _run_status(run_dir):
        resolved = resolved_config(config, prepared, session)
        resolved["resolved"]["threads"] = session.threads
        artifacts.write_yaml(run_dir / artifacts.CONFIG, resolved)
        model, history, summary = fit_ensemble(session, quiet, stream)
        predictor = write_results(run_dir, prepared, model, history, summary, resolved)
    return Run(run_dir, config, history, summary, predictor)


def fit_in_memory(config, data, quiet: bool, stream, callbacks, device: str):
    """`layerwise.fit` of an ensemble: the same training, nothing written (`run.dir` is None)."""
    from .run_writer import Run, _predictor

    prepared, session = ensemble_session(config, data, device, callbacks)
    model, history, summary = fit_ensemble(session, quiet, stream or sys.stdout)
    return Run(None, config, history, summary, _predictor(model, prepared))


def ensemble_session(config, data, device: str, callbacks=()):
    """(prepared data, the training session of the K members); everything that can fail on the
    user's settings or data fails here, before anything is written."""
    from .training.prepare import load_training_data, prepare
    from .training.session import TrainingSession

    # resolve (in prepare) fills in the preset and, for independent members (one vmapped step),
    # no dropout by default, and refuses what would couple them
    prepared = prepare(config, load_training_data(config, data))
    session = TrainingSession(config, prepared, device, ensemble=config.training.ensemble)
    for callback in callbacks:
        session.trainer.add_callback(callback)
    return prepared, session


def fit_ensemble(session, quiet: bool, stream):
    """Train; the ensemble stops early and restores its best epoch as one model (training/members.py).
    Returns (the module to save, history, summary)."""
    from .ensemble import ensemble_module
    from .model import build_model

    started = time.perf_counter()
    history, best_epoch = session.fit(None, quiet, stream)
    seconds = time.perf_counter() - started
    spec, model = session.config.training, session.model
    best_epochs = session.early_stopping.best_epochs
    if spec.ensemble_kind == "bagging":  # each member its own best epoch; metrics.csv keeps the ensemble's rows
        history = [{k: v for k, v in row.items() if k != "members"} for row in history]
        best_epoch = max(best_epochs)
    if spec.stacked_members():  # the stacked copies as K networks of their own
        members = []
        for index in range(spec.ensemble):
            member = build_model(session.prepared.arch)
            member.load_state_dict(model.member_state(index))
            members.append(member.to(session.device))
        model = ensemble_module(members, session.prepared.task)
    summary = session.summarise(best_epoch, seconds, model, history)
    summary.update({"ensemble": spec.ensemble, "ensemble_kind": spec.ensemble_kind})
    if spec.ensemble_kind == "bagging":
        summary["best_epochs"] = best_epochs
    return model, history, summary
