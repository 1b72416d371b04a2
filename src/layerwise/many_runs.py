"""`--repeat N`: N copies trained at once, written as N ordinary run directories plus a table."""

from __future__ import annotations

import copy
from pathlib import Path

from . import artifacts
from .errors import LayerwiseError
from .run import Run, resolve_device, run_in


def train_copies(config, data, repeat: int, quiet: bool, overwrite: bool, stream) -> list[Run]:
    from .training.many import ManyTrainer, check_repeatable, copy_config
    from .training.prepare import load_training_data, prepare

    check_repeatable(config)
    configs = [copy_config(config, i) for i in range(repeat)]
    prepared = prepare(configs[0], load_training_data(configs[0], data))
    device = resolve_device(config.training.device)
    many = ManyTrainer(configs, prepared, device)
    parent = artifacts.create_run_dir(config.out, f"{config.name or prepared.name}-x{repeat}", overwrite)
    if not quiet:
        print(f"device: {device}  data: {prepared.name}  training {repeat} copies at once  run: {parent}",
              file=stream, flush=True)
    artifacts.set_status(parent, "running")
    try:
        runs, rows = _fit_and_write(config, configs, prepared, device, many, parent, quiet, overwrite, stream)
    except BaseException as exc:  # the parent directory exists: it must not stay `running`
        state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        artifacts.set_status(parent, state, str(exc) if isinstance(exc, LayerwiseError) else f"{type(exc).__name__}: {exc}")
        raise
    artifacts.write_metrics_csv(parent / "comparison.csv", rows)
    artifacts.set_status(parent, "complete")
    if not quiet:
        _print_table(rows, stream)
    return runs


def _fit_and_write(config, configs, prepared, device, many, parent: Path, quiet, overwrite, stream):
    from .training.many import best_metric
    from .training.session import TrainingSession

    many.fit(config.training.epochs, quiet, stream)
    runs, rows = [], []
    for i, (copy_cfg, model, history, stopper) in enumerate(zip(configs, many.models, many.histories, many.stoppers)):
        copy_cfg.out = str(parent / f"copy-{i:02d}")
        session = TrainingSession(copy_cfg, prepared, device)
        session.adopt(model.state_dict(), history, stopper.best_epoch or len(history))
        run = run_in(artifacts.create_run_dir(copy_cfg.out, "copy", overwrite), copy_cfg, prepared, session, True, stream)
        runs.append(run)
        test = run.summary.get("test") or {}
        rows.append({"copy": i, "seed": copy_cfg.training.seed, "best_epoch": run.summary["best_epoch"],
                     f"best_{many.monitor}": best_metric(history, many.monitor),
                     **{k: v for k, v in test.items() if isinstance(v, float)}})
    return runs, rows


def _print_table(rows: list[dict], stream) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="copies (test metrics)")
    for key in rows[0]:
        table.add_column(key, justify="right")
    for row in rows:
        table.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row.values()])
    Console(file=stream, highlight=False).print(table)
