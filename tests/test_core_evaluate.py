"""evaluate's eval.json against scikit-learn on the same predictions; the run directory's files;
and `--seed N` giving bit-identical weights, metrics.csv (but for wall time) and predictions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import layerwise
from helpers import assert_complete, run_cli


def test_classification_eval_json_matches_sklearn(iris_run) -> None:
    from sklearn import metrics
    from sklearn.datasets import load_iris

    result = run_cli(["evaluate", iris_run.dir, "--data", "builtin:iris"])
    assert result.code == 0, result.err
    written = json.loads((iris_run.dir / "eval.json").read_text())
    assert written["task"] == "multiclass" and written["split"] == "all rows"
    bunch = load_iris()
    truth = np.asarray(bunch.target_names)[bunch.target]
    predicted = layerwise.load(iris_run.dir).predict(pd.DataFrame(bunch.data, columns=bunch.feature_names))
    classes = ["setosa", "versicolor", "virginica"]
    got = written["metrics"]
    assert got["rows"] == 150
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(truth, predicted), abs=1e-12)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(truth, predicted, average="macro",
                                                                       labels=classes, zero_division=0)
    assert (got["precision_macro"], got["recall_macro"], got["f1_macro"]) == pytest.approx((precision, recall, f1), abs=1e-12)
    assert got["confusion"] == metrics.confusion_matrix(truth, predicted, labels=classes).tolist()
    assert "accuracy" in result.out and "confusion" in result.out


def test_binary_eval_json_matches_sklearn(table_run, table_csv) -> None:
    from sklearn import metrics

    result = run_cli(["evaluate", table_run.dir, "--data", table_csv])
    assert result.code == 0, result.err
    got = json.loads((table_run.dir / "eval.json").read_text())["metrics"]
    frame = pd.read_csv(table_csv)
    predicted = layerwise.load(table_run.dir).predict(frame.drop(columns=["label"]))
    assert predicted.dtype.kind == "U"  # plain strings, not objects
    truth = frame["label"].to_numpy()
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(truth, predicted), abs=1e-12)
    assert got["f1_macro"] == pytest.approx(metrics.f1_score(truth, predicted, average="macro"), abs=1e-12)
    assert got["confusion"] == metrics.confusion_matrix(truth, predicted, labels=["raw", "ripe"]).tolist()


def test_regression_eval_json_matches_sklearn(regression_run) -> None:
    from sklearn import metrics
    from sklearn.datasets import load_diabetes

    result = run_cli(["evaluate", regression_run.dir, "--data", "builtin:diabetes"])
    assert result.code == 0, result.err
    got = json.loads((regression_run.dir / "eval.json").read_text())["metrics"]
    bunch = load_diabetes()
    predicted = layerwise.load(regression_run.dir).predict(pd.DataFrame(bunch.data, columns=bunch.feature_names))
    mse = metrics.mean_squared_error(bunch.target, predicted)
    assert got["mse"] == pytest.approx(mse, rel=1e-9)
    assert got["rmse"] == pytest.approx(np.sqrt(mse), rel=1e-9)
    assert got["mae"] == pytest.approx(metrics.mean_absolute_error(bunch.target, predicted), rel=1e-9)
    assert got["r2"] == pytest.approx(metrics.r2_score(bunch.target, predicted), rel=1e-9)
    assert got["r2"] > 0.3  # 30 epochs of a 10-16-1 MLP; the mean guess scores 0


def test_evaluate_uses_the_sources_own_test_part(tmp_path: Path) -> None:
    from sklearn import metrics

    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] > 0).astype(np.int64)
    np.savez(tmp_path / "d.npz", x=x, y=y, x_test=x[:40] * 2, y_test=y[:40])
    run = layerwise.train({"data": {"source": str(tmp_path / "d.npz")}, "network": {"hidden": [8]},
                           "training": {"epochs": 30, "lr": 0.01}}, out=tmp_path / "run", quiet=True)
    assert run.summary["test_rows"] == 40  # the npz's own test part, not a split
    result = run_cli(["evaluate", run.dir, "--data", tmp_path / "d.npz"])
    assert result.code == 0, result.err
    written = json.loads((run.dir / "eval.json").read_text())
    assert written["split"] == "test part" and written["metrics"]["rows"] == 40
    expected = metrics.accuracy_score(y[:40], layerwise.load(run.dir).predict(x[:40] * 2))
    assert written["metrics"]["accuracy"] == pytest.approx(expected, abs=1e-12)


def test_run_directory_holds_every_file_with_the_contracts_contents(iris_run) -> None:
    run_dir = iris_run.dir
    assert_complete(run_dir, classification=True)
    summary = json.loads((run_dir / "summary.json").read_text())
    test = summary["test"]
    assert {"accuracy", "precision_macro", "recall_macro", "f1_macro", "confusion"} <= set(test)
    assert test["rows"] == 30 and sum(map(sum, test["confusion"])) == 30  # 20% of iris
    assert test["accuracy"] == pytest.approx(np.trace(test["confusion"]) / 30)
    assert {"best_epoch", "train_rows", "seconds"} <= set(summary) and summary["train_rows"] == 96
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["training"]["seed"] == 0 and config["network"]["input_size"] == 4
    assert config["resolved"]["layerwise_version"] == layerwise.__version__
    import torch

    assert config["resolved"]["torch_version"] == str(torch.__version__)
    with open(run_dir / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:5] == ["epoch", "train_loss", "val_loss", "val_accuracy", "lr"]
    assert "epoch_seconds" in rows[0] and len(rows) == summary["epochs_run"]
    assert [int(r["epoch"]) for r in rows] == list(range(1, len(rows) + 1))
    # the loss went down: the first epoch's validation loss is above the best one
    assert float(rows[0]["val_loss"]) > min(float(r["val_loss"]) for r in rows)
    for png in ("loss.png", "confusion.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((run_dir / "model.json").read_text())
    assert (meta["format"], meta["format_version"]) == ("layerwise-model", 1)
    assert meta["network"] == {"input_size": 4, "hidden": [16], "activations": ["relu"], "output_size": 3,
                               "output_activation": "identity", "bias": True, "dropout": 0.0,
                               "batch_norm": False, "flatten": False}
    assert meta["targets"] == ["target"]


TRAIN = ["--target", "label", "--hidden", "12", "8", "--dropout", "0.2", "--epochs", "4", "--batch-size", "16", "-q"]


def _metrics_without_wall_time(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k != "epoch_seconds"} for row in csv.DictReader(handle)]


def test_seed_gives_bit_identical_weights_metrics_and_predictions(tmp_path: Path, table_csv: Path) -> None:
    """Same seed: once in this process, once in a fresh one with another hash seed (set and dict
    orders differ there); a third run with another seed must differ, or the test could not fail."""
    from helpers import run_subprocess

    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert run_cli(["train", "--data", table_csv, *TRAIN, "--seed", "7", "--out", first]).code == 0
    done = run_subprocess(["train", "--data", table_csv, *TRAIN, "--seed", "7", "--out", second],
                          env={"PYTHONHASHSEED": "12345"})
    assert done.code == 0, done.err
    assert run_cli(["train", "--data", table_csv, *TRAIN, "--seed", "8", "--out", other]).code == 0
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    assert _metrics_without_wall_time(first) == _metrics_without_wall_time(second)
    predictions = [run_cli(["predict", d, "--input", table_csv]).out for d in (first, second, other)]
    assert predictions[0] == predictions[1] and predictions[0].count("\n") == 161
    assert (first / "model.safetensors").read_bytes() != (other / "model.safetensors").read_bytes()
    assert _metrics_without_wall_time(first) != _metrics_without_wall_time(other)
