"""Regression targets are standardised for training and mapped back wherever predictions leave
the model. The reference: with standardisation, training is invariant to an affine change of the
target's units, so a model trained on y * 1e25 must predict exactly 1e25 times what the model
trained on y predicts (same seed, same data), and both must fit a linear relation well."""

import io
import json

import numpy as np
import pandas as pd
import pytest

import layerwise
from helpers import run_cli

CONFIG = {"network": {"hidden": [16]}, "data": {"val_split": 0.2, "test_split": 0.2},
          "training": {"epochs": 30, "lr": 0.01, "seed": 0, "device": "cpu"}}


def _table(scale: float, rows: int = 300):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 3))
    y = (X @ np.array([3.0, -2.0, 1.0]) + 10.0) * scale  # a house-price-like offset and scale
    return pd.DataFrame(X, columns=["a", "b", "c"]), y


def test_training_is_invariant_to_the_targets_units_even_at_1e30(tmp_path):
    X, y = _table(1.0)
    small = layerwise.fit(CONFIG, data=(X, y))
    huge = layerwise.fit(CONFIG, data=(X, y * 1e30))
    assert small.summary["test"]["r2"] > 0.95
    np.testing.assert_allclose(huge.predict(X), small.predict(X) * 1e30, rtol=1e-4)
    assert huge.summary["test"]["r2"] == pytest.approx(small.summary["test"]["r2"], abs=1e-4)
    # metrics are in the target's own units
    assert huge.summary["test"]["mae"] == pytest.approx(small.summary["test"]["mae"] * 1e30, rel=1e-3)


def test_house_price_scale_beats_the_unscaled_network(tmp_path):
    X, y = _table(20_000.0)  # values around 200,000
    scaled = layerwise.fit(CONFIG, data=(X, y))
    raw = layerwise.fit({**CONFIG, "data": {**CONFIG["data"], "standardize_target": False}}, data=(X, y))
    assert scaled.summary["test"]["r2"] > 0.95
    assert raw.summary["test"]["r2"] < 0.5  # the failure this fixes: 30 epochs at lr 0.01 cannot reach 2e5


def test_run_directory_cli_predict_and_old_model_cards(tmp_path):
    X, y = _table(1e5)
    data = X.assign(price=y)
    data.to_csv(tmp_path / "houses.csv", index=False)
    run = layerwise.train({**CONFIG, "data": {**CONFIG["data"], "source": str(tmp_path / "houses.csv"),
                                              "target": "price"}}, out=tmp_path / "run", quiet=True)
    card = json.loads((run.dir / "model.json").read_text())
    assert card["target_scaling"]["std"][0] == pytest.approx(np.std(y), rel=0.2)  # learned on the train rows
    X.head(20).to_csv(tmp_path / "x.csv", index=False)
    result = run_cli(["predict", run.dir, "--input", tmp_path / "x.csv"])
    assert result.code == 0, result.err
    printed = pd.read_csv(io.StringIO(result.out))["prediction"].to_numpy()
    np.testing.assert_allclose(printed, run.predict(X.head(20)), rtol=1e-6)
    assert np.abs(printed - y[:20]).max() < 0.2 * np.std(y)
    # a model card written before target scaling existed loads as "targets used as given"
    del card["target_scaling"]
    (run.dir / "model.json").write_text(json.dumps(card))
    old = layerwise.load(run.dir)
    import torch

    raw = run.predictor.module(torch.from_numpy(old.transform(X.head(5)))).detach().numpy()
    np.testing.assert_allclose(old.predict(X.head(5)), raw[:, 0], rtol=1e-6)


def test_sklearn_regressor_scales_targets_per_column():
    from sklearn.linear_model import LinearRegression

    from layerwise.sklearn import NetRegressor

    X, y = _table(1.0)
    Y = np.column_stack([y * 1e6, -y * 1e-6])  # two outputs twelve orders of magnitude apart
    model = NetRegressor(hidden=(16,), epochs=40, lr=0.01).fit(X.to_numpy(), Y)
    reference = LinearRegression().fit(X.to_numpy(), Y).score(X.to_numpy(), Y)  # the relation is exactly linear
    assert reference == pytest.approx(1.0)
    from sklearn.metrics import r2_score

    per_column = r2_score(Y, model.predict(X.to_numpy()), multioutput="raw_values")
    assert (per_column > 0.95).all(), per_column


def _line(rows: int = 200):
    x = np.linspace(0.0, 1.0, rows)
    return pd.DataFrame({"x": x}), 5.0 * x + 1.0  # targets in [1, 6]


FAR = pd.DataFrame({"x": [-3.0, 0.5, 4.0]})  # beyond the training inputs on both sides


def test_preset_auto_clamps_regression_predictions_to_the_training_range(tmp_path):
    X, y = _line()
    config = {"network": {"hidden": [16]}, "data": {"val_split": 0.2, "test_split": 0.0},
              "training": {"epochs": 60, "lr": 0.01, "seed": 0, "device": "cpu"}}
    plain = layerwise.fit({**config, "preset": "plain", "data": {**config["data"], "scaling": "standard"}},
                          data=(X, y))
    extrapolated = plain.predict(FAR)
    assert extrapolated[0] < 1.0 - 1 and extrapolated[2] > 6.0 + 1  # a fitted line leaves the range
    clamped_config = {**config, "preset": "plain", "data": {**config["data"], "clamp_predictions": True}}
    clamped = layerwise.train(clamped_config, data=(X, y), out=tmp_path / "run", quiet=True)
    low, high = y.min(), y.max()  # val rows are inside [1, 6] too: the range is the train rows'
    predicted = clamped.predict(FAR)
    assert low <= predicted.min() and predicted.max() <= high
    np.testing.assert_allclose(predicted[[0, 2]], np.clip(extrapolated[[0, 2]], low, high), atol=0.3)
    assert abs(predicted[1] - 3.5) < 0.5  # inside the range nothing changes
    card = json.loads((clamped.dir / "model.json").read_text())
    assert card["target_scaling"]["low"][0] >= low and card["target_scaling"]["high"][0] <= high
    # every way a prediction leaves the model clamps the same: the loaded predictor, the CLI's
    # NumPy path (predict --values), the ONNX graph
    np.testing.assert_allclose(layerwise.load(clamped.dir).predict(FAR), predicted, rtol=1e-6)
    result = run_cli(["predict", clamped.dir, "--values", "4.0"])
    assert result.code == 0, result.err
    assert json.loads(result.out)["prediction"] == pytest.approx(predicted[2], rel=1e-5)
    from layerwise.export import export, run_onnx

    path = export(clamped.dir, tmp_path / "model.onnx")
    onnx_values = run_onnx(path, [FAR.to_numpy(np.float32)])[0][:, 0]
    np.testing.assert_allclose(onnx_values, predicted, rtol=1e-5)
    assert "low" not in json.dumps(plain.predictor.encoder.scaling())  # plain: nothing stored, nothing clamped
    # preset auto turns it on for regression
    auto = layerwise.fit({**config, "preset": "auto", "training": {**config["training"], "epochs": 2}}, data=(X, y))
    assert auto.config.data.clamp_predictions and auto.predictor.encoder.clamps
