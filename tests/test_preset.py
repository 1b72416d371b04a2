"""`preset: auto` (the default outside this suite): what it chooses, that explicit settings win,
that the run's config.yaml reproduces the run, and that its robust scaling is scikit-learn's
RobustScaler followed by smooth clipping, in the predictor and in the exported graph alike."""

import numpy as np
import pandas as pd
import pytest
import yaml

import layerwise
from layerwise.recipe import MAX_EPOCHS, MAX_STEPS, MIN_BIG_EPOCHS, MIN_EPOCHS, auto_epochs
from layerwise.spec import RunConfig


def _table(rows=240, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.lognormal(size=rows) * 1000,
                      "colour": rng.choice(["red", "green", "blue"], size=rows)})
    X.loc[::17, "a"] = np.nan
    y = np.where(X["a"].fillna(0) + (X["colour"] == "red") > 0.3, "yes", "no")
    return X, y


def test_auto_fills_only_what_the_config_leaves_out(tmp_path):
    X, y = _table()
    config = {"preset": "auto", "network": {"hidden": [32]}, "training": {"epochs": 3, "lr": 0.01}}
    run = layerwise.train(config, data=(X, y), out=tmp_path / "run", quiet=True)
    written = yaml.safe_load((run.dir / "config.yaml").read_text())
    assert written["network"]["hidden"] == [32] and written["training"]["epochs"] == 3  # the user's
    assert written["training"]["lr"] == 0.01
    assert written["network"]["dropout"] == 0.15 and written["training"]["batch_size"] == 256  # the recipe's
    assert written["training"]["label_smoothing"] == 0.1 and written["data"]["scaling"] == "robust"
    assert written["training"]["monitor"] == "val_accuracy"
    assert written["network"]["embedding"] == "periodic"  # numeric columns get periodic embeddings
    assert run.predictor.architecture.layers[0] == {**run.predictor.architecture.layers[0], "type": "periodic",
                                                    "features": 2}  # a and b; colour's one-hot passes through
    # the written config alone reproduces the run: same weights, same predictions
    again = layerwise.train(str(run.dir / "config.yaml"), data=(X, y), out=tmp_path / "again", quiet=True)
    np.testing.assert_array_equal(again.predict_proba(X), run.predict_proba(X))


def test_plain_trains_exactly_the_defaults():
    config = RunConfig.from_dict({"preset": "plain"})
    from layerwise.recipe import apply_preset

    before = config.to_dict()
    apply_preset(config, "multiclass", 10_000, "table")
    assert config.to_dict() == before


def test_the_step_budget_grows_with_the_data_within_bounds():
    sizes = (100, 1_000, 6_400, 50_000, 200_000, 1_000_000, 10_000_000)
    epochs = [auto_epochs(rows, 256) for rows in sizes]
    assert epochs[0] == MAX_EPOCHS and epochs[4] == MIN_EPOCHS
    assert epochs[5:] == [5, MIN_BIG_EPOCHS]  # a million rows: about MAX_STEPS steps, not 20 passes
    steps = [e * -(-rows // 256) for e, rows in zip(epochs, sizes)]
    assert MAX_STEPS <= steps[5] < MAX_STEPS + 1_000_000 // 256
    assert steps == sorted(steps)  # more data never means fewer optimizer steps
    assert epochs == sorted(epochs, reverse=True)


def test_robust_scaling_is_sklearns_robust_scaler_then_smooth_clip(tmp_path):
    from sklearn.preprocessing import RobustScaler

    from layerwise.data.preprocess import Preprocessor

    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=500), rng.lognormal(size=500) * 1e4, rng.integers(0, 2, 500)])
    X[0, 1] = 1e7  # a sentinel-like value, hundreds of IQRs out
    pre = Preprocessor.fit(X, "array", scaling="robust", smooth_clip=True)
    z = RobustScaler().fit(X).transform(X)  # median / IQR; the 0/1 column too (its IQR is 1)
    want = z / np.sqrt(1 + (z / 30) ** 2)
    assert np.abs(z).max() > 100 and np.abs(want).max() < 30  # the sentinel is held near 30, the tail kept
    np.testing.assert_allclose(pre.transform(X), want, rtol=1e-5, atol=1e-6)


