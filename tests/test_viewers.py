"""--log tensorboard / --log mlflow: what the run wrote is read back by the packages' own readers
(TensorBoard's EventAccumulator, MLflow's MlflowClient) and equals metrics.csv."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import layerwise

TINY = {"data": {"source": "builtin:iris"}, "network": {"hidden": [4]},
        "training": {"epochs": 3, "lr": 0.01, "seed": 0, "batch_size": 32, "early_stopping": {"patience": 5}}}


def test_tensorboard_reads_what_the_run_logged(tmp_path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = {**TINY, "training": {**TINY["training"], "log": ["tensorboard"]}}
    run = layerwise.train(config, out=tmp_path / "run", quiet=True)
    events = EventAccumulator(str(run.dir / "tensorboard"))
    events.Reload()
    history = pd.read_csv(run.dir / "metrics.csv")
    for column in ("train_loss", "val_loss", "val_accuracy", "lr"):
        scalars = events.Scalars(column)
        assert [s.step for s in scalars] == history["epoch"].tolist()
        assert [s.value for s in scalars] == pytest.approx(history[column].tolist(), rel=1e-6)


def test_mlflow_reads_what_the_run_logged(tmp_path) -> None:
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = {**TINY, "training": {**TINY["training"], "log": ["mlflow"], "mlflow_uri": uri}}
    run = layerwise.train(config, out=tmp_path / "run", quiet=True)
    client = MlflowClient(tracking_uri=uri)
    [found] = client.search_runs([client.get_experiment_by_name("layerwise").experiment_id])
    assert found.info.run_name == "run" and found.info.status == "FINISHED"
    assert found.data.params["training.lr"] == "0.01" and found.data.params["network.hidden"] == "[4]"
    history = pd.read_csv(run.dir / "metrics.csv")
    logged = client.get_metric_history(found.info.run_id, "val_loss")
    assert [m.step for m in logged] == history["epoch"].tolist()
    assert [m.value for m in logged] == pytest.approx(history["val_loss"].tolist(), rel=1e-9)


def test_a_missing_viewer_package_is_one_line_before_any_run_directory(tmp_path) -> None:
    # a child whose import system cannot find tensorboard, as on a machine without the extra
    code = ("import sys, importlib.util as u; real = u.find_spec; "
            "u.find_spec = lambda name, *a: None if name == 'tensorboard' else real(name, *a); "
            "from layerwise.cli.main import main; sys.argv = ['layerwise', 'train', '--data', 'builtin:iris', "
            f"'--epochs', '1', '--log', 'tensorboard', '--out', r'{tmp_path / 'run'}']; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: --log tensorboard: the tensorboard package is not installed "
                                   "(pip install 'layerwise[tensorboard]')")
    assert not (tmp_path / "run").exists()
