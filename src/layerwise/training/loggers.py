"""Per-epoch metrics to the viewers people already use, as loop callbacks: TensorBoard event files
(`<run>/tensorboard/`, through torch.utils.tensorboard) and an MLflow tracking store.

Both packages are optional extras (`pip install 'layerwise[tensorboard]'` / `'layerwise[mlflow]'`);
`check_available` runs before the run directory exists, so a missing one costs nothing.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

from ..errors import LayerwiseError
from .callbacks import Callback

_PACKAGES = {"tensorboard": "tensorboard", "mlflow": "mlflow"}


def check_available(viewers: list[str]) -> None:
    for viewer in viewers:
        if importlib.util.find_spec(_PACKAGES[viewer]) is None:
            raise LayerwiseError(f"--log {viewer}: the {_PACKAGES[viewer]} package is not installed "
                                 f"(pip install 'layerwise[{viewer}]')")


def make_loggers(viewers: list[str], run_dir: Path, config: dict, mlflow_uri: str) -> list[Callback]:
    loggers: list[Callback] = []
    for viewer in dict.fromkeys(viewers):
        loggers.append(TensorBoardLog(run_dir) if viewer == "tensorboard" else MlflowLog(run_dir, config, mlflow_uri))
    return loggers


def _numbers(logs: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in logs.items()
            if k != "epoch" and isinstance(v, (int, float)) and not isinstance(v, bool)}


class TensorBoardLog(Callback):
    """One scalar series per metrics.csv column, step = epoch; `tensorboard --logdir runs/`
    shows every run side by side."""

    def __init__(self, run_dir: Path):
        self.log_dir = Path(run_dir) / "tensorboard"
        self.writer = None

    def on_train_begin(self, trainer) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(self.log_dir))

    def on_epoch_end(self, trainer, epoch, logs) -> None:
        for key, value in _numbers(logs).items():
            self.writer.add_scalar(key, value, epoch)

    def on_train_end(self, trainer, logs) -> None:
        if self.writer is not None:
            self.writer.close()


class MlflowLog(Callback):
    """An MLflow run named after the run directory in experiment 'layerwise': the config as
    params, the per-epoch metrics with step = epoch. Talks to the store through MlflowClient
    (no global 'active run' state)."""

    def __init__(self, run_dir: Path, config: dict, uri: str):
        self.run_dir, self.config, self.uri = Path(run_dir), config, uri
        self.client, self.run_id = None, None

    def on_train_begin(self, trainer) -> None:
        import logging

        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        logging.getLogger("mlflow").setLevel(logging.WARNING)  # no INFO lines about database set-up
        logging.getLogger("alembic").setLevel(logging.WARNING)
        self.client = MlflowClient(tracking_uri=self.uri)
        experiment = self.client.get_experiment_by_name("layerwise")
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment("layerwise")
        run = self.client.create_run(experiment_id, run_name=self.run_dir.name,
                                     tags={"layerwise.run_dir": str(self.run_dir.resolve())})
        self.run_id = run.info.run_id
        params = [Param(key, str(value)[:500]) for key, value in _flat(self.config)]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(self.run_id, params=params[start:start + 100])

    def on_epoch_end(self, trainer, epoch, logs) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, epoch) for k, v in _numbers(logs).items()])

    def on_train_end(self, trainer, logs) -> None:
        if self.run_id is not None:
            self.client.set_terminated(self.run_id)


def _flat(mapping: dict, prefix: str = ""):
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        elif value is not None:
            yield f"{prefix}{key}", value
