"""Rehearsal round 3 (benchmarks/quality_round3.py): what real tables brought through the CLI path
(train.csv / test.csv, `layerwise train --data --target`) that layerwise misread, reproduced on small
synthetic CSV files (never the tables themselves)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import layerwise
from layerwise.errors import LayerwiseWarning

TINY = {"network": {"hidden": [4]}, "training": {"epochs": 2, "lr": 0.01, "seed": 0, "batch_size": 64}}


def _train_csv(frame: pd.DataFrame, target: str, tmp_path, **data):
    """Train on `frame` written as a CSV file; (run, the LayerwiseWarnings' texts)."""
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    config = {"data": {"source": str(path), "target": target, **data}, **TINY}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = layerwise.train(config, out=tmp_path / "run", quiet=True)
    return run, [str(w.message) for w in caught if issubclass(w.category, LayerwiseWarning)]


def test_a_plot_code_named_like_an_id_is_not_a_row_id(tmp_path) -> None:
    """ratdat's captures: 'plot_id' (24 plots, hundreds of captures each) was warned about as a row
    ID beside 'record_id' (one per capture), the one that is."""
    rng = np.random.default_rng(0)
    rows = 600
    frame = pd.DataFrame({"record_id": rng.permutation(rows) + 1, "plot_id": rng.integers(1, 25, rows),
                          "weight": rng.gamma(3, 10, rows), "y": rng.choice(["DM", "DS", "PP"], rows)})
    _, said = _train_csv(frame, "y", tmp_path)
    assert any("column 'record_id' looks like a row ID" in s for s in said), said
    assert not any("'plot_id'" in s for s in said), said


def _scale(counts) -> np.ndarray:
    """Integers 0..k-1, value v repeated counts[v] times, shuffled."""
    values = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(0).permutation(values)


@pytest.mark.parametrize(("y", "task"), [
    # GSS vocabulary score 0..10 (carData's GSSvocab, counts / 10): a score, trained as 11 classes
    (_scale([20, 51, 90, 160, 280, 452, 611, 442, 295, 211, 140]), "regression"),
    (_scale([900, 450, 300, 180, 90, 60, 40, 20, 12, 8, 5, 3, 2]), "regression"),  # a count 0..12: children, visits
    (np.arange(0, 30).repeat(3), "multiclass"),  # level counts: label codes (unchanged)
    (_scale(np.random.default_rng(1).integers(50, 150, 20)), "multiclass"),  # codes whose counts go up and down
    (np.arange(1, 13).repeat(3), "multiclass"),  # months 1..12
    (_scale([5, 40, 300, 120, 30]), "multiclass"),  # ratings 0..4: at most 10 values stay classes whatever their shape
])
def test_a_score_of_consecutive_integers_with_one_peak_is_a_regression(y, task) -> None:
    from layerwise.data.targets import infer_task

    assert infer_task(y) == task
    assert infer_task(y.astype(np.float64)) == task  # as pandas reads a column with a gap upstream


def test_a_vocabulary_score_in_a_csv_trains_a_regression(tmp_path) -> None:
    """gss_vocab through the CLI path: `vocab` 0.0..10.0 (float: the source had gaps) was trained as
    11 classes, R^2 0.12 on the held-out rows where the regression scores 0.27."""
    rng = np.random.default_rng(2)
    educ = rng.integers(6, 21, 600)
    vocab = np.clip(np.round(educ / 2 + rng.normal(0, 1.5, 600)), 0, 10).astype(float)
    assert len(np.unique(vocab)) == 11
    run, _ = _train_csv(pd.DataFrame({"educ": educ, "vocab": vocab}), "vocab", tmp_path)
    model = layerwise.load(run.dir)
    assert model.task == "regression"
    predicted = np.asarray(model.predict(pd.DataFrame({"educ": [6, 20]})), dtype=float)
    assert predicted.shape == (2,) and np.all((predicted >= 0) & (predicted <= 10))
