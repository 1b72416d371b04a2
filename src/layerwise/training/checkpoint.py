"""Callbacks that persist progress into the run directory while training runs."""

from __future__ import annotations

from pathlib import Path

from .. import artifacts
from .callbacks import Callback


class MetricsWriter(Callback):
    """Rewrite metrics.csv (atomically) after every epoch, so a crashed run keeps its history."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)

    def on_epoch_end(self, trainer, epoch, logs):
        artifacts.write_metrics_csv(self.run_dir / "metrics.csv", trainer.history)
