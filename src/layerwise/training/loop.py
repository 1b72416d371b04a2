"""The training loop: one readable loop, one seam (`train_step`), a few callbacks.

Every kind of training runs through `Trainer.fit`: a single network, a resumed run, and groups
of networks trained at once (`--repeat` copies, `copies.CopiesTrainer`), so callbacks, early
stopping and the one History behave the same everywhere. Variants change only these seams:
  train_step(x, y[, w]) -> loss    the step strategy: () for one network, (N,) for a group
  train_model, train_loss          what the step calls: the model and loss_fn, unless the model
                                   trains on something other than what it predicts (DDP's
                                   wrapper; a TabM ensemble's per-member outputs)
  batches                          the batcher: `ResidentBatches` (shards by rank/world_size)
  evaluate(X, y), epoch_logs(...)  validation metrics and the epoch's row of history (a group
                                   puts each member's own row under logs["members"])
  group, train_model               data-parallel runs (distributed.py): the rank's process
                                   group sums losses and gathers evaluation; DDP wraps the model
Writing files is not the loop's business: callbacks that write (metrics.csv, checkpoints) are
added by the session only for the process that writes the run directory.

Speed comes from the data path (`ResidentBatches`) and from never waiting on the device inside an
epoch: batch losses stay on the device and are read once per epoch, validation metrics are computed
on the device, and `zero_grad(set_to_none=True)` skips a memset per parameter.
"""

from __future__ import annotations

import math
import time
from typing import Any, Optional

from ..errors import LayerwiseError
from .callbacks import Callback

EVAL_BATCH = 8192  # rows per forward pass when evaluating (bounds activation memory)


def torch_stack(tensors):
    import torch

    return torch.stack(tensors)


class TrainingDiverged(LayerwiseError):
    """The loss became NaN or infinite: a user-fixable setting (learning rate, input scale)."""


