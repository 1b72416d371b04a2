"""Columns are matched by name, and extra columns ignored with the same warning, by explain
--data, predict, evaluate, the Python API and the scikit-learn estimators (serve: test_serve.py);
the estimators take DataFrames with text columns and gaps through `train`'s own preprocessing."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import layerwise
from layerwise.errors import LayerwiseWarning

TINY = {"network": {"hidden": [3]}, "training": {"epochs": 2, "lr": 0.01, "seed": 0, "batch_size": 16}}


def _table(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(30, 8, n), "sex": rng.choice(["female", "male"], n),
                          "fare": rng.exponential(20, n), "survived": rng.choice(["no", "yes"], n)})
    frame.loc[::6, "age"] = np.nan
    frame.loc[::10, "sex"] = None
    return frame


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("consistency")
    _table().to_csv(root / "train.csv", index=False)
    run = layerwise.train({"data": {"source": str(root / "train.csv"), "target": "survived"}, **TINY},
                          out=root / "run", quiet=True)
    reordered = _table()[["survived", "fare", "sex", "age"]].assign(cabin="C85")  # new order, one extra column
    reordered.to_csv(root / "reordered.csv", index=False)
    return run, root


def _layerwise(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layerwise", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


EXTRA = "ignoring 1 column(s) the model does not use: cabin"


def test_explain_data_matches_columns_by_name(table_run) -> None:
    run, root = table_run
    original = _layerwise("explain", run.dir, "--data", root / "train.csv", "--input-row", 4)
    reordered = _layerwise("explain", run.dir, "--data", root / "reordered.csv", "--input-row", 4)
    assert original.returncode == 0 and reordered.returncode == 0, reordered.stderr
    assert "input x = " in original.stdout
    # the same worked numbers, whatever the column order; the extra column is named
    strip = [line for line in reordered.stdout.splitlines() if not line.startswith("note: row 4")]
    assert strip == [line for line in original.stdout.splitlines() if not line.startswith("note: row 4")]
    assert f"warning: row 4 of {root / 'reordered.csv'}: {EXTRA}" in reordered.stderr


def test_predict_and_evaluate_treat_the_extra_column_alike(table_run) -> None:
    run, root = table_run
    predicted = _layerwise("predict", run.dir, "--input", root / "reordered.csv")
    evaluated = _layerwise("evaluate", run.dir, "--data", root / "reordered.csv")
    for done in (predicted, evaluated):
        assert done.returncode == 0, done.stderr
        assert f"warning: {root / 'reordered.csv'}: {EXTRA}" in done.stderr
    expected = layerwise.load(run.dir).predict(_table())
    assert pd.read_csv(pd.io.common.StringIO(predicted.stdout))["prediction"].tolist() == list(expected)


def test_python_api_and_estimators_warn_the_same_way(table_run) -> None:
    from layerwise.sklearn import NetClassifier

    run, root = table_run
    reordered = pd.read_csv(root / "reordered.csv").drop(columns="survived")
    pattern = EXTRA.replace("(", r"\(").replace(")", r"\)")
    with pytest.warns(LayerwiseWarning, match=pattern):
        by_api = layerwise.load(run.dir).predict(reordered)
    assert list(by_api) == list(layerwise.load(run.dir).predict(_table().drop(columns="survived")))
    frame = _table()
    clf = NetClassifier(hidden=(3,), epochs=2, random_state=0).fit(frame.drop(columns="survived"), frame["survived"])
    with pytest.warns(LayerwiseWarning, match=pattern):
        by_estimator = clf.predict(reordered)
    assert list(by_estimator) == list(clf.predict(frame.drop(columns="survived")))


def test_estimators_take_text_columns_and_gaps_through_trains_preprocessing() -> None:
    from layerwise.sklearn import NetClassifier, NetRegressor

    frame = _table()
    X, y = frame.drop(columns="survived"), frame["survived"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no scikit-learn conversion errors or warnings
        clf = NetClassifier(hidden=(3,), epochs=3, random_state=0).fit(X, y)
        reg = NetRegressor(hidden=(3,), epochs=3, random_state=0).fit(X, frame["fare"] * 2)
    # the preprocessing is exactly what `layerwise.fit` learns from the same rows (all of them)
    run = layerwise.fit({"data": {"val_split": 0.0, "test_split": 0.0}, **TINY}, data=(X, y))
    assert clf.predictor_.preprocessor.state == run.predictor.preprocessor.state
    assert clf.predictor_.preprocessor.state["categorical"][0]["categories"] == ["female", "male"]
    assert set(clf.predict(X)) <= {"no", "yes"} and np.isfinite(reg.predict(X)).all()
    assert list(clf.feature_names_in_) == ["age", "sex", "fare"]
