"""Train/validation/test splits as index arrays (stratified for classification).

Splits are indices into one feature matrix, never copies of it: a 1M-row table stays one array.

The draws are scikit-learn's `train_test_split` (ShuffleSplit, or StratifiedShuffleSplit when
labels are given), step for step on the same `RandomState`, so a seed gives the same rows it
always gave; tests/test_split_metrics.py checks that against scikit-learn itself. It is written
out here because importing scikit-learn costs ~0.9 s of every `layerwise train`.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np


def split_indices(indices: np.ndarray, fraction: float, seed: int,
                  labels: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) from `indices`; held_out has round-up(fraction * n) rows, at least 1."""
    if fraction <= 0 or len(indices) < 2:
        return indices, indices[:0]
    stratify = labels[indices] if labels is not None else None
    if stratify is not None:
        _, counts = np.unique(stratify, return_counts=True)
        held = int(np.ceil(fraction * len(indices)))
        # Stratifying needs 2+ rows per class and room for every class on both sides.
        if counts.min() < 2 or held < len(counts) or len(indices) - held < len(counts):
            stratify = None
    # scikit-learn takes seeds in [0, 2**32); callers derive seeds (seed + 1) that may step past it
    kept, held_out = shuffle_split(len(indices), fraction, seed % 2 ** 32, stratify)
    return np.sort(indices[kept]), np.sort(indices[held_out])


def shuffle_split(n: int, test_fraction: float, seed: int,
                  stratify: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """(train positions, test positions) exactly as `train_test_split(range(n), test_size=
    test_fraction, random_state=seed, stratify=stratify)` draws them."""
    n_test = math.ceil(test_fraction * n)
    n_train = n - n_test
    if n_train <= 0:
        raise ValueError(f"With n_samples={n}, test_size={test_fraction} and train_size=None, "
                         "the resulting train set will be empty")
    rng = np.random.RandomState(seed)
    if stratify is None:
        permutation = rng.permutation(n)
        return permutation[n_test:n_test + n_train], permutation[:n_test]
    y = np.asarray(stratify)
    if y.ndim == 2:  # multi-output labels: one class per distinct row, as scikit-learn does
        y = np.array([" ".join(row.astype("str")) for row in y])
    _, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list = []
    test: list = []
    for i, members in enumerate(class_indices):
        shuffled = members.take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(shuffled[:n_i[i]])
        test.extend(shuffled[n_i[i]:n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """scikit-learn's `_approximate_mode`: per-class draws proportional to the counts, the
    rounding remainder given to the largest leftovers, ties broken with `rng`."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (candidates,) = np.where(remainder == value)
            add_now = min(len(candidates), need_to_add)
            floored[rng.choice(candidates, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)
