"""Many copies of one network trained at once (`--repeat N`): a model group for the one loop.

The copies' parameters are stacked into (N, ...) tensors and one vmapped forward/backward serves
all of them, so N small networks cost about as much as one wide one. Only the step, the batcher
and the evaluation change (`CopiesTrainer` overrides `train_step`, `evaluate` and `epoch_logs`);
the loop, callbacks, early-stopping bookkeeping and the one History are `Trainer`'s.

Each copy keeps exactly what it would have alone: its own seed for the initial weights and for
the order of the data, the same splits and preprocessing (fixed by `data.split_seed`), and its
own best epoch. Adam, AdamW, SGD and RMSprop are element-wise, so one optimizer over the stacked
tensors is N independent optimizers.
"""

from __future__ import annotations

from typing import Any, Iterator

from .loop import Trainer


def copy_config(config, index: int):
    """The config that trains copy `index` alone, with the same result."""
    copy = config.model_copy(deep=True)
    copy.training.seed = config.training.seed + index
    copy.data.split_seed = config.seed_of_splits()
    # Copies train every epoch (one stopped copy cannot leave the shared step) and each restores
    # its own best epoch, exactly as early_stopping.enabled = false does for a single run.
    copy.training.early_stopping.enabled = False
    return copy


def stacked_module(models: list, randomness: str = "error"):
    """`models` (same architecture) as one module whose parameters are (N, ...) stacks.
    randomness="different" lets dropout draw its own mask per copy (an ensemble's members);
    "error" refuses randomness, as `--repeat` copies must match their single runs."""
    import torch
    from torch import nn
    from torch.func import functional_call, stack_module_state

    class Copies(nn.Module):
        """forward(x): x is (N, B, ...), one batch per copy -> (N, B, k).
        forward_shared(x): x is (B, ...), the same rows for every copy -> (N, B, k)."""

        def __init__(self):
            super().__init__()
            params, buffers = stack_module_state(models)  # name -> (N, ...) tensors
            self.count, self.names = len(models), list(params) + list(buffers)
            self.buffer_names = set(buffers)
            for name, value in params.items():  # '.' is not allowed in a parameter's name
                self.register_parameter(name.replace(".", "__"), nn.Parameter(value.detach()))
            for name, value in buffers.items():
                self.register_buffer(name.replace(".", "__"), value)
            skeleton = _meta_copy(models[0])

            def forward(params, x):
                return functional_call(skeleton, params, (x,))

            self._skeleton = [skeleton]  # in a list: not a submodule (no state), but follows train/eval
            self._each = torch.vmap(forward, in_dims=(0, 0), randomness=randomness)
            self._shared = torch.vmap(forward, in_dims=(0, None), randomness=randomness)

        def train(self, mode: bool = True):
            super().train(mode)
            self._skeleton[0].train(mode)  # its dropout layers are the ones that run
            return self

        def stacked(self) -> dict:
            return {name: getattr(self, name.replace(".", "__")) for name in self.names}

        def forward(self, x):
            return self._each(self.stacked(), x)

        def forward_shared(self, x):
            return self._shared(self.stacked(), x)

        def member_state(self, index: int) -> dict:
            """Copy `index`'s state dict, with the names a single network has."""
            return {name: tensor[index].detach() for name, tensor in self.stacked().items()}

    return Copies()


def _meta_copy(model):
    import copy

    return copy.deepcopy(model).to("meta")  # structure only: functional_call supplies the tensors


class CopiesBatches:
    """One batch per copy per step, stacked (N, B, ...): copy i visits the rows in the order its
    own `ResidentBatches` (seed + i) gives, so it sees what it would see alone."""

    def __init__(self, each: list):
        self.each = each
        self.X, self.y, self.batch_size = each[0].X, each[0].y, each[0].batch_size

    def __len__(self) -> int:
        return len(self.each[0])

    def step_rows(self, device):
        return self.each[0].step_rows(device)

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[tuple]:
        import torch

        orders = torch.stack([batches.order(epoch) for batches in self.each])  # (N, rows)
        for start in range(start_step * self.batch_size, orders.shape[1], self.batch_size):
            rows = orders[:, start:start + self.batch_size]  # (N, B)
            yield self.X[rows], self.y[rows]  # (N, B, d), (N, B[, k])


class CopiesTrainer(Trainer):
    """The one loop, with a step and an evaluation for N stacked copies (losses are (N,))."""

    def __init__(self, model, loss_fn, optimizer, batches, **kwargs):
        import torch

        super().__init__(model, loss_fn, optimizer, batches, **kwargs)
        self.members = model.count
        self.loss_each = torch.vmap(lambda outputs, target: loss_fn(outputs, target))

    def train_step(self, x, y, weights=None):
        losses = self.loss_each(self.model(x), y)  # (N,)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # d(sum)/d(copy i) = d(loss i)/d(copy i): copies stay independent
        self.optimizer.step()
        if self.schedule_when == "batch":
            self.scheduler.step()
        return losses.detach()

    def evaluate(self, X, y) -> list[dict[str, float]]:
        import torch

        self.model.eval()
        with torch.inference_mode():
            outputs = self.model.forward_shared(X)  # (N, M, k)
            return [self.scores(out, y) for out in outputs]

    def epoch_logs(self, epoch: int, trained: dict, val) -> dict[str, Any]:
        """The mean over the copies (what progress shows and callbacks read), with each copy's
        own row under "members" (what its run directory records)."""
        seconds = trained["_epoch_seconds"]
        lr = self.optimizer.param_groups[0]["lr"]
        members = []
        for i, loss in enumerate(trained["train_loss"]):
            row = {"epoch": epoch, "train_loss": loss}
            row.update({f"val_{k}": v for k, v in (val[i] if val is not None else {}).items()})
            row.update({"lr": lr, "epoch_seconds": seconds / self.members})
            members.append(row)
        keys = [k for k in members[0] if isinstance(members[0][k], float)]
        logs: dict[str, Any] = {"epoch": epoch, **{k: sum(row[k] for row in members) / len(members) for k in keys}}
        logs.update({"lr": lr, "epoch_seconds": seconds, "members": members})
        return logs


def member_history(history: list[dict], index: int) -> list[dict]:
    """Copy `index`'s own rows of a group's History."""
    return [row["members"][index] for row in history]
