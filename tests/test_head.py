"""The one prediction head: its NumPy form (predict, evaluate, serve, sklearn, metrics) and its
torch form (exported graphs) agree, and match scipy's softmax/expit as the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax

from layerwise.head import label_indices, labels, probabilities, torch_head


@pytest.mark.parametrize("task, width", [("binary", 1), ("multiclass", 4)])
def test_numpy_and_torch_heads_agree_with_scipy(task, width):
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=6.0, size=(500, width))
    logits[:3] = [[80.0] * width, [-80.0] * width, [0.0] * width]  # overflow-prone and a tie
    proba = probabilities(task, logits)
    reference = (np.stack([1 - expit(logits[:, 0]), expit(logits[:, 0])], axis=1) if task == "binary"
                 else softmax(logits, axis=1))
    np.testing.assert_allclose(proba, reference, rtol=0, atol=1e-12)
    torch_proba, torch_index = torch_head(task, torch.from_numpy(logits).float())
    np.testing.assert_allclose(torch_proba.numpy(), proba, rtol=0, atol=1e-6)
    clear = np.sort(proba, axis=1)[:, -1] - np.sort(proba, axis=1)[:, -2] > 1e-6  # not a near-tie
    assert np.array_equal(torch_index.numpy()[clear], label_indices(task, logits)[clear])
    assert np.array_equal(label_indices(task, logits), reference.argmax(axis=1))


def test_labels_decode_through_the_encoder():
    from layerwise.data.targets import TargetEncoder

    encoder = TargetEncoder("multiclass", ["cat", "dog", "eel"], 3)
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert labels("multiclass", logits, encoder).tolist() == ["dog", "cat", "eel"]
