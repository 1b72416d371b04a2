"""The run says what happened at the end: why training stopped and which epoch's weights were kept,
in the terminal / plain log and in summary.json, consistent with metrics.csv."""

from __future__ import annotations

import io
import json
import re

import pandas as pd

import layerwise


def test_early_stop_is_announced_with_the_restored_epoch_and_its_value(tmp_path) -> None:
    stream = io.StringIO()
    config = {"data": {"source": "builtin:iris"}, "network": {"hidden": [8]},
              "training": {"epochs": 60, "lr": 0.5, "seed": 0, "batch_size": 16,
                           "early_stopping": {"patience": 3, "monitor": "val_accuracy"}}}
    run = layerwise.train(config, out=tmp_path / "run", stream=stream)
    said = re.search(r"stopped early at epoch (\d+) \(no improvement in val_accuracy for 3 epochs\); "
                     r"restored epoch (\d+) \(val_accuracy ([0-9.]+)\)", stream.getvalue())
    assert said, stream.getvalue()[-500:]
    history = pd.read_csv(run.dir / "metrics.csv")
    stopped, restored, value = int(said[1]), int(said[2]), float(said[3])
    assert stopped == len(history) < 60
    best = history.loc[history["val_accuracy"].idxmax()]  # the first epoch reaching the maximum
    assert restored == int(best["epoch"]) == stopped - 3
    assert abs(value - best["val_accuracy"]) < 1e-4
    summary = json.loads((run.dir / "summary.json").read_text())
    assert summary["outcome"] == said[0] and summary["monitor"] == "val_accuracy"


def test_a_run_that_trains_every_epoch_says_so(tmp_path) -> None:
    stream = io.StringIO()
    layerwise.train({"data": {"source": "builtin:iris"}, "network": {"hidden": [4]},
                     "training": {"epochs": 3, "lr": 0.01, "seed": 0, "batch_size": 16,
                                  "early_stopping": {"patience": 5}}}, out=tmp_path / "run", stream=stream)
    assert "stopped early" not in stream.getvalue()
    assert re.search(r"trained 3 epochs; (kept the last|restored epoch [12] )", stream.getvalue())
