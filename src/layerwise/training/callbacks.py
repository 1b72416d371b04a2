"""Callbacks: how users extend the loop without touching it (the other seams are in loop.py).

Five hooks, each receiving the trainer; `on_epoch_end` gets the epoch's one `logs` dict (the row
the History records, as in Keras and skorch) and `on_train_end` the last epoch's. A callback
stops training by setting `trainer.stop_training`. `on_step_end` is called only for callbacks
that override it, so the per-step fast path stays free of Python calls in the common case.
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
    """Stop when `monitor` has not improved for `patience` epochs; restore the best weights.

    For a group of members (`--repeat` copies: logs carry a "members" list) each member keeps its
    own best epoch and weights (its slice of the stacked tensors); the group stops when none of
    them has improved for `patience` epochs."""

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 enabled: bool = True):
        self.monitor, self.patience, self.min_delta, self.enabled = monitor, patience, min_delta, enabled
        self.sign = 1.0 if lower_is_better(monitor) else -1.0
        self.best: Optional[float] = None
        self.best_epoch = 0
        self.best_state: Optional[dict] = None
        self.wait = 0
        self.stopped_epoch = 0  # the epoch after which patience ran out; 0 while training on
        self.best_loss: Optional[float] = None  # val_loss at the best epoch (breaks ties)
        self.members: list[dict] = []  # per member: {"best", "best_epoch", "wait", "best_loss"} (groups)

    def _improved(self, value: float, best: Optional[float], loss: Optional[float] = None,
                  best_loss: Optional[float] = None) -> bool:
        if best is None or self.sign * (value - best) < -self.min_delta:
            return True
        # Accuracy takes few values on a small validation set: an epoch that ties the best
        # score with a lower validation loss is the better one.
        return (value == best and self.monitor != "val_loss" and loss is not None
                and best_loss is not None and loss < best_loss)

    def on_epoch_end(self, trainer, epoch, logs):
        if "members" in logs:
            return self._members_epoch_end(trainer, epoch, logs["members"])
        value = logs.get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        if self._improved(value, self.best, logs.get("val_loss"), self.best_loss):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_loss = logs.get("val_loss")
            self._keep_best(trainer.model)
        else:
            self.wait += 1
            if self.enabled and self.wait >= self.patience:
                trainer.stop_training = True
                self.stopped_epoch = epoch

    def _members_epoch_end(self, trainer, epoch: int, rows: list[dict]) -> None:
        if not self.members:
            self.members = [{"best": None, "best_epoch": 0, "wait": 0, "best_loss": None} for _ in rows]
        improved = []
        for i, (member, row) in enumerate(zip(self.members, rows)):
            value = row.get(self.monitor)
            if value is None or not math.isfinite(value):
                continue
            if self._improved(value, member["best"], row.get("val_loss"), member["best_loss"]):
                member.update(best=value, best_epoch=epoch, wait=0, best_loss=row.get("val_loss"))
                improved.append(i)
            else:
                member["wait"] += 1
        if improved:
            self._keep_best(trainer.model, improved)
        if self.enabled and all(m["wait"] >= self.patience for m in self.members):
            trainer.stop_training = True
            self.stopped_epoch = epoch

    @property
    def best_epochs(self) -> list[int]:
        """Each member's best epoch (a group), or [best_epoch] (one network)."""
        return [m["best_epoch"] for m in self.members] if self.members else [self.best_epoch]

    def _keep_best(self, model, members: Optional[list[int]] = None) -> None:
        names, views = self._live_views(model)
        if self.best_state is None or list(self.best_state) != names:
            self.best_state = {k: v.clone() for k, v in zip(names, views)}
        elif members is not None:  # a group: only the improved members' slices of the stacks
            for name, view in zip(names, views):
                self.best_state[name][members] = view[members]
        else:  # one fused copy into the tensors kept from last time (tiny nets improve every epoch)
            import torch

            torch._foreach_copy_([self.best_state[k] for k in names], views)

    def _live_views(self, model) -> tuple[list[str], list]:
        """The model's state names and detached views of its live tensors, made once: a tiny
        net improves every epoch, and `state_dict()` walks every module (longer than its step).
        They are made again whenever the live storage moved (load_state_dict keeps it)."""
        cached = getattr(self, "_live", None)
        if cached is None or cached[0] is not model or any(
                view.data_ptr() != source.data_ptr() for view, source in zip(cached[2], cached[3])):
            live = model.state_dict(keep_vars=True)
            self._live = cached = (model, list(live), [v.detach() for v in live.values()],
                                   list(live.values()))
        return cached[1], cached[2]

    def on_train_end(self, trainer, logs):
        if self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)

    def outcome(self, epochs_run: int, member: Optional[int] = None) -> str:
        """What happened, in one line: 'stopped early at epoch 57 (no improvement in val_accuracy
        for 10 epochs); restored epoch 47 (val_accuracy 0.8381)'. For a group, of one `member`
        (or, without one, of all: each restores its own best epoch)."""
        best, best_epoch = self.best, self.best_epoch
        if self.members:
            if member is None:
                epochs = [m["best_epoch"] for m in self.members]
                epochs = ", ".join(map(str, epochs)) if len(epochs) <= 10 else \
                    f"{min(epochs)} to {max(epochs)}, median {sorted(epochs)[len(epochs) // 2]}"  # --repeat 64: one line
                stopped = f"stopped early at epoch {self.stopped_epoch}" if self.stopped_epoch else f"trained {epochs_run} epochs"
                return f"{stopped}; each member restored its own best {self.monitor} (epochs {epochs})"
            best, best_epoch = self.members[member]["best"], self.members[member]["best_epoch"]
        if self.best_state is None or best is None:
            return f"trained {epochs_run} epochs; no finite {self.monitor} to pick a best epoch from"
        restored = f"restored epoch {best_epoch} ({self.monitor} {best:.4f})"
        if self.stopped_epoch:
            return (f"stopped early at epoch {self.stopped_epoch} (no improvement in {self.monitor} "
                    f"for {self.patience} epochs); {restored}")
        if best_epoch == epochs_run:
            return f"trained {epochs_run} epochs; kept the last, which had the best {self.monitor} ({best:.4f})"
        return f"trained {epochs_run} epochs; {restored}"

    # -- resume support: the full state, as plain values and tensors
    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_state": self.best_state, "stopped_epoch": self.stopped_epoch,
                "best_loss": self.best_loss, **({"members": self.members} if self.members else {})}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_state = state["best_state"]
        self.stopped_epoch = state.get("stopped_epoch", 0)
        self.best_loss = state.get("best_loss")
        self.members = state.get("members", [])


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
        if "members" in logs:
            line += f"  ({len(logs['members'])} copies, mean)"
        if self.bar is not None:
            self.bar.update(self.task, completed=epoch, metrics=line.split("  ", 1)[1])
        else:
            print(line, file=self.stream, flush=True)

    def on_train_end(self, trainer, logs):
        if self.bar is not None:
            self.bar.stop()
