"""preset auto's bagged ensemble (`training.ensemble_kind: bagging`, training/bagging.py): K
independent members, each with its own validation rows; the best epoch is the out-of-fold
prediction's. References: NumPy for the masked averages, the saved members' own forward passes
for the out-of-fold score, and the run's split for member 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import layerwise
from helpers import run_cli
from layerwise.head import probabilities
from layerwise.layers.ensemble import mean_prediction
from layerwise.recipe import MAX_MEMBERS


def test_masked_mean_prediction_averages_only_the_flagged_members():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 4, size=(4, 50, 3)).astype(np.float32)
    members = rng.random((4, 50)) < 0.5
    members[0, members.sum(0) == 0] = True  # every row has a member
    weights = members[..., None].astype(np.float64)
    for task, outputs in (("multiclass", logits), ("binary", logits[..., :1]), ("regression", logits)):
        got = mean_prediction(task, torch.from_numpy(outputs), torch.from_numpy(members)).numpy()
        if task == "regression":
            expected = (outputs * weights).sum(0) / weights.sum(0)
            np.testing.assert_allclose(got, expected, rtol=1e-5)
        else:
            each = np.stack([probabilities(task, z) for z in outputs])
            expected = (each * weights).sum(0) / weights.sum(0)
            np.testing.assert_allclose(probabilities(task, got), expected, rtol=1e-5, atol=1e-7)


def _table(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, 4)), columns=list("abcd"))
    y = np.where(X["a"] + 0.5 * X["b"] ** 2 + rng.normal(0, 0.5, rows) > 0.5, "yes", "no")
    return X, y


CONFIG = {"preset": "auto", "data": {"test_split": 0.0},
          "network": {"hidden": [16, 16]}, "training": {"epochs": 12, "seed": 5, "device": "cpu"}}


def test_preset_auto_bags_small_tables_and_scores_out_of_fold():
    X, y = _table(300)
    run = layerwise.fit(CONFIG, data=(X, y))
    assert (run.config.training.ensemble, run.config.training.ensemble_kind) == (MAX_MEMBERS, "bagging")
    from layerwise.training.bagging import member_splits
    from layerwise.training.prepare import load_training_data, prepare

    prepared = prepare(run.config.model_copy(deep=True), load_training_data(run.config, (X, y)))
    splits = member_splits(prepared, MAX_MEMBERS, 0.2, 5)
    np.testing.assert_array_equal(splits[0][1], prepared.val_idx)  # member 0 keeps the run's split
    for train, val in splits:
        assert len(val) == len(prepared.val_idx) and not np.intersect1d(train, val).size
        assert len(train) + len(val) == 300
    assert len({tuple(val) for _, val in splits}) == MAX_MEMBERS  # each its own validation rows
    # the summary's validation score is out of fold: each held-out row by the members that did not train on it
    held = np.unique(np.concatenate([val for _, val in splits]))
    module = run.predictor.module
    features = torch.from_numpy(prepared.features[held])
    with torch.no_grad():
        each = np.stack([probabilities("binary", m(features).numpy()) for m in module.members])  # (K, n, 2)
    flags = np.stack([np.isin(held, val) for _, val in splits])[..., None]
    oof = (each * flags).sum(0) / flags.sum(0)
    truth = prepared.targets[held].reshape(-1)
    assert run.summary["val_rows"] == len(held)
    assert len(run.summary["best_epochs"]) == MAX_MEMBERS and run.summary["best_epoch"] == max(run.summary["best_epochs"])
    assert "each member restored its own best" in run.summary["outcome"]
    assert run.summary["val"]["accuracy"] == pytest.approx(np.mean(oof.argmax(1) == truth))


def test_one_network_above_the_row_budget_and_whenever_the_user_says_so():
    X, y = _table(9000)
    sized = {**CONFIG, "training": {**CONFIG["training"], "epochs": 1}}
    assert layerwise.fit(sized, data=(X, y)).config.training.ensemble == 1  # 7,200 training rows
    X, y = _table(300)
    one = {**sized, "training": {**sized["training"], "ensemble": 1}}
    assert layerwise.fit(one, data=(X, y)).config.training.ensemble == 1
    plain = {**sized, "preset": "plain"}
    assert layerwise.fit(plain, data=(X, y)).config.training.ensemble == 1
    # a setting that would couple the members (a global gradient norm) keeps it one network, no error
    clipped = {**sized, "training": {**sized["training"], "grad_clip": 1.0}}
    assert layerwise.fit(clipped, data=(X, y)).config.training.ensemble == 1


def test_cli_run_of_a_bagged_table_reloads_predicts_and_refuses_a_missing_split(tmp_path):
    X, y = _table(200)
    X.assign(label=y).to_csv(tmp_path / "t.csv", index=False)
    common = ["--data", tmp_path / "t.csv", "--target", "label", "--preset", "auto", "--epochs", "6",
              "--hidden", "8", "-q"]
    result = run_cli(["train", *common, "--out", tmp_path / "run"])
    assert result.code == 0, result.err
    saved = layerwise.artifacts.read_model_card(tmp_path / "run")
    assert saved["ensemble"] == MAX_MEMBERS
    loaded = layerwise.load(tmp_path / "run")
    values = run_cli(["predict", tmp_path / "run", "--values", "0.5,0.1,-1,2"])
    assert values.code == 0, values.err
    from layerwise.light_predict import load_light

    row = pd.DataFrame([[0.5, 0.1, -1.0, 2.0]], columns=list("abcd"))
    np.testing.assert_allclose(load_light(tmp_path / "run").predict_proba(row), loaded.predict_proba(row), rtol=1e-5)
    bad = run_cli(["train", *common, "--ensemble", "2", "--ensemble-kind", "bagging", "--set", "data.val_split=0",
                   "--out", tmp_path / "no"])
    assert bad.code == 2 and "bagging" in bad.err and len(bad.err.strip().splitlines()) == 1, bad.err
    assert not (tmp_path / "no").exists()
