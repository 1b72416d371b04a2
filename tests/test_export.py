"""ONNX and TorchScript exports against the reference: layerwise's own predictor on held-out rows
(rows the network never trained on, raw and unscaled, with gaps and unseen categories). The
exported file must carry its preprocessing, so only raw values go in."""

import json

import numpy as np
import onnx
import pandas as pd
import pytest
import torch

import layerwise
from helpers import assert_user_error, mixed_table, run_cli
from layerwise.export import export, run_onnx, run_torchscript

PARITY = 1e-5  # max |exported - layerwise| on probabilities, and on predicted values up to 1 in size
# Larger regression values are compared relative to their size: float32 has no 1e-5 resolution at
# diabetes' 25..346 (one ulp at 256 is 3e-5), so two correct float32 GEMMs may differ by that much.


def _held_out(source: str, seed: int = 0):
    """(train, test) halves of a built-in table, split here so the test rows are never trained on."""
    from sklearn.model_selection import train_test_split

    from layerwise.data.sources import load_source

    data = load_source(source)
    return train_test_split(data.X, data.y, test_size=0.3, random_state=seed)


def _train(tmp_path, name: str, data, **network):
    config = {"network": {"hidden": [16], **network}, "data": {"val_split": 0.2},
              "training": {"epochs": 15, "lr": 0.01, "seed": 0, "device": "cpu"}}
    return layerwise.train(config, data=data, out=tmp_path / name, quiet=True)


def _onnx_inputs(frame: pd.DataFrame, categorical: list[str]) -> list[np.ndarray]:
    numeric = frame.drop(columns=categorical).to_numpy(dtype=np.float32)
    if not categorical:
        return [numeric]
    strings = frame[categorical].astype(object).where(frame[categorical].notna(), "").to_numpy(dtype=str)
    return [numeric, strings]


def _check_parity(path, predictor, frame, inputs):
    outputs = run_onnx(path, inputs)
    if predictor.task == "regression":
        want = predictor.outputs(frame)  # (n, targets)
        difference = (np.abs(outputs[0] - want) / np.maximum(1.0, np.abs(want))).max()
    else:
        difference = np.abs(outputs[0] - predictor.predict_proba(frame)).max()
        labels = np.asarray(predictor.encoder.classes, dtype=object)[outputs[1]]
        np.testing.assert_array_equal(labels, predictor.predict(frame))
    assert difference <= PARITY, difference
    return difference


@pytest.mark.parametrize("source", ["builtin:iris", "builtin:breast_cancer", "builtin:diabetes",
                                    "builtin:apples_oranges"])  # 3 classes, 2 classes, 1 and 2 targets
def test_onnx_matches_layerwise_on_held_out_rows(tmp_path, source):
    X_train, X_test, y_train, y_test = _held_out(source)
    run = _train(tmp_path, "run", (X_train, y_train))
    path = export(run.dir, tmp_path / "model.onnx")
    frame = X_test.astype(np.float32)  # the graph takes float32: compare on the same values
    difference = _check_parity(path, layerwise.load(run.dir), frame, _onnx_inputs(frame, []))
    print(f"{source}: ONNX vs layerwise max diff {difference:.1e} on {len(frame)} held-out rows")


def test_onnx_takes_raw_strings_and_gaps_for_a_mixed_table(tmp_path, table_run):
    """table_run: numeric column with gaps (median + indicator), categorical column with gaps."""
    frame = mixed_table(n=60, seed=9).drop(columns="label")
    frame.loc[[1, 5], "colour"] = "purple"  # unseen: the all-zero block, in both
    frame["size"] = frame["size"].astype(np.float32)
    frame["weight"] = frame["weight"].astype(np.float32)
    predictor = layerwise.load(table_run.dir)
    path = export(table_run.dir, tmp_path / "fruit.onnx")
    assert frame["weight"].isna().any() and frame["colour"].isna().any()
    _check_parity(path, predictor, frame, _onnx_inputs(frame, ["colour"]))
    graph = onnx.load(str(path)).graph
    types = {i.name: i.type.tensor_type.elem_type for i in graph.input}
    assert types == {"features": onnx.TensorProto.FLOAT, "categorical": onnx.TensorProto.STRING}