def test_exported_graph_repeats_the_robust_preprocessing(tmp_path):
    pytest.importorskip("onnxruntime")
    from layerwise.export import max_difference

    X, y = _table()
    config = {"preset": "auto", "network": {"hidden": [16]}, "training": {"epochs": 2}}
    run = layerwise.train(config, data=(X, y), out=tmp_path / "run", quiet=True)
    from layerwise.export import export

    path = export(run.dir, tmp_path / "model.onnx")
    assert max_difference(layerwise.load(run.dir), path) < 1e-5


def test_images_get_no_embedding_and_three_layers_where_a_table_gets_one():
    config = RunConfig.from_dict({"preset": "auto"})
    from layerwise.recipe import apply_preset

    apply_preset(config, "multiclass", 1_000, "image")
    assert config.network.embedding == "none" and config.network.hidden == [256, 256, 256]
    table = RunConfig.from_dict({"preset": "auto"})
    apply_preset(table, "multiclass", 1_000, "table")
    assert table.network.embedding == "periodic" and table.network.hidden == [256]


def test_bagged_members_fall_with_rows_and_with_the_first_layers_width(tmp_path):
    from layerwise.data.dataset import Dataset
    from layerwise.recipe import auto_members, estimated_inputs

    def table(rows, categories, text_columns=1):
        rng = np.random.default_rng(0)
        X = pd.DataFrame(rng.normal(size=(rows, 20)), columns=[f"x{i}" for i in range(20)])
        for j in range(text_columns if categories else 0):
            X[f"code{j}"] = [f"c{i % categories}" for i in range(rows)]
        return Dataset(name="t", X=X, y=rng.integers(0, 2, rows), kind="table", target_names=["y"])

    config = RunConfig()  # 20% test, then 20% validation: 3,000 rows leave 1,920 training rows
    assert [auto_members(config, table(rows, 0)) for rows in (3000, 4500, 6000, 9000, 12000)] == [5, 4, 3, 2, 1]
    # 3,840 training rows (256 epochs of 15 steps) of 1,080 inputs: 3 members would be 3.2 networks
    # of 1,000 inputs at 4,000 steps, 2 are not; 4,080 inputs are 2.9x such a network's arithmetic
    assert [auto_members(config, table(6000, 1000, columns)) for columns in (1, 4)] == [2, 1]
    # the estimate is the width preset auto builds: 4 values per embedded number, a column per category
    narrow = table(300, 7)
    run = layerwise.train({"preset": "auto", "network": {"hidden": [8]}, "training": {"epochs": 1, "ensemble": 1}},
                          data=(narrow.X, narrow.y), out=tmp_path / "run", quiet=True)
    assert run.predictor.module.fc1.in_features == estimated_inputs(narrow) == 20 * 4 + 7


def test_auto_trains_on_every_row_and_scores_out_of_fold(tmp_path):
    """No test rows held out of a table under auto (unless asked): the members train on all of it
    between them, and the run's scores are the out-of-fold prediction's."""
    X, y = _table(rows=200)
    config = {"preset": "auto", "network": {"hidden": [8]}, "training": {"epochs": 2}}
    run = layerwise.train(config, data=(X, y), out=tmp_path / "auto", quiet=True)
    summary = run.summary
    assert summary["test"] is None and summary["test_rows"] == 0 and summary["train_rows"] == 160
    assert summary["ensemble_kind"] == "bagging" and 0 <= summary["val"]["accuracy"] <= 1
    assert yaml.safe_load((run.dir / "config.yaml").read_text())["data"]["test_split"] == 0.0
    report = (run.dir / "report.html").read_text()
    assert "Per-class scores (member 1&#x27;s validation split)" in report or \
        "Per-class scores (member 1's validation split)" in report  # judged by a member that held them out
    assert f"160 train per member (each holds out its own validation rows); {summary['val_rows']} held out" in report
    asked = layerwise.train({**config, "data": {"test_split": 0.25}}, data=(X, y), out=tmp_path / "asked", quiet=True)
    assert asked.summary["test_rows"] == 50 and asked.summary["test"] is not None
    plain = layerwise.train({**config, "preset": "plain"}, data=(X, y), out=tmp_path / "plain", quiet=True)
    assert plain.summary["test_rows"] == 40
    copies = layerwise.train(config, data=(X, y), out=tmp_path / "copies", quiet=True, repeat=2)
    assert [copy.summary["test_rows"] for copy in copies] == [40, 40]  # seeds are compared on test rows


