"""`--repeat N`: N copies trained at once through the one loop, written as N ordinary run
directories plus a comparison table."""

from __future__ import annotations

import time
from pathlib import Path

from . import artifacts
from .errors import LayerwiseError
from .run_writer import Run, write_finished


def train_copies(config, data, repeat: int, quiet: bool, overwrite: bool, stream, callbacks, device: str) -> list[Run]:
    from .resolve import Modes
    from .training.copies import copy_config
    from .training.prepare import load_training_data, prepare
    from .training.session import TrainingSession

    # resolve (in prepare) fills in the preset, no dropout by default, and refuses what couples copies
    prepared = prepare(config, load_training_data(config, data), modes=Modes(repeat=repeat))
    first = copy_config(config, 0)  # prepared with `config`: the same splits (split_seed = seed)
    session = TrainingSession(first, prepared, device, copies=repeat)
    for callback in callbacks:
        session.trainer.add_callback(callback)
    parent = artifacts.create_run_dir(config.out, f"{config.name or prepared.name}-x{repeat}", overwrite)
    if not quiet:
        print(f"device: {device}  data: {prepared.name}  training {repeat} copies at once  run: {parent}",
              file=stream, flush=True)
    artifacts.set_status(parent, "running")
    try:
        runs, rows = _fit_and_write(config, session, parent, quiet, overwrite, stream)
    except BaseException as exc:  # the parent directory exists: it must not stay `running`
        state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        artifacts.set_status(parent, state, str(exc) if isinstance(exc, LayerwiseError) else f"{type(exc).__name__}: {exc}")
        raise
    artifacts.write_metrics_csv(parent / artifacts.COMPARISON, rows)
    artifacts.set_status(parent, "complete")
    if not quiet:
        _print_table(rows, stream)
    return runs


def _fit_and_write(config, session, parent: Path, quiet: bool, overwrite: bool, stream):
    from .training.callbacks import lower_is_better
    from .training.copies import copy_config

    started = time.perf_counter()
    session.fit(None, quiet, stream)
    seconds = (time.perf_counter() - started) / session.copies
    monitor = session.early_stopping.monitor
    runs, rows = [], []
    for i in range(session.copies):
        copy_cfg = copy_config(config, i)
        copy_cfg.out = str(parent / f"copy-{i:02d}")
        model, history, best_epoch = session.member(i)
        summary = session.summarise(best_epoch, seconds, model, history, member=i)
        run_dir = artifacts.create_run_dir(copy_cfg.out, "copy", overwrite)
        runs.append(write_finished(run_dir, copy_cfg, session.prepared, session, model, history, summary))
        values = [row[monitor] for row in history if monitor in row]
        test = summary.get("test") or {}
        rows.append({"copy": i, "seed": copy_cfg.training.seed, "best_epoch": best_epoch,
                     f"best_{monitor}": (min if lower_is_better(monitor) else max)(values),
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
