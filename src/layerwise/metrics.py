"""Final metrics (pure functions over numpy arrays).

The formulas are scikit-learn's (accuracy_score, precision_recall_fscore_support with macro
averaging and zero_division=0, confusion_matrix, mean_squared_error, mean_absolute_error,
r2_score), written out in NumPy so that scoring a run does not import scikit-learn (~0.9 s);
tests/test_split_metrics.py checks every value against scikit-learn itself.
"""

from __future__ import annotations

import math

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Indices in, plain metric names out; `confusion` is rows = true class, columns = predicted."""
    y_true = np.asarray(y_true).reshape(-1).astype(np.int64)
    y_pred = np.asarray(y_pred).reshape(-1).astype(np.int64)
    confusion = confusion_matrix(y_true, y_pred, n_classes)
    precision, recall, f1, _ = per_class_scores(confusion)
    return {
        "accuracy": float(np.average(y_true == y_pred)),
        "precision_macro": float(np.average(precision)),
        "recall_macro": float(np.average(recall)),
        "f1_macro": float(np.average(f1)),
        "confusion": confusion.tolist(),
        "rows": int(len(y_true)),
    }


def per_class_scores(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, f1, support) per class from a confusion matrix, 0 where undefined:
    `precision_recall_fscore_support(..., average=None, zero_division=0)`."""
    true_positives = np.diag(confusion).astype(np.float64)
    precision = _divide(true_positives, confusion.sum(axis=0))  # per predicted class
    recall = _divide(true_positives, confusion.sum(axis=1))  # per true class
    f1 = _divide(2 * true_positives, confusion.sum(axis=0) + confusion.sum(axis=1))
    return precision, recall, f1, confusion.sum(axis=1)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; labels outside 0..n_classes-1 are left out, as in sklearn."""
    keep = (y_true >= 0) & (y_true < n_classes) & (y_pred >= 0) & (y_pred < n_classes)
    cells = y_true[keep] * n_classes + y_pred[keep]
    return np.bincount(cells, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (zero_division=0)."""
    denominator = denominator.astype(np.float64)
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    # float64: float32 sums of squares drift in the 7th digit (MSE 3874.9016 for 3874.9014)
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    mse = float(np.average(np.average((y_true - y_pred) ** 2, axis=0)))
    mae = float(np.average(np.average(np.abs(y_pred - y_true), axis=0)))
    r2 = r2_score(y_true, y_pred) if len(y_true) > 1 else float("nan")
    return {"mse": mse, "rmse": math.sqrt(mse), "mae": mae, "r2": r2, "rows": int(len(y_true))}


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over outputs of 1 - SS_res / SS_tot; an output with constant truth scores 1.0 when
    predicted exactly and 0.0 otherwise (scikit-learn's force_finite)."""
    numerator = (1.0 * (y_true - y_pred) ** 2).sum(axis=0)
    denominator = (1.0 * (y_true - np.average(y_true, axis=0)) ** 2).sum(axis=0)
    scores = np.ones(y_true.shape[1])
    valid = (denominator != 0) & (numerator != 0)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    scores[(numerator != 0) & (denominator == 0)] = 0.0
    return float(np.average(scores))


def task_metrics(task: str, y_true: np.ndarray, outputs: np.ndarray, n_classes: int | None) -> dict:
    """Metrics from raw network outputs (logits for classification)."""
    if task == "regression":
        return regression_metrics(y_true, outputs)
    from .head import label_indices

    predicted = label_indices(task, outputs)  # what `predict` answers
    if task == "binary":
        labels = y_true.reshape(-1).astype(np.int64)
        metrics = classification_metrics(labels, predicted, 2)
        return {**metrics, **binary_scores(labels, outputs.reshape(-1))}
    return classification_metrics(y_true, predicted, n_classes)


def binary_scores(labels: np.ndarray, logits: np.ndarray) -> dict:
    """ROC AUC (NaN when one class is absent) and log-loss of the positive-class probability."""
    from .head import probabilities

    positive = probabilities("binary", logits)[:, 1]
    auc = roc_auc(labels, positive) if len(np.unique(labels)) == 2 else float("nan")
    return {"roc_auc": auc, "log_loss": binary_log_loss(labels, positive)}


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """`roc_auc_score(labels, scores)` for 0/1 labels with both present: the chance that a random
    positive scores above a random negative (ties count one half), from the scores' mean ranks."""
    labels = np.asarray(labels).reshape(-1).astype(bool)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(scores, kind="mergesort")
    ordered = scores[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # first position of each distinct score
    bounds = np.r_[starts, len(ordered)]
    mean_rank = (bounds[:-1] + bounds[1:] + 1) / 2.0  # 1-based mean rank of each run of ties
    ranks = np.empty(len(scores))
    ranks[order] = mean_rank[np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1]
    positives = int(labels.sum())
    negatives = len(labels) - positives
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def binary_log_loss(labels: np.ndarray, positive: np.ndarray) -> float:
    """`log_loss(labels, positive, labels=[0, 1])`: both class probabilities clipped to
    [eps, 1 - eps] (float64's eps), as scikit-learn does."""
    labels = np.asarray(labels).reshape(-1).astype(np.float64)
    positive = np.asarray(positive, dtype=np.float64).reshape(-1)
    eps = np.finfo(np.float64).eps
    p1, p0 = np.clip(positive, eps, 1 - eps), np.clip(1 - positive, eps, 1 - eps)
    return float(np.mean(-(labels * np.log(p1) + (1 - labels) * np.log(p0))))
