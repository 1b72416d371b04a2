"""`--ensemble K --ensemble-kind tabm|tabm-mini`: K members sharing one network's weights (TabM),
saved as one model. References: each member's forward pass written out in NumPy from the saved
weights (BatchEnsemble: ((x * r_i) W^T) * s_i + b_i), ONNX Runtime/TorchScript on the export, an
in-memory fit of the same config, and the ensemble's own validation metric for early stopping."""

from __future__ import annotations

import numpy as np
import pytest

import layerwise
from helpers import run_cli


def _config(source: str, kind: str, **training) -> dict:
    return {"data": {"source": source}, "network": {"hidden": [8, 8], "dropout": 0.1}, "preset": "plain",
            "training": {"epochs": 6, "seed": 2, "lr": 0.01, "ensemble": 3, "ensemble_kind": kind, **training}}


@pytest.fixture(scope="module")
def tabm_run(tmp_path_factory):
    return layerwise.train(_config("builtin:iris", "tabm"), out=tmp_path_factory.mktemp("tabm") / "run", quiet=True)


def _rows(columns: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1.5, size=(25, columns)).astype(np.float32)


def _members_by_hand(predictor, rows: np.ndarray) -> np.ndarray:
    """(K, n, outputs) of each member from the saved weights: shared W, member-wise r, s, b,
    ReLU between layers, member i's own head; tabm-mini scales the input by its r_i instead."""
    state = {k: v.detach().numpy().astype(np.float64) for k, v in predictor.module.state_dict().items()}
    x = predictor.transform(rows).astype(np.float64)
    members = []
    for i in range(predictor.meta["ensemble"]):
        a = x * state["adapter.weight"][i] if "adapter.weight" in state else x
        for layer in (1, 2):
            w, b = state[f"fc{layer}.weight"], state[f"fc{layer}.bias"]
            if f"fc{layer}.r" in state:  # tabm: every hidden layer is a BatchEnsemble layer
                a = ((a * state[f"fc{layer}.r"][i]) @ w.T) * state[f"fc{layer}.s"][i] + b[i]
            else:
                a = a @ w.T + b
            a = np.maximum(a, 0.0)
        members.append(a @ state["fc3.weight"][i].T + state["fc3.bias"][i])
    return np.stack(members)


def test_tabm_predicts_the_mean_of_its_members(tabm_run):
    from layerwise.head import probabilities

    loaded = layerwise.load(tabm_run.dir)
    rows = _rows(4)
    members = _members_by_hand(loaded, rows)
    expected = np.mean([probabilities("multiclass", m) for m in members], axis=0)
    assert not np.allclose(members[0], members[1], atol=1e-3)  # the members do differ
    np.testing.assert_allclose(loaded.predict_proba(rows), expected, rtol=1e-5, atol=1e-6)
    card = layerwise.artifacts.read_model_card(tabm_run.dir)
    assert card["ensemble"] == 3 and card["ensemble_kind"] == "tabm"
    # shared weights: one fc1 matrix for all members, member-wise r/s/bias, K heads
    state = loaded.module.state_dict()
    assert tuple(state["fc1.weight"].shape) == (8, 4) and tuple(state["fc1.r"].shape) == (3, 4)
    assert tuple(state["fc3.weight"].shape) == (3, 3, 8)


def test_tabm_mini_regression_is_the_mean_of_its_members(tmp_path):
    run = layerwise.train(_config("builtin:diabetes", "tabm-mini"), out=tmp_path / "mini", quiet=True)
    loaded = layerwise.load(run.dir)
    rows = _rows(10, seed=1) * 0.05
    members = loaded.encoder.values(_members_by_hand(loaded, rows).reshape(-1, 1)).reshape(3, -1)
    np.testing.assert_allclose(loaded.predict(rows), members.mean(axis=0), rtol=1e-5, atol=1e-3)
    assert "fc1.r" not in loaded.module.state_dict() and loaded.meta["ensemble_kind"] == "tabm-mini"


def test_run_directory_round_trip_and_in_memory_fit(tabm_run):
    rows = _rows(4, seed=3)
    loaded = layerwise.load(tabm_run.dir)
    np.testing.assert_array_equal(loaded.predict_proba(rows), tabm_run.predictor.predict_proba(rows))
    fitted = layerwise.fit(_config("builtin:iris", "tabm"))  # same seed, same CPU: the same model
    np.testing.assert_allclose(fitted.predict_proba(rows), loaded.predict_proba(rows), rtol=1e-6, atol=1e-7)
    result = run_cli(["predict", tabm_run.dir, "--values", "5.1,3.5,1.4,0.2"])
    assert result.code == 0 and "proba_setosa" in result.out
    assert run_cli(["evaluate", tabm_run.dir, "--data", "builtin:iris"]).code == 0
    assert run_cli(["summary", tabm_run.dir]).code == 0


def test_serve_answers_the_mean_of_the_members(tabm_run):
    pytest.importorskip("fastapi")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    from layerwise.head import probabilities
    from layerwise.serve import create_app

    rows = _rows(4, seed=4)[:5]
    body = TestClient(create_app(tabm_run.dir)).post("/predict", json={"rows": rows.tolist()}).json()
    members = _members_by_hand(layerwise.load(tabm_run.dir), rows)
    expected = np.mean([probabilities("multiclass", m) for m in members], axis=0)
    np.testing.assert_allclose(body["probabilities"], expected, rtol=1e-5, atol=1e-6)


def test_export_parity(tabm_run):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from layerwise.export import export, max_difference

    loaded = layerwise.load(tabm_run.dir)
    assert max_difference(loaded, export(tabm_run.dir)) <= 1e-5
    assert max_difference(loaded, export(tabm_run.dir, format="torchscript")) <= 1e-5


@pytest.mark.parametrize("kind", ["tabm", "independent"])
def test_early_stopping_watches_the_ensembles_metric(tmp_path, kind):
    """The run stops `patience` epochs after the best epoch of the recorded val_r2, and that
    value is the restored ensemble's own R^2 on the validation rows: the group's metric (measured
    without dropout: the members' masks are drawn in training only)."""
    config = _config("builtin:diabetes", kind, epochs=80, lr=0.05, monitor="val_r2", early_stopping=3)
    config["network"] = {"hidden": [32], "dropout": 0.3}
    run = layerwise.train(config, out=tmp_path / kind, quiet=True)
    scores = [row["val_r2"] for row in run.history]
    best = int(np.argmax(scores)) + 1
    assert run.summary["stopped_early"] and len(run.history) == best + 3 < 80
    assert run.summary["best_epoch"] == best
    assert run.summary["val"]["r2"] == pytest.approx(scores[best - 1], abs=1e-4)
