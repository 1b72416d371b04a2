"""The torch modules that torch itself does not have (imported only when a model is built)."""

from __future__ import annotations

import math

import torch
from torch import nn


class GlobalAvgPool(nn.Module):
    """(N, C, *positions) -> (N, C): the mean of each channel over its positions."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(dim=2)


class Residual(nn.Module):
    """x + body(x), then an optional activation (identity by default)."""

    def __init__(self, body: nn.Module, activation: nn.Module):
        super().__init__()
        self.body, self.activation = body, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(x + self.body(x))


class PeriodicEmbedding(nn.Module):
    """(N, F) -> (N, E * size + F - E): each of the first E features x becomes
    [x, linear(cos(2*pi*frequency*x + phase))] (layers/embedding.py says why); the other F - E
    (one-hot and missing-value indicators, which a cosine cannot help) pass through unchanged.
    Initialised as RealMLP's PBLD: frequencies ~ N(0, sigma^2), phases ~ U(-pi, pi), the
    per-feature linear map as torch's nn.Linear would be.

    Its parameters learn `lr_scale` times as fast as the rest of the net (RealMLP uses 0.1):
    each is stored divided by lr_scale and multiplied back in forward, which under Adam/AdamW
    (steps of about lr whatever the gradient's size) is the same as a per-parameter learning rate,
    without optimizer parameter groups that every engine (copies, DDP, export) would have to know."""

    def __init__(self, embedded: int, frequencies: int = 16, size: int = 4, sigma: float = 0.1,
                 lr_scale: float = 1.0):
        super().__init__()
        self.embedded, self.lr_scale = embedded, lr_scale
        bound = frequencies ** -0.5
        stored = 1.0 / lr_scale
        frequency = torch.empty(embedded, 1, frequencies)
        if frequency.device.type != "meta":  # model.check_fits_in_memory only counts parameters on
            frequency.normal_(0.0, sigma * stored)  # "meta", where normal_ imports torch's compiler (0.6 s)
        self.frequency = nn.Parameter(frequency)
        self.phase = nn.Parameter(torch.empty(embedded, 1, frequencies).uniform_(-math.pi * stored, math.pi * stored))
        self.weight = nn.Parameter(torch.empty(embedded, frequencies, size - 1).uniform_(-bound * stored, bound * stored))
        self.bias = nn.Parameter(torch.empty(embedded, 1, size - 1).uniform_(-bound * stored, bound * stored))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.lr_scale
        column = x[:, :self.embedded].t().unsqueeze(-1)  # (E, N, 1): one batched matmul per feature
        waves = torch.cos(torch.addcmul(c * self.phase, column, self.frequency, value=2 * math.pi * c))  # (E, N, K)
        mixed = torch.baddbmm(self.bias, waves, self.weight, beta=c, alpha=c)  # (E, N, size-1)
        embedded = torch.cat([column, mixed], dim=-1).transpose(0, 1).flatten(1)  # (N, E * size)
        return torch.cat([embedded, x[:, self.embedded:]], dim=1)