def test_onnx_metadata_carries_the_label_map_and_inputs(table_run, tmp_path):
    path = export(table_run.dir, tmp_path / "fruit.onnx")
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["classes"]) == ["raw", "ripe"] and meta["task"] == "binary"
    inputs = json.loads(meta["inputs"])
    assert [(i["name"], i["columns"]) for i in inputs] == [("features", ["size", "weight"]),
                                                          ("categorical", ["colour"])]
    assert inputs[1]["categories"] == {"colour": ["blue", "green", "red"]}
    assert json.loads(meta["model_json"]) == layerwise.load(table_run.dir).meta
    assert json.loads(meta["outputs"]) == ["probabilities", "label_index"]


def test_images_and_batch_norm_networks_export(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * 16).astype(np.uint8)  # 0..255 bytes: divided by 255 in the graph
    run = _train(tmp_path, "digits", (images[:1200], digits.target[:1200]), batch_norm=True, dropout=0.2)
    predictor = layerwise.load(run.dir)
    path = export(run.dir, tmp_path / "digits.onnx")
    held_out = images[1200:].reshape(len(images) - 1200, -1).astype(np.float32)
    _check_parity(path, predictor, held_out, [held_out])


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torchscript_matches_and_carries_metadata(tmp_path, table_run):
    frame = mixed_table(n=40, seed=3).drop(columns="label")
    frame[["size", "weight"]] = frame[["size", "weight"]].astype(np.float32)
    predictor = layerwise.load(table_run.dir)
    path = export(table_run.dir, tmp_path / "fruit.pt", format="torchscript")
    extra = {"layerwise.json": ""}
    module = torch.jit.load(str(path), _extra_files=extra)
    assert json.loads(json.loads(extra["layerwise.json"])["classes"]) == ["raw", "ripe"]
    assert module is not None
    probabilities, labels = run_torchscript(path, predictor, _onnx_inputs(frame, ["colour"]))
    assert np.abs(probabilities - predictor.predict_proba(frame)).max() <= PARITY
    np.testing.assert_array_equal(np.asarray(predictor.encoder.classes, dtype=object)[labels],
                                  predictor.predict(frame))


def test_a_fitted_scikit_learn_estimator_exports_through_its_predictor(tmp_path):
    from sklearn.datasets import load_wine

    from layerwise.sklearn import NetClassifier

    X, y = load_wine(return_X_y=True)
    model = NetClassifier(hidden=(16,), epochs=30).fit(X[::2], y[::2])
    path = export(model.predictor_, tmp_path / "wine.onnx")
    probabilities = run_onnx(path, [X[1::2].astype(np.float32)])[0]
    assert np.abs(probabilities - model.predict_proba(X[1::2].astype(np.float32))).max() <= PARITY


def test_cli_export_writes_checks_and_refuses_mistakes(tmp_path, iris_run):
    result = run_cli(["export", iris_run.dir, "--format", "onnx", "-o", tmp_path / "iris.onnx"])
    assert result.code == 0, result.err
    assert "check  max |onnx - layerwise|" in result.out and (tmp_path / "iris.onnx").is_file()
    difference = float(result.out.split("layerwise| = ")[1].split()[0])
    assert difference <= PARITY
    result = run_cli(["export", iris_run.dir, "--format", "torchscript", "--no-check", "-o", tmp_path / "iris.pt"])
    assert result.code == 0 and "categorical" not in result.out and (tmp_path / "iris.pt").is_file()
    assert_user_error(run_cli(["export", iris_run.dir, "--format", "tflite", "-o", tmp_path / "x"]), "tflite")
    assert_user_error(run_cli(["export", tmp_path / "missing"]), "missing")
    assert_user_error(run_cli(["export", iris_run.dir, "-o", tmp_path / "no" / "dir" / "m.onnx"]), "does not exist")
    assert not (tmp_path / "x").exists()


def test_missing_export_extra_is_a_one_line_hint(monkeypatch, iris_run, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    assert_user_error(run_cli(["export", iris_run.dir, "-o", tmp_path / "m.onnx"]), "onnxscript", "layerwise[export]")
