"""A bagged ensemble (`training.ensemble_kind: bagging`, preset auto's default on small tables):
K independent networks trained at once (the `--repeat` engine, copies.py) where member i holds out
its own validation rows, drawn from the run's training + validation rows as the run's own split
is, with the split seed moved by i. Member 0 keeps the run's split exactly.

Each member sees a different 80% of the rows, so their errors differ more than those of members
that share one split, and between them they train on every row. Each member keeps its own best
epoch, judged on its own validation rows, as it would trained alone (members.BaggedTrainer); the
ensemble stops when none has improved for `patience` epochs. Its validation score is the
out-of-fold prediction's: each held-out row predicted by the mean of the members that did not
train on it, an honest score for the ensemble as a whole.
"""

from __future__ import annotations

import numpy as np

from ..data.split import split_indices


def member_splits(prepared, members: int, val_fraction: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(train rows, validation rows)] of each member; every member has as many rows as member 0."""
    pool = np.union1d(prepared.train_idx, prepared.val_idx)
    labels = prepared.targets.reshape(-1) if prepared.task != "regression" else None
    splits = [(prepared.train_idx, prepared.val_idx)]
    for index in range(1, members):
        # seed + 1 is the run's own validation split (prepare.py); members step on from there
        train, val = split_indices(pool, val_fraction, seed + 1 + index * 7919, labels)
        splits.append((train, val))
    return splits


def holdout_mask(splits) -> tuple[np.ndarray, np.ndarray]:
    """(rows held out by at least one member, sorted; (K, rows) bool: member k held that row out)."""
    rows = np.unique(np.concatenate([val for _, val in splits]))
    return rows, np.stack([np.isin(rows, val) for _, val in splits])
