"""Rehearsal round 3 (benchmarks/quality_round3.py): what real tables brought through the CLI path
(train.csv / test.csv, `layerwise train --data --target`) that layerwise misread, reproduced on small
synthetic CSV files (never the tables themselves)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

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
