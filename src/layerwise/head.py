"""The prediction head: a network's raw outputs -> class probabilities -> labels, in one place.

Predictor (predict, predict_proba), the predict/evaluate tables, serve, the metrics, the sklearn
estimators and the report read outputs through here; `torch_head` is the same head for the
exported graph (ONNX/TorchScript), and tests/test_head.py checks the two forms agree.

  binary      one logit z -> [1 - σ(z), σ(z)]
  multiclass  logits      -> softmax
  label       the column of the largest probability (ties: the first), decoded by the encoder
"""

from __future__ import annotations

import numpy as np


def probabilities(task: str, outputs: np.ndarray) -> np.ndarray:
    """(n, n_classes) float64 probabilities from logits: (n, 1) for binary, (n, k) multiclass."""
    if task == "binary":
        logits = outputs.reshape(-1).astype(np.float64)
        # the two-sided form never exponentiates a large positive number: no overflow, no warning
        exp_neg = np.exp(-np.abs(logits))
        positive = np.where(logits >= 0, 1.0 / (1.0 + exp_neg), exp_neg / (1.0 + exp_neg))
        return np.stack([1.0 - positive, positive], axis=1)
    shifted = outputs.astype(np.float64) - outputs.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def label_indices(task: str, outputs: np.ndarray) -> np.ndarray:
    """(n,) int64 class index of each row (an index into the encoder's classes)."""
    return probabilities(task, outputs).argmax(axis=1)


def labels(task: str, outputs: np.ndarray, encoder) -> np.ndarray:
    """(n,) the original class labels."""
    return encoder.decode(label_indices(task, outputs))


def torch_head(task: str, outputs):
    """The head in torch, for exported graphs: (probabilities (n, n_classes), label index (n,))."""
    import torch

    if task == "binary":
        positive = torch.sigmoid(outputs)
        proba = torch.cat([1.0 - positive, positive], dim=1)
    else:
        proba = torch.softmax(outputs, dim=1)
    return proba, proba.argmax(dim=1)
