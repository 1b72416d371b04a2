"""Final metrics (pure functions over numpy arrays), via scikit-learn's reference implementations."""

from __future__ import annotations

import math

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Indices in, plain metric names out; `confusion` is rows = true class, columns = predicted."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    labels = np.arange(n_classes)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision_macro": float(precision),
        "recall_macro": float(recall),
        "f1_macro": float(f1),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "rows": int(len(y_true)),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    # float64: float32 sums of squares drift in the 7th digit (MSE 3874.9016 for 3874.9014)
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    mse = float(mean_squared_error(y_true, y_pred))
    r2 = float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")
    return {"mse": mse, "rmse": math.sqrt(mse), "mae": float(mean_absolute_error(y_true, y_pred)),
            "r2": r2, "rows": int(len(y_true))}


def task_metrics(task: str, y_true: np.ndarray, outputs: np.ndarray, n_classes: int | None) -> dict:
    """Metrics from raw network outputs (logits for classification)."""
    if task == "regression":
        return regression_metrics(y_true, outputs)
    if task == "binary":
        labels = y_true.reshape(-1).astype(np.int64)
        metrics = classification_metrics(labels, (outputs.reshape(-1) > 0).astype(np.int64), 2)
        return {**metrics, **binary_scores(labels, outputs.reshape(-1))}
    return classification_metrics(y_true, outputs.argmax(axis=1), n_classes)


def binary_scores(labels: np.ndarray, logits: np.ndarray) -> dict:
    """ROC AUC (NaN when one class is absent) and log-loss of the positive-class probability."""
    from sklearn.metrics import log_loss, roc_auc_score

    from .predictor import probabilities

    positive = probabilities("binary", logits)[:, 1]
    auc = float(roc_auc_score(labels, positive)) if len(np.unique(labels)) == 2 else float("nan")
    return {"roc_auc": auc, "log_loss": float(log_loss(labels, positive, labels=[0, 1]))}