class Trainer:
    def __init__(self, model, loss_fn, optimizer, batches, *, task: str, val=None,
                 scheduler=None, schedule_when: Optional[str] = None, grad_clip: Optional[float] = None,
                 callbacks: tuple[Callback, ...] = (), monitor: str = "val_loss", on_nan: str = "stop",
                 precision: str = "fp32"):
        self.model, self.loss_fn, self.optimizer, self.batches = model, loss_fn, optimizer, batches
        self.task, self.val = task, val  # val: (X, y) tensors on the device, or None
        self.scheduler, self.schedule_when, self.grad_clip = scheduler, schedule_when, grad_clip
        self.callbacks = list(callbacks)
        self.monitor, self.on_nan = monitor, on_nan  # on_nan: "stop" | "skip-batch"
        self.autocast = precision == "bf16"  # bf16 autocast of the forward pass (weights stay fp32)
        self.train_model = model  # the module the training forward pass calls (DDP wraps `model`)
        self.train_loss = loss_fn  # the loss the step minimises (a TabM ensemble: the mean of its members')
        self.group = None  # a `distributed.Group` when this is one rank of a DDP job
        self.val_held = False  # DDP, a source read per shard: validation X holds this rank's rows only
        self.members = 0  # 0: one network; N: a group whose step returns (N,) losses (copies.py)
        self.stop_training = False
        self.interrupt_requested = False  # set by a SIGINT handler; honoured between steps
        self.history: list[dict[str, Any]] = []
        self.epochs = 0  # the epoch count of the current fit
        self.epoch, self.step = 0, 0  # last finished epoch; steps done in the current epoch
        self.step_losses = None  # (steps_per_epoch,) batch losses of the current epoch, on device
        self._step_rows = None  # (steps,) rows per step, made once: the epoch loss's weights
        self.skipped = 0  # batches skipped for a non-finite loss in this epoch (skip-batch mode)
        # Only callbacks that override on_step_end are called per step.
        self._step_callbacks = [c for c in self.callbacks
                                if type(c).on_step_end is not Callback.on_step_end]

    # Each step's loss is appended to a list (a Python append, where writing it into the tensor
    # cost a kernel per step) and stacked into `step_losses` when someone reads it.
    @property
    def step_losses(self):
        if self._pending:
            first = self.step - len(self._pending)
            self._step_losses[first:self.step] = torch_stack(self._pending)
            self._pending.clear()
        return self._step_losses

    @step_losses.setter
    def step_losses(self, value) -> None:
        self._step_losses, self._pending = value, []

    def add_callback(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        if type(callback).on_step_end is not Callback.on_step_end:
            self._step_callbacks.append(callback)

    # ---- the seam ------------------------------------------------------------------------------
    def train_step(self, x, y, weights=None):
        """One optimizer step on a batch; returns the batch loss as a device tensor (no sync)."""
        if self.autocast:
            import torch

            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                outputs = self.train_model(x)
            outputs = outputs.float()
        else:
            outputs = self.train_model(x)
        if self.group is not None:  # weights are this rank's row scales (see ShardedBatches)
            loss = (per_row_loss(self.loss_fn, outputs, y) * weights).sum()
        elif weights is None:
            loss = self.train_loss(outputs, y)
        else:
            loss = weighted_loss(self.loss_fn, outputs, y, weights)
        if self.on_nan == "skip-batch" and not bool(loss.isfinite()):  # a host sync: opt-in only
            self.skipped += 1
            return loss.detach().new_zeros(())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip is not None:
            import torch

            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip, foreach=True)
        self.optimizer.step()
        if self.schedule_when == "batch":
            self.scheduler.step()
        return loss.detach()

    # ---- epochs --------------------------------------------------------------------------------
    def train_epoch(self, epoch: int, start_step: int = 0) -> dict[str, Any]:
        """Train one epoch (from `start_step` when resuming mid-epoch); the one host sync is at
        the end, where the batch losses (kept on the device) become the epoch's mean loss."""
        import torch

        if not self.model.training:  # train() walks every module: skip it when nothing changed
            self.model.train()
        if start_step == 0 or self.step_losses is None:
            shape = (len(self.batches), self.members) if self.members else (len(self.batches),)
            self.step_losses = torch.zeros(shape, device=self.batches.X.device)
            self.skipped = 0
        started = time.perf_counter()
        pending = self._pending
        for step, batch in enumerate(self.batches.epoch(epoch, start_step), start=start_step):
            pending.append(self.train_step(*batch))
            self.step = step + 1
            for callback in self._step_callbacks:
                callback.on_step_end(self, epoch, self.step)
            if self.interrupt_requested:
                raise KeyboardInterrupt
        if len(pending) == 1 and len(self.batches) == 1 and not (self.skipped or self.members) \
                and self.group is None:
            # one full-batch step: (loss * rows) / rows is the loss itself, exactly, in float64
            train_loss = float(pending[0])
        else:
            if self._step_rows is None or len(self._step_rows) != len(self.batches):
                self._step_rows = self.batches.step_rows(self.step_losses.device)
            rows = self._step_rows
            losses = self.step_losses.double()
            if self.group is not None:  # each rank holds world_size x its share of each batch's loss
                losses = self.group.sum(losses) / self.group.world_size
            if self.on_nan == "skip-batch":
                rows = torch.where(losses != 0, rows, torch.zeros_like(rows)) if self.skipped else rows
            if self.members:  # (steps, N) losses: one mean per member
                train_loss = ((losses * rows[:, None]).sum(dim=0) / rows.sum().clamp_min(1)).tolist()
            else:
                train_loss = float((losses * rows).sum() / rows.sum().clamp_min(1))
        seconds = time.perf_counter() - started  # after the sync above: on a GPU the work is done
        if not all(math.isfinite(v) for v in (train_loss if self.members else [train_loss])):
            raise self._diverged(epoch)
        logs = {"train_loss": train_loss, "_epoch_seconds": seconds}
        if self.on_nan == "skip-batch":
            logs["skipped_batches"] = self.skipped
        return logs

    def _diverged(self, epoch: int) -> TrainingDiverged:
        finite = self.step_losses.isfinite().reshape(len(self.step_losses), -1)  # (steps, members or 1)
        bad = (~finite.all(dim=1)).nonzero()
        step = int(bad[0]) + 1 if len(bad) else len(self.batches)
        values = self.step_losses[step - 1].reshape(-1)
        value = float(values[~finite[step - 1]][0]) if len(bad) else float(values[0])
        lr = self.optimizer.param_groups[0]["lr"]
        return TrainingDiverged(
            f"training diverged: the loss became {value} at epoch {epoch}, "
            f"step {step} of {len(self.batches)}; try a smaller learning rate (now {lr:g}), standardised "
            f"inputs, or --grad-clip; the last good checkpoint is kept")

    def fit(self, epochs: int, start_epoch: int = 1, start_step: int = 0) -> list[dict]:
        self.epochs = epochs
        for callback in self.callbacks:
            callback.on_train_begin(self)
        for epoch in range(start_epoch, epochs + 1):
            if self.stop_training:
                break
            for callback in self.callbacks:
                callback.on_epoch_begin(self, epoch)
            trained = self.train_epoch(epoch, start_step if epoch == start_epoch else 0)
            val = self.evaluate(*self.val) if self.val is not None else None
            logs = self.epoch_logs(epoch, trained, val)
            self._step_schedule(logs)
            self.epoch, self.step = epoch, 0
            self.history.append(logs)
            for callback in self.callbacks:
                callback.on_epoch_end(self, epoch, logs)
        last = self.history[-1] if self.history else {}
        for callback in self.callbacks:  # like Keras: the last epoch's logs
            callback.on_train_end(self, last)
        return self.history

    def epoch_logs(self, epoch: int, trained: dict, val) -> dict[str, Any]:
        """The epoch's one row of history: train loss, validation metrics, lr, seconds."""
        logs: dict[str, Any] = {"epoch": epoch, "train_loss": trained.pop("train_loss")}
        if val is not None:
            logs.update({f"val_{k}": v for k, v in val.items()})
        logs["lr"] = self.optimizer.param_groups[0]["lr"]
        logs["epoch_seconds"] = trained.pop("_epoch_seconds")
        logs.update(trained)
        return logs

    def _step_schedule(self, logs: dict) -> None:
        if self.schedule_when == "epoch":
            self.scheduler.step()
        elif self.schedule_when == "metric":
            from .callbacks import lower_is_better

            monitor = self.monitor if self.monitor in logs else "train_loss"
            sign = 1.0 if lower_is_better(monitor) else -1.0  # ReduceLROnPlateau minimises
            self.scheduler.step(sign * logs[monitor])

    # ---- evaluation ----------------------------------------------------------------------------
    def evaluate(self, X, y) -> dict[str, float]:
        """Loss and the per-epoch metrics on (X, y), computed on the device in large batches."""
        import torch

        outputs = predict_outputs(self.model, X) if self.group is None \
            else self.group.predict(self.model, X, held=self.val_held)
        with torch.inference_mode():
            return self.scores(outputs, y)

    def scores(self, outputs, y) -> dict[str, float]:
        """The loss and the task's device metrics of network outputs against encoded targets."""
        return {"loss": float(self.loss_fn(outputs, y)), **device_metrics(self.task, outputs, y)}


