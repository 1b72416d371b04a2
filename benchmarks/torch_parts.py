"""The torch network, loss, optimizer and clock that every torch-based peer shares.

Sharing them keeps the peers comparable: the only difference between two torch rows is the
loop (DataLoader, slicing, skorch, Lightning), never the model or the optimizer.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from .workloads import Workload


def build_mlp(w: Workload) -> nn.Sequential:
    """Linear-ReLU-...-Linear with torch's default init, seeded by `w.seed`."""
    torch.manual_seed(w.seed)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(w.layers):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def loss_fn(w: Workload) -> nn.Module:
    if w.task == "multiclass":
        return nn.CrossEntropyLoss()
    if w.task == "binary":
        return nn.BCEWithLogitsLoss()
    return nn.MSELoss()


def optimizer(w: Workload, params) -> torch.optim.Optimizer:
    if w.optimizer == "adam":
        return torch.optim.Adam(params, lr=w.lr)
    return torch.optim.SGD(params, lr=w.lr, momentum=w.momentum)


def tensors(w: Workload, x: np.ndarray, y: np.ndarray, device: str = "cpu"):
    """Shares memory with the arrays on CPU; binary targets become (rows, 1) for BCE."""
    yt = torch.from_numpy(y)
    if w.task == "binary":
        yt = yt.reshape(-1, 1)
    return torch.from_numpy(x).to(device), yt.to(device)


def sync(device: str) -> None:
    """Wait for queued GPU work, so a wall-clock reading covers it."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class EpochClock:
    """Per-epoch wall seconds, synchronised with the GPU at both ends of every epoch."""

    def __init__(self, device: str):
        self.device, self.seconds, self._start = device, [], 0.0

    def start(self) -> None:
        sync(self.device)
        self._start = time.perf_counter()

    def stop(self) -> None:
        sync(self.device)
        self.seconds.append(time.perf_counter() - self._start)
