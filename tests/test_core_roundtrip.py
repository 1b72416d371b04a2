"""save -> load -> predict: a run directory rebuilds its network, preprocessing and label map from
its own files, and gives the same outputs as the network that was trained.

The NumPy forward pass below is the reference: it reads only model.safetensors and model.json,
as docs/contracts.md describes them, so the files are checked against the contract, not against
layerwise's own loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import layerwise
from helpers import assert_complete, mixed_table, run_cli

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def iris_features() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    return pd.DataFrame(load_iris().data, columns=IRIS_COLUMNS)


def numpy_forward(run_dir: Path, X: np.ndarray) -> np.ndarray:
    """Standardise with model.json's statistics, then fc1 -> relu -> ... -> fcL, in float64."""
    from safetensors.numpy import load_file

    meta = json.loads((run_dir / "model.json").read_text())
    weights = load_file(str(run_dir / "model.safetensors"))
    numeric = meta["preprocessing"]["numeric"]
    h = (X - np.array([c["mean"] for c in numeric])) / np.array([c["std"] for c in numeric])
    layers = len(meta["network"]["hidden"]) + 1
    for i in range(1, layers + 1):
        h = h @ weights[f"fc{i}.weight"].astype(np.float64).T + weights[f"fc{i}.bias"]
        if i < layers:
            assert meta["network"]["activations"][i - 1] == "relu"
            h = np.maximum(h, 0.0)
    return h


def test_loaded_predictor_gives_identical_outputs(iris_run) -> None:
    X = iris_features()
    loaded = layerwise.load(iris_run.dir)
    np.testing.assert_array_equal(loaded.predict_proba(X), iris_run.predictor.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), iris_run.predict(X))
    assert list(loaded.classes_) == ["setosa", "versicolor", "virginica"]


def test_run_files_follow_the_contract_numpy_forward_pass_agrees(iris_run) -> None:
    X = iris_features()
    logits = numpy_forward(iris_run.dir, X.to_numpy())
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(layerwise.load(iris_run.dir).predict_proba(X), expected, atol=1e-5)
    # the run learned: the training set is mostly right (3 classes: chance is 1/3)
    assert (layerwise.load(iris_run.dir).predict(X) == np.repeat(["setosa", "versicolor", "virginica"], 50)).mean() > 0.9