def weighted_loss(loss_fn, outputs, y, weights):
    """sum(w_i * loss_i) / sum(w_i): the mean loss with per-row weights, for any torch loss."""
    return (per_row_loss(loss_fn, outputs, y) * weights).sum() / weights.sum().clamp_min(1e-12)


def per_row_loss(loss_fn, outputs, y):
    """(rows,) unreduced loss of each row (multi-output: the mean over its outputs)."""
    reduction = loss_fn.reduction
    loss_fn.reduction = "none"
    try:
        per_row = loss_fn(outputs, y)
    finally:
        loss_fn.reduction = reduction
    return per_row.flatten(1).mean(dim=1) if per_row.dim() > 1 else per_row


def predict_outputs(model, X, rows=None):
    """Raw network outputs (logits or values) for the rows `rows` of X (all when None), in eval mode."""
    import torch

    model.eval()
    count = len(X) if rows is None else len(rows)
    with torch.inference_mode():
        parts = [model(X[i:i + EVAL_BATCH] if rows is None else X.index_select(0, rows[i:i + EVAL_BATCH]))
                 for i in range(0, count, EVAL_BATCH)]
    return torch.cat(parts) if parts else model(X[:0])


def device_metrics(task: str, outputs, y) -> dict[str, float]:
    """Cheap metrics for the per-epoch log: accuracy for classification, MAE and R² for regression."""
    if task == "multiclass":
        return {"accuracy": (outputs.argmax(dim=1) == y).float().mean().item()}
    if task == "binary":
        return {"accuracy": ((outputs > 0).float() == y).float().mean().item()}
    residual = outputs - y
    spread = ((y - y.mean(dim=0)) ** 2).sum()
    r2 = 1.0 - (residual ** 2).sum() / spread if spread > 0 else residual.new_tensor(float("nan"))
    return {"mae": residual.abs().mean().item(), "r2": float(r2)}
