"""The PyTorch tutorial loop: TensorDataset + DataLoader(shuffle=True), batches moved per step.

This is the quickstart's `train_loop` as a newcomer would copy it, including `.to(device)` of
each batch (a CPU DataLoader feeding a GPU).
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from .torch_parts import EpochClock, build_mlp, loss_fn, optimizer, tensors
from .workloads import Data, Workload


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    x, y = tensors(w, *data.arrays())
    generator = torch.Generator().manual_seed(w.seed)
    loader = DataLoader(TensorDataset(x, y), batch_size=w.batch, shuffle=True, generator=generator)
    model = build_mlp(w).to(device)
    criterion, opt = loss_fn(w), optimizer(w, model.parameters())
    clock = EpochClock(device)
    for _ in range(epochs):
        clock.start()
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        clock.stop()
    return clock.seconds