def test_the_report_judges_a_bagged_ensemble_by_the_member_that_held_the_rows_out(tmp_path):
    from layerwise.diagnostics import judge, holdout
    from layerwise.training.prepare import load_training_data, prepare
    from layerwise.spec import RunConfig

    X, y = _table(rows=200)
    run = layerwise.train({"preset": "auto", "network": {"hidden": [8]}, "training": {"epochs": 3}},
                          data=(X, y), out=tmp_path / "run", quiet=True)
    config = RunConfig.from_dict(yaml.safe_load((run.dir / "config.yaml").read_text()))
    prepared = prepare(config, load_training_data(config, (X, y)))
    rows = holdout(prepared)
    judged = judge(run.predictor, prepared, bagged=True)
    import torch
    from sklearn.metrics import roc_auc_score

    with torch.no_grad():  # member 0 alone: it held these rows out; the other members trained on most
        own = run.predictor.module.members[0](torch.from_numpy(run.predictor.transform(rows.X))).numpy()[:, 0]
    truth = np.asarray(rows.y) == "yes"
    assert judged.holdout.split == "member 1's validation"
    assert judged.curves["roc"][2] == pytest.approx(roc_auc_score(truth, own))
    ensemble = run.predictor.predict_proba(rows.X)[:, 1]
    assert roc_auc_score(truth, ensemble) != pytest.approx(roc_auc_score(truth, own))  # the check can tell


def test_wide_tables_train_without_the_embedding():
    """Past MAX_EMBEDDED_COLUMNS numeric columns the cosines would cost several times the dense
    layers: auto leaves the embedding out, and the ensemble's size is judged on the plain width."""
    from layerwise.data.dataset import Dataset
    from layerwise.recipe import MAX_EMBEDDED_COLUMNS, apply_preset, estimated_inputs, numeric_columns

    def table(columns):
        X = pd.DataFrame(np.zeros((10, columns)), columns=[f"x{i}" for i in range(columns)])
        X["colour"] = ["red", "blue"] * 5
        return Dataset(name="t", X=X, y=np.zeros(10), kind="table", target_names=["y"])

    chosen = []
    for columns in (MAX_EMBEDDED_COLUMNS, MAX_EMBEDDED_COLUMNS + 1):
        config = RunConfig.from_dict({"preset": "auto"})
        apply_preset(config, "regression", 1000, "table", numeric_columns(table(columns)))
        chosen.append((config.network.embedding, estimated_inputs(table(columns))))
    assert chosen == [("periodic", 4 * MAX_EMBEDDED_COLUMNS + 2), ("none", MAX_EMBEDDED_COLUMNS + 1 + 2)]
    config = RunConfig.from_dict({"preset": "auto", "network": {"embedding": "periodic"}})
    apply_preset(config, "regression", 1000, "table", 10_000)
    assert config.network.embedding == "periodic"  # the user's choice wins


def test_an_optimizer_the_user_names_keeps_its_plain_settings():
    """AdamW's decay 0.02 and lr 0.002 are the recipe's; under `--optimizer adam` 0.02 would be an
    L2 term inside Adam's gradient (a stronger penalty), under sgd lr 0.002 a crawl."""
    from layerwise.recipe import apply_preset

    chosen = {}
    for optimizer in (None, "adam", "sgd"):
        config = RunConfig.from_dict({"preset": "auto", "training": {"optimizer": optimizer} if optimizer else {}})
        apply_preset(config, "multiclass", 1000, "table")
        chosen[optimizer] = (config.training.optimizer, config.training.lr, config.training.weight_decay)
    plain = RunConfig.from_dict({"preset": "plain"}).training
    assert chosen[None] == ("adamw", 2e-3, 0.02)
    assert chosen["adam"] == ("adam", plain.lr, plain.weight_decay) and chosen["sgd"] == ("sgd", plain.lr, plain.weight_decay)


def test_a_long_group_of_members_is_summed_up_in_one_short_line():
    from layerwise.training.callbacks import EarlyStopping

    stopping = EarlyStopping("val_accuracy")
    stopping.members = [{"best": 0.9, "best_epoch": 1 + i % 7, "wait": 0, "best_loss": None} for i in range(64)]
    line = stopping.outcome(10)
    assert line == "trained 10 epochs; each member restored its own best val_accuracy (epochs 1 to 7, median 4)"
    stopping.members = stopping.members[:3]
    assert stopping.outcome(10).endswith("(epochs 1, 2, 3)")
