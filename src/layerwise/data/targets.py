"""Targets: infer the task, map class labels to indices and back.

The label map is learned from the training targets and saved in model.json as `classes`, the
original labels in index order, so predictions come back as the user's own strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..errors import LayerwiseError

# An integer target is read as class labels when it has repeats and at most FEW_INTEGER_CLASSES
# distinct values (digits, ratings, codes 3/7/9), or up to MAX_INTEGER_CLASSES that are exactly
# 0..k-1 or 1..k (label codes). Other integers are quantities: miles per gallon 11..58 (45 values)
# or inspection scores 66..100 (33) trained as 45 or 33 unrelated classes scored 0.31 accuracy
# where a regression gets R^2 0.9 (benchmarks/quality_extra.py, epa2021 and restaurant). So are
# three or more values a constant step > 1 apart (points on a scale: Chem97's A-level score
# 0, 2, ..., 10, trained as 6 classes, scored R^2 0.23 where a regression gets 0.47): label codes
# are consecutive or irregular, never evenly spread out.
FEW_INTEGER_CLASSES = 10
MAX_INTEGER_CLASSES = 50
# More than FEW_INTEGER_CLASSES consecutive integers whose counts rise to one peak and fall are a
# score or a count, not label codes (rehearsal round 3: the GSS vocabulary score 0..10, counts
# 198 ... 6,107 ... 1,395, trained as 11 classes scored R^2 0.12 where a regression gets 0.27).
# "One peak": the counts go up and down in all no more than twice the gap between the commonest
# and the rarest value, as a single rise and fall does (a second bump, such as a pile-up at a
# score's ceiling, fits if the values between went down less). The counts of label codes go up and
# down at random: of 11 codes with random class sizes, 0.4-1.7% pass (more codes, fewer still).
# The commonest value must also be SCALE_PEAK times the rarest, so level counts (balanced classes)
# stay classes.
SCALE_PEAK = 2
KNOWN_SHOWN = 20  # classes named in the error for a label training never saw (1,000 would fill a screen)


def infer_task(y: np.ndarray, given: Optional[str] = None) -> str:
    y = np.asarray(y)
    if given and given != "auto":
        return given
    if y.ndim == 2 and y.shape[1] > 1:
        return "regression"
    flat = _integral_floats_as_integers(y.reshape(-1))
    if flat.dtype.kind in "OUSb":
        return "binary" if len(np.unique(flat.astype(str))) <= 2 else "multiclass"
    if flat.dtype.kind in "iu":
        values = np.unique(flat)
        distinct = len(values)
        codes = values[0] in (0, 1) and values[-1] - values[0] == distinct - 1  # 0..k-1 or 1..k
        steps = np.unique(np.diff(values))
        if distinct >= 3 and len(steps) == 1 and steps[0] > 1:
            return "regression"
        if codes and distinct > FEW_INTEGER_CLASSES and _one_peak(np.bincount(flat - values[0])):
            return "regression"
        if distinct <= max(2, len(flat) // 2) and (distinct <= FEW_INTEGER_CLASSES
                                                   or (codes and distinct <= MAX_INTEGER_CLASSES)):
            return "binary" if distinct <= 2 else "multiclass"
    return "regression"


def _one_peak(counts: np.ndarray) -> bool:
    """Counts of consecutive values shaped like a score's or a count's (SCALE_PEAK above)."""
    high, low = int(counts.max()), int(counts.min())
    return high >= SCALE_PEAK * low and int(np.abs(np.diff(counts)).sum()) <= 2 * (high - low)


def _integral_floats_as_integers(flat: np.ndarray) -> np.ndarray:
    """Floats that are all whole numbers follow the integer rules (as scikit-learn's
    type_of_target does): a 0/1 or 1..5 column comes out of pandas as float64 whenever the source
    had a gap in it (R's numeric labels, a CSV's `1.0`); trained as a regression it predicts numbers
    between the labels (rehearsal round 2: TV16's votetrump, hfi's quartile 1.0..4.0)."""
    if flat.dtype.kind != "f" or flat.size == 0 or not np.isfinite(flat).all():
        return flat
    if not (flat == np.round(flat)).all() or np.abs(flat).max() >= 2**53:
        return flat
    return flat.astype(np.int64)


def _text_example(y: np.ndarray):
    """The first value of `y` that is not a number (several target columns: numbers and text mixed)."""
    for value in y.reshape(-1):
        if not isinstance(value, (int, float, np.number)) or isinstance(value, bool):
            return _plain(value)
    return _plain(y.reshape(-1)[0]) if y.size else None


def check_target_shape(y, where: str) -> np.ndarray:
    """Targets are (rows,) or (rows, outputs); anything else would broadcast wrongly in the loss."""
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise LayerwiseError(f"{where}: y must be 1-D or 2-D (rows, outputs), got shape {y.shape}")
    return y


def _plain(value: Any) -> Any:
    """numpy scalar -> JSON-able Python value."""
    return value.item() if hasattr(value, "item") else value


@dataclass
class TargetEncoder:
    task: str
    classes: Optional[list[Any]]  # original labels in index order (classification)
    n_outputs: int  # network output size
    # Regression: per-column mean and std of the training targets. The network learns
    # (y - mean) / std, so a target near 1e5 (or 1e30) trains like one near 1; `values` maps
    # its outputs back. None (also for model cards written before this existed) = identity.
    mean: Optional[list[float]] = None
    std: Optional[list[float]] = None
    # Regression: per-column min and max of the training targets. With `clamp` on (preset auto,
    # `data.clamp_predictions`, as RealMLP) `values` keeps predictions inside that range: a test
    # row beyond every training row (an outlier house, a wage spike) then cannot pull the network
    # into an extrapolation no target supports. Stored in model.json only while clamping is on.
    low: Optional[list[float]] = None
    high: Optional[list[float]] = None
    clamp: bool = False

    @classmethod
    def fit(cls, y: np.ndarray, task: str, where: str = "target", rows=None,
            standardize: bool = False) -> "TargetEncoder":
        """Learn the label map (classification) or, with `standardize`, the target scaling
        (regression) from the rows `rows` of y (all rows when None)."""
        y = check_target_shape(y, where)
        if task == "regression":
            if y.dtype.kind not in "biuf":
                raise LayerwiseError(f"{where}: regression needs numeric targets, got text such as {_text_example(y)!r}")
            encoder = cls(task, None, 1 if y.ndim == 1 else y.shape[1])
            if standardize:
                seen = y if rows is None else y[rows]
                encoder.mean, encoder.std = target_scaling(seen, where)
                encoder.low, encoder.high = target_range(seen)
            return encoder
        if y.ndim == 2 and y.shape[1] > 1:
            raise LayerwiseError(f"{where}: classification takes one target column, got {y.shape[1]}")
        labels = np.unique(y.reshape(-1))
        if len(labels) == 0:
            raise LayerwiseError(f"{where}: no rows to train on")
        if len(labels) < 2:
            raise LayerwiseError(f"{where}: only one class ({_plain(labels[0])!r}) in the training data; need at least 2")
        if task == "binary" and len(labels) != 2:
            raise LayerwiseError(f"{where}: binary task needs exactly 2 classes, found {len(labels)}")
        return cls(task, [_plain(v) for v in labels], 1 if task == "binary" else len(labels))

    def encode(self, y: np.ndarray, where: str = "target") -> np.ndarray:
        """multiclass -> int64 (n,); binary -> float32 (n, 1); regression -> float32 (n, k)."""
        y = check_target_shape(y, where)
        if self.task == "regression":
            if y.dtype.kind not in "biuf":
                raise LayerwiseError(f"{where}: regression needs numeric targets")
            values = y.reshape(len(y), -1)
            if self.mean is None:
                return values.astype(np.float32)
            with np.errstate(over="ignore", invalid="ignore"):  # scaled in float64: 1e30 fits
                scaled = (values.astype(np.float64) - np.asarray(self.mean)) / np.asarray(self.std)
            return scaled.astype(np.float32)
        flat = y.reshape(-1)
        index, unknown = self._match(flat)
        if unknown.any():
            self._refuse(flat, unknown, where)
        return index.astype(np.float32).reshape(-1, 1) if self.task == "binary" else index

    def encode_scored(self, y: np.ndarray, where: str = "target") -> tuple[np.ndarray, list[Any]]:
        """Labels of rows to score a trained model on: as `encode`, except that in a multiclass
        task a label training never saw (a rare class whose rows all fell outside the training
        rows) gets an index past the known classes, one per such label in sorted order, so that
        it counts as a wrong prediction (as scikit-learn's accuracy counts it) instead of
        refusing the whole file. Returns (indices, the unseen labels). Rows none of whose labels
        training saw are still refused: that is the wrong file or the wrong column."""
        y = check_target_shape(y, where)
        if self.task != "multiclass":
            return self.encode(y, where), []
        flat = y.reshape(-1)
        index, unknown = self._match(flat)
        if not unknown.any():
            return index, []
        if unknown.all():
            self._refuse(flat, unknown, where)
        text = flat[unknown].astype(str)
        unseen, position = np.unique(text, return_inverse=True)
        index[unknown] = len(self.classes) + position
        first = {str(v): v for v in flat[unknown][::-1]}  # each unseen label as the file wrote it
        return index, [_plain(first[label]) for label in unseen]

    def _match(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(class index of each label, which labels are not classes)."""
        numeric = flat.dtype.kind in "iu" and all(isinstance(c, int) and not isinstance(c, bool) for c in self.classes)
        # Integer labels are matched as integers (a 1M-row target as text would take ~84 MB);
        # anything else is matched by its text, so 1, "1" and np.int64(1) name the same class.
        keys = np.array(self.classes, dtype=np.int64) if numeric else np.array([str(c) for c in self.classes])
        order = np.argsort(keys)
        wanted = flat if numeric else flat.astype(str)
        pos = np.clip(np.searchsorted(keys[order], wanted), 0, len(keys) - 1)
        return order[pos].astype(np.int64), keys[order][pos] != wanted

    def _refuse(self, flat: np.ndarray, unknown: np.ndarray, where: str) -> None:
        row = int(np.flatnonzero(unknown)[0])
        known = ", ".join(map(str, self.classes[:KNOWN_SHOWN]))
        more = f" and {len(self.classes) - KNOWN_SHOWN:,} more" if len(self.classes) > KNOWN_SHOWN else ""
        raise LayerwiseError(f"{where}: row {row + 1} has label {_plain(flat[row])!r}, which training never saw "
                             f"(known: {known}{more})")

    def values(self, outputs: np.ndarray) -> np.ndarray:
        """Regression network outputs (n, k) -> float64 values in the targets' own units."""
        outputs = np.asarray(outputs, dtype=np.float64)
        if self.mean is not None:
            outputs = outputs * np.asarray(self.std) + np.asarray(self.mean)
        if self.clamps:
            outputs = np.clip(outputs, np.asarray(self.low), np.asarray(self.high))
        return outputs

    @property
    def clamps(self) -> bool:
        return self.clamp and self.low is not None

    def scaling(self) -> Optional[dict[str, list[float]]]:
        """What model.json stores under "target_scaling" (None: targets are used as given);
        "low"/"high" only when predictions are clamped to the training range."""
        if self.mean is None:
            return None
        clamp = {"low": list(self.low), "high": list(self.high)} if self.clamps else {}
        return {"mean": list(self.mean), "std": list(self.std), **clamp}

    @classmethod
    def from_meta(cls, meta: dict, n_outputs: int) -> "TargetEncoder":
        scaling = meta.get("target_scaling") or {}
        return cls(meta["task"], meta["classes"], n_outputs, scaling.get("mean"), scaling.get("std"),
                   scaling.get("low"), scaling.get("high"), clamp="low" in scaling)

    def decode(self, index: np.ndarray) -> np.ndarray:
        # The labels' own dtype (int64, str, bool), not object: scikit-learn's metrics reject
        # object arrays of numbers ("mix of binary and unknown targets").
        return np.asarray(self.classes)[np.asarray(index, dtype=np.int64)]


def target_range(y: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-column min and max of (finite, checked by target_scaling) regression targets."""
    values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if len(values) == 0:
        return [-np.inf] * values.shape[1], [np.inf] * values.shape[1]
    return [float(v) for v in values.min(axis=0)], [float(v) for v in values.max(axis=0)]


def target_scaling(y: np.ndarray, where: str) -> tuple[list[float], list[float]]:
    """Per-column mean and std of regression targets, in float64 over values divided by their
    largest magnitude (so 1e300 neither overflows nor loses digits); a constant column keeps std 1."""
    values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise LayerwiseError(f"{where}: row {row + 1} is not a finite number; targets must be finite")
    if len(values) == 0:
        return [0.0] * values.shape[1], [1.0] * values.shape[1]
    magnitude = np.abs(values).max(axis=0)
    magnitude[magnitude == 0] = 1.0
    unit = values / magnitude
    mean = unit.mean(axis=0) * magnitude
    std = unit.std(axis=0) * magnitude
    std = np.where(std > 1e-12 * magnitude, std, 1.0)
    return [float(m) for m in mean], [float(s) for s in std]
