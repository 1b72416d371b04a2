"""Run directories written by layerwise 0.1.0 (model.json format_version 1) before the issue-9
refactor still load, predict, evaluate, export and explain exactly as they did then
(tests/fixtures/v1/README.md says how they were made; they are never regenerated)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import layerwise
from helpers import run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "v1"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())
TOLERANCE = 1e-6


@pytest.fixture()
def copied(tmp_path) -> Path:
    """A private copy: evaluate writes eval.json and export writes model.onnx into the run."""
    target = tmp_path / "v1"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_predict_is_identical(copied, name):
    expected = EXPECTED[name]
    out = copied / "predictions.csv"
    result = run_cli(["predict", copied / name, "--input", copied / expected["source"], "-o", out])
    assert result.code == 0, result.err
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == list(expected["predict"])
    for column, values in expected["predict"].items():
        if isinstance(values[0], str):
            assert frame[column].astype(str).tolist() == values, column
        else:
            np.testing.assert_allclose(frame[column].to_numpy(float), values, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_evaluate_is_identical(copied, name):
    expected = EXPECTED[name]
    result = run_cli(["evaluate", copied / name, "--data", copied / expected["source"]])
    assert result.code == 0, result.err
    metrics = json.loads((copied / name / "eval.json").read_text())["metrics"]
    for key, value in expected["evaluate"].items():
        assert metrics[key] == pytest.approx(value, abs=TOLERANCE), key


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_onnx_export_is_identical(copied, name):
    onnxruntime = pytest.importorskip("onnxruntime")
    expected = EXPECTED[name]
    path = copied / f"{name}.onnx"
    result = run_cli(["export", copied / name, "-o", path])
    assert result.code == 0, result.err
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = pd.read_csv(copied / expected["source"])
    feed = {}
    for spec in session.get_inputs():  # the graph names its inputs; the metadata lists their columns
        columns = _input_columns(session, spec.name)
        block = rows[columns]
        if spec.type == "tensor(string)":
            feed[spec.name] = block.fillna("").astype(str).to_numpy()
        else:
            feed[spec.name] = block.to_numpy(dtype=np.float32)
    got = session.run(None, feed)[0]
    np.testing.assert_allclose(got, np.asarray(expected["onnx"]), rtol=0, atol=TOLERANCE)


def _input_columns(session, name: str) -> list[str]:
    meta = session.get_modelmeta().custom_metadata_map
    inputs = json.loads(meta["inputs"])
    return next(spec["columns"] for spec in inputs if spec["name"] == name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_explain_is_identical(copied, name):
    expected = EXPECTED[name]["explain"]
    trace = layerwise.explain(str(copied / name), input=expected["input"], target=expected["target"], lr=0.1)
    np.testing.assert_allclose(trace.x, expected["x"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(trace.output, expected["output"], rtol=0, atol=TOLERANCE)
    assert trace.loss == expected["loss"]
    assert trace.loss_value == pytest.approx(expected["loss_value"], abs=TOLERANCE)
    assert len(trace.backward) == len(expected["new_weights"])
    for layer, weights in zip(trace.backward, expected["new_weights"]):
        np.testing.assert_allclose(layer.new_weight, weights, rtol=0, atol=TOLERANCE)


def test_fixture_is_format_version_1():
    for name in EXPECTED:
        meta = json.loads((FIXTURE / name / "model.json").read_text())
        assert (meta["format"], meta["format_version"]) == ("layerwise-model", 1)
