"""The torch modules that torch itself does not have (imported only when a model is built)."""

from __future__ import annotations

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
