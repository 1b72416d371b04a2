"""`training.monitor` picks the best epoch: the one whose weights are restored and reported. The
reference is the run's own metrics.csv: the best epoch must be the arg-best of the monitored
column there (ties in accuracy broken by the lower validation loss)."""

import numpy as np
import pandas as pd
import pytest
import yaml

import layerwise

BASE = {"data": {"source": "builtin:iris"}, "network": {"hidden": [8]},
        "training": {"epochs": 25, "lr": 0.02, "seed": 1, "early_stopping": False, "device": "cpu"}}


def _expected_best(metrics: pd.DataFrame, monitor: str) -> int:
    if monitor == "val_loss":
        return int(metrics.loc[metrics["val_loss"].idxmin(), "epoch"])
    best = metrics[metrics[monitor] == metrics[monitor].max()]
    return int(best.loc[best["val_loss"].idxmin(), "epoch"])


@pytest.mark.parametrize("monitor", [None, "val_loss"])
def test_best_epoch_is_the_arg_best_of_the_monitored_metric(tmp_path, monitor):
    config = {**BASE, "training": {**BASE["training"], "monitor": monitor}}
    run = layerwise.train(config, out=tmp_path / "run", quiet=True)
    metrics = pd.read_csv(run.dir / "metrics.csv")
    chosen = yaml.safe_load((run.dir / "config.yaml").read_text())["training"]["monitor"]
    assert chosen == (monitor or "val_accuracy")
    assert run.summary["best_epoch"] == _expected_best(metrics, chosen)
    # the restored weights are that epoch's: their validation accuracy is the logged one
    logged = metrics.loc[metrics["epoch"] == run.summary["best_epoch"], "val_accuracy"].item()
    assert run.summary["val"]["accuracy"] == pytest.approx(logged, abs=1e-6)


def test_regression_defaults_to_validation_r2(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = X[:, 0] - 2 * X[:, 1]
    config = {"network": {"hidden": [8]}, "training": {"epochs": 15, "lr": 0.01, "early_stopping": False}}
    run = layerwise.train(config, data=(X, y), out=tmp_path / "run", quiet=True)
    metrics = pd.read_csv(run.dir / "metrics.csv")
    assert yaml.safe_load((run.dir / "config.yaml").read_text())["training"]["monitor"] == "val_r2"
    assert run.summary["best_epoch"] == int(metrics.loc[metrics["val_r2"].idxmax(), "epoch"])

