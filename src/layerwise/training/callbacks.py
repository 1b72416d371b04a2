"""Callbacks: the loop's only extension points besides `Trainer.train_step`.

Five hooks, each receiving the trainer and the one `logs` dict of the epoch (as in Keras and
skorch). `on_step_end` is called only for callbacks that override it, so the per-step fast path
stays free of Python calls in the common case.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Optional


class Callback:
    def on_train_begin(self, trainer) -> None: ...
    def on_epoch_begin(self, trainer, epoch: int) -> None: ...
    def on_step_end(self, trainer, epoch: int, step: int) -> None: ...
    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_train_end(self, trainer, logs: dict[str, Any]) -> None: ...


def lower_is_better(metric: str) -> bool:
    return not any(word in metric for word in ("accuracy", "f1", "r2", "precision", "recall"))


DEFAULT_MONITOR = {"multiclass": "val_accuracy", "binary": "val_accuracy", "regression": "val_r2"}


def resolve_monitor(spec, task: str, has_val: bool = True) -> str:
    """The metric that picks the best epoch: training.monitor, else early_stopping.monitor, else
    the task's validation score (accuracy / R²: what the user will judge the model by; the loss
    keeps falling on rows the model already gets right, or is skewed by a few corrupt rows)."""
    if not has_val:
        return "train_loss"
    return spec.monitor or spec.early_stopping.monitor or DEFAULT_MONITOR[task]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs; restore the best weights."""

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 enabled: bool = True):
        self.monitor, self.patience, self.min_delta, self.enabled = monitor, patience, min_delta, enabled
        self.sign = 1.0 if lower_is_better(monitor) else -1.0
        self.best: Optional[float] = None
        self.best_epoch = 0
        self.best_state: Optional[dict] = None
        self.wait = 0
        self.stopped_epoch = 0  # the epoch after which patience ran out; 0 while training on

    def on_epoch_end(self, trainer, epoch, logs):
        value = logs.get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        if self.best is None or self.sign * (value - self.best) < -self.min_delta or self._tie_won(value, logs):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_loss = logs.get("val_loss")
            self._keep_best(trainer.model)
        else:
            self.wait += 1
            if self.enabled and self.wait >= self.patience:
                trainer.stop_training = True
                self.stopped_epoch = epoch

    def _tie_won(self, value: float, logs: dict) -> bool:
        """Accuracy takes few values on a small validation set: an epoch that ties the best
        score with a lower validation loss is the better one."""
        loss, best_loss = logs.get("val_loss"), getattr(self, "best_loss", None)
        return (value == self.best and self.monitor != "val_loss" and loss is not None
                and best_loss is not None and loss < best_loss)

    def _keep_best(self, model) -> None:
        live = model.state_dict()
        if self.best_state is None or self.best_state.keys() != live.keys():
            self.best_state = {k: v.detach().clone() for k, v in live.items()}
        else:  # one fused copy into the tensors kept from last time (tiny nets improve every epoch)
            import torch

            torch._foreach_copy_([self.best_state[k] for k in live], [v.detach() for v in live.values()])

    def on_train_end(self, trainer, logs):
        if self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)
        logs["best_epoch"] = self.best_epoch

    def outcome(self, epochs_run: int) -> str:
        """What happened, in one line: 'stopped early at epoch 57 (no improvement in val_accuracy
        for 10 epochs); restored epoch 47 (val_accuracy 0.8381)'."""
        if self.best_state is None:
            return f"trained {epochs_run} epochs; no finite {self.monitor} to pick a best epoch from"
        restored = f"restored epoch {self.best_epoch} ({self.monitor} {self.best:.4f})"
        if self.stopped_epoch:
            return (f"stopped early at epoch {self.stopped_epoch} (no improvement in {self.monitor} "
                    f"for {self.patience} epochs); {restored}")
        if self.best_epoch == epochs_run:
            return f"trained {epochs_run} epochs; kept the last, which had the best {self.monitor} ({self.best:.4f})"
        return f"trained {epochs_run} epochs; {restored}"

    # -- resume support: the full state, as plain values and tensors
    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_state": self.best_state, "stopped_epoch": self.stopped_epoch,
                "best_loss": getattr(self, "best_loss", None)}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_state = state["best_state"]
        self.stopped_epoch = state.get("stopped_epoch", 0)
        self.best_loss = state.get("best_loss")


def format_epoch(epoch: int, epochs: int, logs: dict[str, Any]) -> str:
    """'epoch 3/10  train_loss 0.4123  val_loss 0.4410  val_accuracy 0.8812  1.2s'"""
    parts = [f"epoch {epoch}/{epochs}"]
    for key, value in logs.items():
        if key in ("epoch", "lr", "epoch_seconds") or not isinstance(value, float):
            continue
        parts.append(f"{key} {value:.4f}")
    parts.append(f"{logs.get('epoch_seconds', 0.0):.1f}s")
    return "  ".join(parts)


class Progress(Callback):
    """A rich progress bar over epochs in a terminal; one plain line per epoch otherwise."""

    def __init__(self, epochs: int, stream=None):
        self.epochs = epochs
        self.stream = stream or sys.stdout
        self.bar = None

    def on_train_begin(self, trainer):
        if self.stream.isatty():
            from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeRemainingColumn

            self.bar = RichProgress(TextColumn("[bold]epoch {task.completed}/{task.total}"), BarColumn(),
                                    TextColumn("{task.fields[metrics]}"), TimeRemainingColumn(), transient=False)
            self.bar.start()
            self.task = self.bar.add_task("train", total=self.epochs, metrics="")

    def on_epoch_end(self, trainer, epoch, logs):
        line = format_epoch(epoch, self.epochs, logs)
        if self.bar is not None:
            self.bar.update(self.task, completed=epoch, metrics=line.split("  ", 1)[1])
        else:
            print(line, file=self.stream, flush=True)

    def on_train_end(self, trainer, logs):
        if self.bar is not None:
            self.bar.stop()
