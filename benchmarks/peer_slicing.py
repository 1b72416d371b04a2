"""A hand-written loop: data on the device once, a fresh permutation per epoch, index per batch.

What an experienced PyTorch user writes when the DataLoader is the bottleneck.
"""

from __future__ import annotations

import torch

from .torch_parts import EpochClock, build_mlp, loss_fn, optimizer, tensors
from .workloads import Data, Workload


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    x, y = tensors(w, *data.arrays(), device)
    generator = torch.Generator(device=device).manual_seed(w.seed)
    model = build_mlp(w).to(device)
    criterion, opt = loss_fn(w), optimizer(w, model.parameters())
    clock = EpochClock(device)
    for _ in range(epochs):
        clock.start()
        order = torch.randperm(w.rows, device=device, generator=generator)
        for idx in order.split(w.batch):
            opt.zero_grad(set_to_none=True)
            loss = criterion(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        clock.stop()
    return clock.seconds
