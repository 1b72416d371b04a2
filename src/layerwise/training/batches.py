"""The fast batcher: training data held once, as tensors on the training device.

A DataLoader over a TensorDataset builds every batch from per-sample Python calls; here a batch
is one `index_select` of a per-epoch permutation, so the per-step cost is a few kernel launches.
The permutation is a pure function of (seed, epoch), which makes the data order reproducible and
lets a resumed run skip to any step of any epoch, and lets DDP ranks split each global batch
(`training/ddp.py`, ShardedBatches).
"""

from __future__ import annotations

from typing import Iterator

TINY_BYTES = 1 << 20  # data this small is gathered once per epoch instead of once per step


class ResidentBatches:
    def __init__(self, X, y, indices=None, batch_size: int = 32, shuffle: bool = True,
                 seed: int = 0, weights=None):
        import torch

        self.X, self.y = X, y  # (N, ...) features and (N, ...) targets, on the training device
        self.all_rows = indices is None  # train on every row: the permutation is the order itself
        self.weights = weights  # optional (N,) per-row loss weights (scikit-learn's sample_weight)
        self.indices = indices if indices is not None else torch.arange(len(X), device=X.device)
        self.batch_size = batch_size if batch_size > 0 else len(self.indices)  # 0 = full batch
        self.shuffle, self.seed = shuffle, seed
        data = (X, y) if weights is None else (X, y, weights)
        self._tiny = sum(t.numel() * t.element_size() for t in data) <= TINY_BYTES

    @property
    def rows(self) -> int:
        return len(self.indices)

    def __len__(self) -> int:
        """Optimizer steps per epoch (the last batch may be smaller)."""
        return -(-self.rows // self.batch_size)

    def step_rows(self, device):
        """(steps,) float64 rows per step: full batches, then the remainder."""
        import torch

        rows = torch.full((len(self),), float(self.batch_size), dtype=torch.float64, device=device)
        rows[-1] = self.rows - self.batch_size * (len(self) - 1)
        return rows

    def order(self, epoch: int):
        """The row indices of `epoch`, in the order they are visited."""
        import torch

        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            permutation = torch.randperm(len(self.indices), generator=generator).to(self.indices.device)
            return permutation if self.all_rows else self.indices[permutation]
        return self.indices

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[tuple]:
        """(x, y) or (x, y, weights) for each step of `epoch`, from `start_step` (for resume)."""
        tensors = (self.X, self.y) if self.weights is None else (self.X, self.y, self.weights)
        if self.batch_size >= self.rows:
            # Full batch: one step over every training row, whose loss does not depend on the
            # order, so no permutation and (when training on all rows) no gather at all.
            if start_step == 0:
                yield tensors if self.all_rows else tuple(t.index_select(0, self.indices) for t in tensors)
            return
        order = self.order(epoch)
        whole = not self.shuffle and len(order) == len(self.X)
        if not whole and self._tiny:
            # Tiny data: gather the epoch's rows once, then every step is a plain slice (an
            # index_select per tensor per step cost more than the step's own arithmetic).
            tensors, whole = tuple(t.index_select(0, order) for t in tensors), True
        for start in range(start_step * self.batch_size, len(order), self.batch_size):
            if whole:  # in-order over all rows: plain slices, no gather at all
                yield tuple(t[start:start + self.batch_size] for t in tensors)
            else:
                rows = order[start:start + self.batch_size]
                yield tuple(t.index_select(0, rows) for t in tensors)


def to_device_tensors(features, targets, device: str):
    """numpy -> tensors on `device`, sharing memory on the CPU (no copy of a big array)."""
    import numpy as np
    import torch

    X = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(np.ascontiguousarray(targets))
    if device != "cpu":
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
    return X, y
