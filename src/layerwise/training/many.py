"""Many copies of one network trained at once (`--repeat N`), with torch.func.

The copies' parameters are stacked into (N, ...) tensors and one vmapped forward/backward serves
all of them, so N small networks cost about as much as one wide one. Each copy keeps exactly what
it would have alone: its own seed for the initial weights and for the order of the data, the
same splits and preprocessing (fixed by `data.split_seed`), and its own early-stopping record.
Adam, AdamW, SGD and RMSprop are element-wise, so one optimizer over the stacked tensors is N
independent optimizers.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import LayerwiseError
from ..model import build_model, initialise
from .batches import ResidentBatches, to_device_tensors
from .callbacks import EarlyStopping, format_epoch, lower_is_better, resolve_monitor
from .loop import device_metrics
from .optim import make_loss, make_optimizer, make_scheduler


def copy_config(config, index: int):
    """The config that trains copy `index` alone, with the same result."""
    copy = config.model_copy(deep=True)
    copy.training.seed = config.training.seed + index
    copy.data.split_seed = config.data.split_seed if config.data.split_seed is not None else config.training.seed
    # Copies train every epoch (one stopped copy cannot leave the shared step) and each restores
    # its own best epoch, exactly as early_stopping.enabled = false does for a single run.
    copy.training.early_stopping.enabled = False
    return copy


def check_repeatable(config) -> None:
    net, spec = config.network, config.training
    kinds = net.layer_kinds()
    reasons = [("dropout" in kinds, "dropout"), ("batch_norm" in kinds, "batch_norm"),
               (spec.grad_clip is not None, "grad_clip (a global norm couples the copies)"),
               (spec.schedule == "plateau", "the plateau schedule"), (spec.class_weights is not None, "class_weights"),
               (spec.on_nan != "stop", "on_nan skip-batch")]
    for found, what in reasons:
        if found:
            raise LayerwiseError(f"--repeat: {what} is not supported when training copies at once")


class ManyTrainer:
    def __init__(self, configs: list, prepared, device: str):
        import torch
        from torch.func import functional_call, stack_module_state

        self.configs, self.prepared, self.device = configs, prepared, device
        spec = configs[0].training
        models = []
        for config in configs:  # the same construction as a single run, seed by seed
            torch.manual_seed(config.training.seed)
            model = build_model(prepared.arch)
            initialise(model, config.network, prepared.arch)
            models.append(model.to(device))
        self.models = models
        self.params, self.buffers = stack_module_state(models)  # name -> (N, ...) leaf tensors
        skeleton = build_model(prepared.arch).to("meta")

        def forward(params, buffers, x):
            return functional_call(skeleton, (params, buffers), (x,))

        self.forward_each = torch.vmap(forward, in_dims=(0, 0, 0))  # x: (N, B, d)
        self.forward_shared = torch.vmap(forward, in_dims=(0, 0, None))  # x: (M, d) for all copies
        X, y = to_device_tensors(prepared.features, prepared.targets, device)
        rows = torch.from_numpy(prepared.train_idx).to(device)
        self.batches = [ResidentBatches(X, y, rows, spec.batch_size, spec.shuffle, c.training.seed) for c in configs]
        self.loss_fn = make_loss(prepared.loss)
        self.loss_each = torch.vmap(lambda out, target: self.loss_fn(out, target))
        self.optimizer = make_optimizer(spec, self.params.values(), torch.device(device).type)
        self.scheduler, self.schedule_when = make_scheduler(spec, self.optimizer, len(self.batches[0]))
        val = prepared.split("val")
        self.val = None if val is None else to_device_tensors(val[0], val[1], device)
        self.monitor = resolve_monitor(spec, prepared.task, self.val is not None)
        self.stoppers = [EarlyStopping(self.monitor, spec.early_stopping.patience, enabled=False) for _ in configs]
        self.histories: list[list[dict[str, Any]]] = [[] for _ in configs]

    def train_epoch(self, epoch: int):
        import torch

        first = self.batches[0]
        orders = torch.stack([b.order(epoch) for b in self.batches])  # (N, rows)
        step_losses = torch.zeros(len(self.configs), len(first), device=orders.device)
        started = time.perf_counter()
        for step, start in enumerate(range(0, orders.shape[1], first.batch_size)):
            rows = orders[:, start:start + first.batch_size]  # (N, B)
            x, y = first.X[rows], first.y[rows]  # (N, B, d), (N, B[, k])
            losses = self.loss_each(self.forward_each(self.params, self.buffers, x), y)  # (N,)
            self.optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()  # d(sum)/d(copy i) = d(loss i)/d(copy i): copies stay independent
            self.optimizer.step()
            if self.schedule_when == "batch":
                self.scheduler.step()
            step_losses[:, step] = losses.detach()
        weights = first.step_rows(step_losses.device)
        train_loss = ((step_losses.double() * weights).sum(dim=1) / weights.sum()).tolist()
        seconds = time.perf_counter() - started  # after the sync above: on a GPU the work is done
        return train_loss, seconds

    def evaluate(self) -> list[dict[str, float]]:
        import torch

        X, y = self.val
        with torch.inference_mode():
            outputs = self.forward_shared(self.params, self.buffers, X)  # (N, M, k)
            return [{"loss": float(self.loss_fn(out, y)), **device_metrics(self.prepared.task, out, y)}
                    for out in outputs]

    def fit(self, epochs: int, quiet: bool, stream) -> None:
        for epoch in range(1, epochs + 1):
            train_losses, seconds = self.train_epoch(epoch)
            val = self.evaluate() if self.val is not None else [{} for _ in self.configs]
            lr = self.optimizer.param_groups[0]["lr"]
            if self.schedule_when == "epoch":
                self.scheduler.step()
            for i, (loss, metrics) in enumerate(zip(train_losses, val)):
                logs = {"epoch": epoch, "train_loss": loss, **{f"val_{k}": v for k, v in metrics.items()},
                        "lr": lr, "epoch_seconds": seconds / len(self.configs)}
                self.histories[i].append(logs)
                self.stoppers[i].on_epoch_end(_View(self.models[i], self.params, self.buffers, i), epoch, logs)
            if not quiet:
                print(format_epoch(epoch, epochs, _mean_logs([h[-1] for h in self.histories])) + f"  ({len(self.configs)} copies, mean)",
                      file=stream, flush=True)
        for i, stopper in enumerate(self.stoppers):
            self.models[i].load_state_dict(stopper.best_state or _View(self.models[i], self.params, self.buffers, i).state_dict())


class _View:
    """Copy i of the stacked parameters, looking like a module to EarlyStopping."""

    def __init__(self, model, params, buffers, index):
        self.model, self.params, self.buffers, self.index = self, params, buffers, index

    def state_dict(self):
        both = {**self.params, **self.buffers}
        return {name: tensor[self.index] for name, tensor in both.items()}


def _mean_logs(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if isinstance(rows[0][k], float)]
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in keys}
    mean["epoch_seconds"] = sum(r["epoch_seconds"] for r in rows)
    return mean


def best_metric(history: list[dict], monitor: str) -> float:
    values = [row[monitor] for row in history if monitor in row]
    return (min if lower_is_better(monitor) else max)(values)
