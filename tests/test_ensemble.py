"""`training.ensemble: K` / `--ensemble K`: one saved model whose prediction is the mean of K
members trained at once. References: the same members trained as `--repeat K` copies (same seeds,
same engine), per-member forward passes of the saved weights, and NumPy for the averaging."""

from __future__ import annotations

import numpy as np
import pytest

import layerwise
from helpers import run_cli


def _config(source: str, **training) -> dict:
    # monitor train_loss: it falls every epoch here, so the ensemble (one best epoch for all its
    # members) and the --repeat copies (each its own) both keep the last epoch and can be compared
    return {"data": {"source": source}, "network": {"hidden": [8]}, "preset": "plain",
            "training": {"epochs": 4, "seed": 3, "lr": 0.01, "monitor": "train_loss", **training}}


@pytest.fixture(scope="module")
def iris_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    ensemble = layerwise.train(_config("builtin:iris", ensemble=3), out=root / "ens", quiet=True)
    copies = layerwise.train(_config("builtin:iris"), out=root / "copies", quiet=True, repeat=3)
    return ensemble, copies


def test_classification_is_the_mean_of_the_repeat_copies(iris_runs):
    ensemble, copies = iris_runs
    loaded = layerwise.load(ensemble.dir)
    rows = _iris_rows()
    mean = np.mean([layerwise.load(copy.dir).predict_proba(rows) for copy in copies], axis=0)
    np.testing.assert_allclose(loaded.predict_proba(rows), mean, rtol=1e-5, atol=1e-6)
    assert (loaded.predict(rows) == loaded.classes_[mean.argmax(axis=1)]).all()
    # one model card, one weights file, member-prefixed names; the NumPy fast path (predict
    # --values) runs each member and averages like the torch module
    card = layerwise.artifacts.read_model_card(ensemble.dir)
    assert card["ensemble"] == 3 and card["format_version"] == 1
    from layerwise.light_predict import load_light

    np.testing.assert_allclose(load_light(ensemble.dir).predict_proba(rows), mean, rtol=1e-5, atol=1e-6)
    assert ensemble.summary["ensemble"] == 3 and ensemble.summary["ensemble_kind"] == "independent"


def _iris_rows():
    rng = np.random.default_rng(0)
    return rng.uniform([4, 2, 1, 0], [8, 4.5, 7, 2.5], size=(40, 4)).astype(np.float32)


def test_regression_is_the_mean_of_its_members(tmp_path):
    run = layerwise.train(_config("builtin:diabetes", ensemble=3), out=tmp_path / "reg", quiet=True)
    loaded = layerwise.load(run.dir)
    rows = np.random.default_rng(1).normal(0, 0.05, size=(30, 10)).astype(np.float32)
    from layerwise.predictor import Predictor

    members = [Predictor(m, loaded.preprocessor, loaded.encoder, loaded.meta).predict(rows)
               for m in loaded.module.members]
    assert not np.allclose(members[0], members[1])  # different seeds, different networks
    np.testing.assert_allclose(loaded.predict(rows), np.mean(members, axis=0), rtol=1e-5, atol=1e-4)
    from layerwise.light_predict import load_light

    np.testing.assert_allclose(load_light(run.dir).predict(rows), np.mean(members, axis=0), rtol=1e-5, atol=1e-4)
    code = run_cli(["evaluate", run.dir, "--data", "builtin:diabetes"]).code
    assert code == 0


def test_combine_matches_numpy_averages():
    import torch

    from layerwise.ensemble import combine
    from layerwise.head import probabilities

    logits = np.random.default_rng(2).normal(0, 8, size=(4, 50, 3)).astype(np.float32)
    multi = combine("multiclass", torch.from_numpy(logits)).numpy()
    expected = np.mean([probabilities("multiclass", z) for z in logits], axis=0)
    np.testing.assert_allclose(probabilities("multiclass", multi), expected, rtol=1e-5, atol=1e-7)
    binary = combine("binary", torch.from_numpy(logits[..., :1])).numpy()
    expected = np.mean([probabilities("binary", z) for z in logits[..., :1]], axis=0)
    np.testing.assert_allclose(probabilities("binary", binary), expected, rtol=1e-5, atol=1e-7)
    from layerwise.light_predict import mean_prediction  # predict --values' NumPy twin

    for task, outputs, want in (("multiclass", logits, multi), ("binary", logits[..., :1], binary)):
        got = mean_prediction(task, list(outputs))
        np.testing.assert_allclose(probabilities(task, got), probabilities(task, want), rtol=1e-5, atol=1e-7)


def test_export_averages_inside_the_graph(iris_runs):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from layerwise.export import export, max_difference

    ensemble, _ = iris_runs
    path = export(ensemble.dir)
    assert max_difference(layerwise.load(ensemble.dir), path) <= 1e-5


def test_cli_predict_and_errors_are_one_line(iris_runs, tmp_path):
    ensemble, _ = iris_runs
    result = run_cli(["predict", ensemble.dir, "--values", "5.1,3.5,1.4,0.2"])
    assert result.code == 0 and "proba_setosa" in result.out
    for extra, words in ((["--repeat", "2"], "--repeat"), (["--nproc-per-node", "2"], "--nproc-per-node"),
                         (["--grad-clip", "1"], "grad_clip")):
        result = run_cli(["train", "--data", "builtin:iris", "--hidden", "8", "--epochs", "1", "--ensemble", "2",
                          "--out", tmp_path / "no", "-q", *extra])
        lines = result.err.strip().splitlines()
        assert result.code == 2 and len(lines) == 1, result.err
        assert "training.ensemble" in lines[0] and words in lines[0]
        assert not (tmp_path / "no").exists()


def test_serve_answers_the_mean_of_the_copies(iris_runs):
    pytest.importorskip("fastapi")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    from layerwise.serve import create_app

    ensemble, copies = iris_runs
    rows = _iris_rows()[:5]
    body = TestClient(create_app(ensemble.dir)).post("/predict", json={"rows": rows.tolist()}).json()
    mean = np.mean([layerwise.load(copy.dir).predict_proba(rows) for copy in copies], axis=0)
    np.testing.assert_allclose(body["probabilities"], mean, rtol=1e-5, atol=1e-6)


def test_summary_counts_every_member_and_explain_refuses_in_one_line(iris_runs):
    from layerwise.summary import summarise_network

    ensemble, copies = iris_runs
    _, rows, total = summarise_network(ensemble.dir)
    _, one_rows, one_total = summarise_network(copies[0].dir)
    assert total == 3 * one_total and [r[3] for r in rows] == [3 * r[3] for r in one_rows]
    result = run_cli(["explain", ensemble.dir])
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1 and "ensemble" in result.err