def test_predict_cli_writes_original_labels_and_one_probability_per_class(iris_run, tmp_path: Path) -> None:
    X = iris_features()
    X.to_csv(tmp_path / "rows.csv", index=False)
    result = run_cli(["predict", iris_run.dir, "--input", tmp_path / "rows.csv", "--output", tmp_path / "p.csv"])
    assert result.code == 0, result.err
    written = pd.read_csv(tmp_path / "p.csv")
    assert list(written.columns) == ["prediction", "proba_setosa", "proba_versicolor", "proba_virginica"]
    np.testing.assert_array_equal(written["prediction"].to_numpy(dtype=object), iris_run.predict(X))
    np.testing.assert_allclose(written.iloc[:, 1:].to_numpy(), iris_run.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(written.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-9)


def test_predict_values_predicts_one_row(iris_run) -> None:
    result = run_cli(["predict", iris_run.dir, "--values", "6.7,3.0,5.2,2.3"])
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    row = pd.DataFrame([[6.7, 3.0, 5.2, 2.3]], columns=IRIS_COLUMNS)
    assert shown["prediction"] == iris_run.predict(row)[0]
    proba = iris_run.predict_proba(row)[0]
    # --values runs the network in NumPy (no torch import): equal to float32 precision
    assert [shown[f"proba_{c}"] for c in ("setosa", "versicolor", "virginica")] == pytest.approx(proba, rel=1e-5)


def test_string_labels_round_trip_through_a_table_with_categories_and_gaps(table_run, table_csv, tmp_path) -> None:
    meta = json.loads((table_run.dir / "model.json").read_text())
    assert meta["task"] == "binary" and meta["classes"] == ["raw", "ripe"]
    frame = pd.read_csv(table_csv)
    rows = frame.drop(columns=["label"])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    result = run_cli(["predict", table_run.dir, "--input", tmp_path / "rows.csv", "--output", tmp_path / "p.csv"])
    assert result.code == 0, result.err
    written = pd.read_csv(tmp_path / "p.csv")
    assert list(written.columns) == ["prediction", "proba_raw", "proba_ripe"]
    assert (written["prediction"] == frame["label"]).mean() > 0.85  # learnable; chance is ~0.5
    np.testing.assert_array_equal(written["prediction"].to_numpy(dtype=object),
                                  layerwise.load(table_run.dir).predict(rows))


def test_multi_output_regression_predicts_one_column_per_target(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    run = layerwise.train(examples / "apples_oranges.yaml", out=tmp_path / "run", quiet=True)
    assert_complete(run.dir, classification=False)
    assert not (run.dir / "confusion.png").exists()
    pd.DataFrame([[73, 67, 43]], columns=["temp", "rainfall", "humidity"]).to_csv(tmp_path / "x.csv", index=False)
    result = run_cli(["predict", run.dir, "--input", tmp_path / "x.csv"])
    assert result.code == 0, result.err
    header, values = result.out.strip().splitlines()
    assert header == "prediction_apples,prediction_oranges"
    # tutorial row 1: 56 apples, 70 oranges; a linear fit of the 15 rows lands within a few units
    apples, oranges = map(float, values.split(","))
    assert abs(apples - 56) < 6 and abs(oranges - 70) < 6


def test_safetensors_keys_for_batch_norm_and_no_bias(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    run = layerwise.train({"data": {"source": "builtin:iris"},
                           "network": {"hidden": [5, 4], "batch_norm": True, "bias": False},
                           "training": {"epochs": 1}}, out=tmp_path / "run", quiet=True)
    shapes = {k: v.shape for k, v in load_file(str(run.dir / "model.safetensors")).items()}
    assert shapes == {
        "fc1.weight": (5, 4), "fc2.weight": (4, 5), "fc3.weight": (3, 4),
        **{f"bn{i}.{p}": (n,) for i, n in ((1, 5), (2, 4)) for p in ("weight", "bias", "running_mean", "running_var")},
        "bn1.num_batches_tracked": (), "bn2.num_batches_tracked": (),
    }
    X = iris_features()
    np.testing.assert_array_equal(layerwise.load(run.dir).predict_proba(X), run.predict_proba(X))


def test_unseen_category_at_predict_time_is_an_all_zero_block(table_run) -> None:
    predictor = layerwise.load(table_run.dir)
    rows = pd.DataFrame({"size": [10.0, 10.0], "weight": [50.0, np.nan], "colour": ["purple", None]})
    features = predictor.transform(rows)
    names = predictor.preprocessor.feature_names
    onehot = [j for j, name in enumerate(names) if name.startswith("colour=")]
    assert [names[j] for j in onehot] == ["colour=blue", "colour=green", "colour=red"]
    np.testing.assert_array_equal(features[:, onehot], 0.0)
    assert predictor.predict(rows).tolist()[0] in ("raw", "ripe")


def test_missing_numbers_become_the_training_median_plus_an_indicator(table_run, table_csv) -> None:
    from layerwise.data.split import split_indices

    predictor = layerwise.load(table_run.dir)
    names = predictor.preprocessor.feature_names
    assert "weight_missing" in names and "size_missing" not in names  # only 'weight' had gaps
    # The median is learned on the training rows only: recompute it from the same split.
    frame = pd.read_csv(table_csv)
    labels = pd.factorize(frame["label"], sort=True)[0]
    rest, _ = split_indices(np.arange(len(frame)), 0.2, 0, labels)
    train, _ = split_indices(rest, 0.2, 1, labels)
    weight = frame["weight"].to_numpy()
    median = np.nanmedian(weight[train])
    assert median != pytest.approx(np.nanmedian(weight))  # the all-rows median would differ
    stats = next(c for c in predictor.preprocessor.state["numeric"] if c["name"] == "weight")
    assert stats["median"] == pytest.approx(median)
    row = predictor.transform(pd.DataFrame({"size": [10.0], "weight": [np.nan], "colour": ["red"]}))[0]
    assert row[names.index("weight")] == pytest.approx((median - stats["mean"]) / stats["std"], rel=1e-6)
    assert row[names.index("weight_missing")] == 1.0
    # standardisation uses the training rows' mean (imputed gaps included)
    filled = np.where(np.isnan(weight[train]), median, weight[train])
    assert stats["mean"] == pytest.approx(filled.mean()) and stats["std"] == pytest.approx(filled.std())
