"""W5 by hand: all copies of the network as one batched network (torch.baddbmm).

Each copy has its own init and its own shuffle; Adam's update is element-wise, so stepping the
stacked tensors is exactly stepping every copy on its own. The summed loss keeps each copy's
gradient equal to its own mean-loss gradient.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .torch_parts import EpochClock, tensors
from .workloads import Data, Workload

MULTI_MODEL = True  # trains `w.models` copies in one run (no extrapolation)


def _stacked_params(w: Workload, device: str) -> list[torch.Tensor]:
    """Per layer: weight (models, in, out) and bias (models, 1, out), nn.Linear's default init."""
    generator = torch.Generator().manual_seed(w.seed)
    params = []
    for n_in, n_out in w.layers:
        bound = 1 / math.sqrt(n_in)  # nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
        for shape in ((w.models, n_in, n_out), (w.models, 1, n_out)):
            t = (torch.rand(shape, generator=generator) * 2 - 1) * bound
            params.append(t.to(device).requires_grad_())
    return params


def _forward(params: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    """h: (models, batch, in) -> (models, batch, out)."""
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = torch.baddbmm(params[2 * i + 1], h, params[2 * i])
        if i < n_layers - 1:
            h = F.relu(h)
    return h


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    if w.task != "multiclass":
        raise ValueError("the stacked peer is written for W5's multiclass network")
    x, y = tensors(w, *data.arrays(), device)
    params = _stacked_params(w, device)
    opt = torch.optim.Adam(params, lr=w.lr)
    generator = torch.Generator(device=device).manual_seed(w.seed)
    clock = EpochClock(device)
    for _ in range(epochs):
        clock.start()
        # one permutation per copy: (models, rows)
        order = torch.rand(w.models, w.rows, device=device, generator=generator).argsort(dim=1)
        for idx in order.split(w.batch, dim=1):
            logits = _forward(params, x[idx])  # (models, batch, classes)
            loss = F.cross_entropy(logits.flatten(0, 1), y[idx].flatten()) * w.models
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        clock.stop()
    return clock.seconds
