"""The W4 reference: the bare `zero_grad; backward; step` loop on pre-made batches.

No shuffling, no data loader, no logging: whatever a framework adds per step on top of this is
its overhead.
"""

from __future__ import annotations

from .torch_parts import EpochClock, build_mlp, loss_fn, optimizer, tensors
from .workloads import Data, Workload


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    x, y = tensors(w, *data.arrays(), device)
    batches = list(zip(x.split(w.batch), y.split(w.batch)))  # views, made once, fixed order
    model = build_mlp(w).to(device)
    criterion, opt = loss_fn(w), optimizer(w, model.parameters())
    clock = EpochClock(device)
    for _ in range(epochs):
        clock.start()
        for xb, yb in batches:
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
        clock.stop()
    return clock.seconds
