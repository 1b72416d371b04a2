"""Train/validation/test splits as index arrays (stratified for classification).

Splits are indices into one feature matrix, never copies of it: a 1M-row table stays one array.
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def split_indices(indices: np.ndarray, fraction: float, seed: int,
                  labels: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) from `indices`; held_out has round-up(fraction * n) rows, at least 1."""
    if fraction <= 0 or len(indices) < 2:
        return indices, indices[:0]
    from sklearn.model_selection import train_test_split

    stratify = labels[indices] if labels is not None else None
    if stratify is not None:
        _, counts = np.unique(stratify, return_counts=True)
        held = int(np.ceil(fraction * len(indices)))
        # Stratifying needs 2+ rows per class and room for every class on both sides.
        if counts.min() < 2 or held < len(counts) or len(indices) - held < len(counts):
            stratify = None
    # scikit-learn takes seeds in [0, 2**32); callers derive seeds (seed + 1) that may step past it
    kept, held_out = train_test_split(indices, test_size=fraction, random_state=seed % 2 ** 32, stratify=stratify)
    return np.sort(kept), np.sort(held_out)
