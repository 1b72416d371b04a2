"""Trainers for an ensemble trained as ONE model (`training.ensemble: K`, ensemble.py).

Their validation metrics are those of the members' mean prediction (layers/ensemble.py: mean_prediction), and an
epoch's row of history carries no per-member rows, so `EarlyStopping` (unchanged) treats the
ensemble as one network: it stops when the ensemble's `training.monitor` stops improving and
restores every member's weights of the ensemble's best epoch (TabM's "parallel training lets
one monitor the ensemble", applied to both kinds).

  CopiesEnsembleTrainer   independent members: the `--repeat` engine's vmapped step (copies.py)
  BaggedTrainer           bagged members (bagging.py): the same step; each member keeps its own
                          best epoch, judged on its own validation rows
  SharedEnsembleTrainer   TabM members (layers/ensemble.py): one step on the mean of the K
                          members' losses over the same batch
"""

from __future__ import annotations

from typing import Any

from .copies import CopiesTrainer
from .loop import Trainer


class CopiesEnsembleTrainer(CopiesTrainer):
    def evaluate(self, X, y) -> dict[str, float]:
        import torch

        from ..layers.ensemble import mean_prediction

        self.model.eval()
        with torch.inference_mode():
            outputs = mean_prediction(self.task, self.model.forward_shared(X))  # (K, M, k) -> (M, k)
            return self.scores(outputs, y)

    def epoch_logs(self, epoch: int, trained: dict, val) -> dict[str, Any]:
        """The ensemble's row: the members' mean training loss, the mean prediction's metrics."""
        losses = trained["train_loss"]
        return Trainer.epoch_logs(self, epoch, {**trained, "train_loss": sum(losses) / len(losses)}, val)


class BaggedTrainer(CopiesTrainer):
    """A bagged ensemble (bagging.py): each member is judged on its own validation rows, so
    EarlyStopping keeps each member's own best epoch (the per-member rows of `--repeat` copies) and
    stops when none has improved for `patience` epochs; the epoch's own validation metrics are the
    out-of-fold prediction's (each held-out row by the members that did not train on it)."""

    holdout = None  # (K, M) bool on the device: member k held validation row m out

    def evaluate(self, X, y) -> dict[str, Any]:
        import torch

        from ..layers.ensemble import mean_prediction

        self.model.eval()
        with torch.inference_mode():
            outputs = self.model.forward_shared(X)  # (K, M, k)
            each = [self.scores(out[rows], y[rows]) for out, rows in zip(outputs, self.holdout)]
            return {"members": each, "out_of_fold": self.scores(mean_prediction(self.task, outputs, self.holdout), y)}

    def epoch_logs(self, epoch: int, trained: dict, val) -> dict[str, Any]:
        logs = super().epoch_logs(epoch, trained, None if val is None else val["members"])
        if val is not None:
            logs.update({f"val_{k}": v for k, v in val["out_of_fold"].items()})
        return logs


class SharedEnsembleTrainer(Trainer):
    """Trains on the members' own outputs; evaluates (the base class's `evaluate`) the model's
    forward pass, which is their mean prediction."""

    def __init__(self, model, loss_fn, optimizer, batches, **kwargs):
        super().__init__(model, loss_fn, optimizer, batches, **kwargs)
        self.train_model = model.member_outputs  # (K, B, k)
        self.train_loss = mean_of_members(loss_fn, model.size)


def mean_of_members(loss_fn, members: int):
    """loss(outputs (K, B, k), y (B, ...)): the mean of the K members' losses on the same rows.
    With a mean-reducing loss this is one call on the K*B rows stacked member by member (a
    weighted mean too: every member has the same rows, so the same total weight)."""

    def loss(outputs, y):
        return loss_fn(outputs.reshape(-1, *outputs.shape[2:]), y.repeat(members, *([1] * (y.dim() - 1))))

    return loss
