"""The splits and metrics written out in NumPy equal scikit-learn's, value for value, and a
train/predict run no longer imports scikit-learn."""

import inspect
import subprocess
import sys

import numpy as np
import pytest

from layerwise import metrics
from layerwise.data.split import shuffle_split, split_indices

model_selection = pytest.importorskip("sklearn.model_selection")
skm = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("n", [2, 10, 97, 1000])
@pytest.mark.parametrize("fraction", [0.1, 0.33, 0.9])
@pytest.mark.parametrize("seed", [0, 12345, 2 ** 32 - 1])
def test_plain_split_equals_train_test_split(n, fraction, seed):
    if np.ceil(fraction * n) >= n:
        pytest.skip("empty train set: both raise")
    theirs = model_selection.train_test_split(np.arange(n), test_size=fraction, random_state=seed)
    ours = shuffle_split(n, fraction, seed)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("fraction", [0.2, 0.25, 0.5])
def test_stratified_split_equals_train_test_split(seed, fraction):
    rng = np.random.default_rng(seed)
    labels = rng.choice(["a", "b", "c", "d"], size=int(rng.integers(40, 300)), p=[0.5, 0.3, 0.15, 0.05])
    theirs = model_selection.train_test_split(np.arange(len(labels)), test_size=fraction,
                                              random_state=seed, stratify=labels)
    ours = shuffle_split(len(labels), fraction, seed, labels)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    two_column = np.stack([labels, labels[::-1]], axis=1)
    if min(np.unique([" ".join(r) for r in two_column], return_counts=True)[1]) >= 2:
        theirs = model_selection.train_test_split(np.arange(len(labels)), test_size=fraction,
                                                  random_state=seed, stratify=two_column)
        for a, b in zip(shuffle_split(len(labels), fraction, seed, two_column), theirs):
            np.testing.assert_array_equal(a, b)


def test_split_indices_keeps_its_contract():
    kept, held = split_indices(np.arange(10, 60), 0.2, 3, labels=np.repeat([0, 1], 30))
    assert len(held) == 10 and len(kept) == 40 and not set(kept) & set(held)
    assert list(kept) == sorted(kept) and set(kept) | set(held) == set(range(10, 60))


@pytest.mark.parametrize("seed", range(8))
def test_classification_metrics_equal_sklearns(seed):
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 7))
    y_true = rng.integers(0, n_classes, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, n_classes, 200))
    if seed % 2:
        y_pred[y_pred == n_classes - 1] = 0  # a class never predicted: zero_division applies
    ours = metrics.classification_metrics(y_true, y_pred, n_classes)
    labels = np.arange(n_classes)
    p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, average="macro",
                                                     zero_division=0)
    assert ours["accuracy"] == skm.accuracy_score(y_true, y_pred)
    assert (ours["precision_macro"], ours["recall_macro"], ours["f1_macro"]) == (p, r, f)
    assert ours["confusion"] == skm.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    per_class = metrics.per_class_scores(metrics.confusion_matrix(y_true, y_pred, n_classes))
    reference = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for a, b in zip(per_class, reference):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("seed", range(4))
def test_regression_metrics_equal_sklearns(outputs, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=(50, outputs)) * 100
    y_pred = y_true + rng.normal(size=(50, outputs))
    if seed == 3:
        y_true[:, 0] = 7.0  # constant truth: sklearn's force_finite rules
    ours = metrics.regression_metrics(y_true, y_pred)
    assert ours["mse"] == skm.mean_squared_error(y_true, y_pred)
    assert ours["mae"] == skm.mean_absolute_error(y_true, y_pred)
    assert ours["r2"] == skm.r2_score(y_true, y_pred)
    assert metrics.r2_score(y_true, y_pred) == skm.r2_score(y_true, y_pred)


@pytest.mark.parametrize("seed", range(6))
def test_binary_scores_equal_sklearns(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 300)
    logits = labels * 1.5 + rng.normal(size=300) * 2
    if seed % 2:
        logits = np.round(logits)  # many tied scores: ties count one half
    if seed == 5:
        logits[:20] = 50.0  # probabilities of exactly 1.0: clipped before the log
    positive = 1 / (1 + np.exp(-logits))
    ours = metrics.binary_scores(labels, logits)
    np.testing.assert_allclose(ours["roc_auc"], skm.roc_auc_score(labels, positive), rtol=1e-12)
    named = "y_proba" if "y_proba" in inspect.signature(skm.log_loss).parameters else "y_pred"  # renamed in 1.9
    np.testing.assert_allclose(ours["log_loss"], skm.log_loss(labels, labels=[0, 1], **{named: positive}), rtol=1e-12)
    assert np.isnan(metrics.binary_scores(np.zeros(5, dtype=int), logits[:5])["roc_auc"])


def test_training_and_reporting_iris_does_not_import_sklearn(tmp_path):
    # data, splits, training, the summary's metrics and the report's diagnostics and plots
    code = ("import sys, layerwise; "
            "run = layerwise.train({'data': {'source': 'builtin:iris'}, 'training': {'epochs': 1}}, "
            f"out={str(tmp_path / 'run')!r}, quiet=True); "
            "assert run.summary['test']['accuracy'] >= 0; "
            "print(sorted(m for m in ('sklearn', 'matplotlib.pyplot', 'torch._dynamo') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
