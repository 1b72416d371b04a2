"""`layerwise tune` (Optuna) and k-fold cross-validation: search-space errors, a study's outputs,
determinism, kill -9 + rerun, two workers on one SQLite study, --folds.

Small and bounded: iris / breast_cancer, tiny nets, 2-4 trials of a few epochs."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers import assert_user_error, run_cli, run_subprocess

optuna = pytest.importorskip("optuna")

SPACE = {"training.lr": {"log_uniform": [0.003, 0.03]},
         "network.hidden": {"choice": [[8], [16, 8]]},
         "training.batch_size": {"int": [16, 64], "log": True}}


def write_config(path: Path, source="builtin:iris", epochs=4, search=None, **training) -> Path:
    config = {"data": {"source": source}, "network": {"hidden": [8]},
              "training": {"epochs": epochs, "device": "cpu", **training},
              "search": search if search is not None else SPACE}
    path.write_text(yaml.safe_dump(config))
    return path


def finished_states(storage: str, study: str) -> list[str]:
    return [t.state.name for t in optuna.load_study(study_name=study, storage=storage).trials]


def sqlite_states(path: Path) -> list[str]:
    import sqlite3

    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            return [state for (state,) in db.execute("SELECT state FROM trials ORDER BY number")]
    except sqlite3.OperationalError:  # no tables yet
        return []


def _optional(name: str):
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _wsgi_json(app, path: str) -> dict:
    import io
    import json

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "test",
               "SERVER_PORT": "80", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(), "wsgi.url_scheme": "http"}
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    assert status[0].startswith("200"), status
    return json.loads(body)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("search, fragments", [
    ({"training.lrr": {"uniform": [0.1, 0.2]}}, ["search training.lrr", "not a config key"]),
    ({"training.lr": {"uniform": [0.2, 0.1]}}, ["search training.lr", "inverted range"]),
    ({"training.lr": {"log_uniform": [0.01, 0.01]}}, ["search training.lr", "empty"]),
    ({"training.lr": {"log_uniform": [0.0, 0.01]}}, ["log range needs low > 0"]),
    ({"network.dropout": {"uniform": [0.0, 1.5]}}, ["search network.dropout", "1.5 is rejected"]),
    ({"network.hidden": {"int": [8, 32]}}, ["search network.hidden", "8 is rejected"]),
    ({"training.optimizer": {"choice": ["adam", "lbfgs"]}}, ["'lbfgs' is rejected"]),
    ({"network.hidden": {"choice": []}}, ["non-empty list"]),
    ({"training.lr": {"normal": [0, 1]}}, ["expected exactly one of"]),
    ({"data.val_split": {"uniform": [0.1, 0.3]}}, ["data.val_split", "cannot be searched"]),
])
def test_search_space_mistakes_are_one_line_before_any_trial(tmp_path, search, fragments):
    config = write_config(tmp_path / "tune.yaml", search=search)
    out = tmp_path / "out"
    result = run_cli(["tune", config, "--trials", 2, "--out", out, "--storage", f"sqlite:///{tmp_path}/s.db"])
    assert_user_error(result, *fragments)
    assert not out.exists() and not (tmp_path / "s.db").exists()  # no study, no folder


def test_bad_flags_are_one_line(tmp_path):
    config = write_config(tmp_path / "tune.yaml")
    assert_user_error(run_cli(["tune", config, "--trials", 0, "--out", tmp_path / "o"]), "--trials 0")
    assert_user_error(run_cli(["tune", config, "--storage", "study.db", "--out", tmp_path / "o"]), "--storage")
    assert_user_error(run_cli(["tune", config, "--folds", 1, "--out", tmp_path / "o"]), "--folds 1")
    assert not (tmp_path / "o").exists()


def test_a_study_writes_every_output_and_is_deterministic(tmp_path):
    from layerwise.tune import tune

    config = write_config(tmp_path / "tune.yaml")
    results = []
    for name in ("a", "b"):
        storage = f"sqlite:///{tmp_path / name}.db"
        result = tune(config, trials=3, storage=storage, study="iris", out=tmp_path / name, seed=7, quiet=True)
        results.append(result)
        assert result.finished == 3 and finished_states(storage, "iris") == ["COMPLETE"] * 3
    a, b = (read_csv(tmp_path / name / "trials.csv") for name in ("a", "b"))
    columns = ["number", "state", "value", "best_epoch", *SPACE]
    assert [[row[c] for c in columns] for row in a] == [[row[c] for c in columns] for row in b]
    assert len({row["training.lr"] for row in a}) == 3  # the trials did sample different values
    assert float(a[results[0].best_number]["value"]) == max(float(row["value"]) for row in a)

    out = tmp_path / "a"
    best = yaml.safe_load((out / "best.yaml").read_text())
    trial = a[results[0].best_number]
    assert best["training"]["lr"] == pytest.approx(float(trial["training.lr"]))
    assert best["training"]["seed"] == 7 + results[0].best_number  # the trial's training seed
    assert "search" not in best
    # best/ is a normal, complete run directory, retrained on train+validation for the kept epochs
    assert (out / "best" / "status.json").read_text().count('"complete"') == 1
    retrained = yaml.safe_load((out / "best" / "config.yaml").read_text())
    assert retrained["data"]["val_split"] == 0.0
    assert retrained["training"]["epochs"] == int(trial["best_epoch"])
    import layerwise

    assert layerwise.load(out / "best").predict(np.zeros((2, 4), dtype=np.float32)).shape == (2,)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3  # history, importances, slices

    dashboard = _optional("optuna_dashboard")
    if dashboard is not None:  # optuna-dashboard's own app serves the study
        assert [s["study_name"] for s in _wsgi_json(dashboard.wsgi(f"sqlite:///{out}.db"), "/api/studies")[
            "study_summaries"]] == ["iris"]

    # the same command again: the study already holds 3 finished trials, so nothing new runs
    weights = (out / "best" / "model.safetensors").stat().st_mtime_ns
    again = tune(config, trials=3, storage=f"sqlite:///{out}.db", study="iris", out=out, seed=7, quiet=True)
    assert again.best_number == results[0].best_number and len(finished_states(f"sqlite:///{out}.db", "iris")) == 3
    assert (out / "best" / "model.safetensors").stat().st_mtime_ns == weights  # best/ already held it
    # ...but another seed is another study
    with pytest.raises(layerwise.LayerwiseError, match="another config"):
        tune(config, trials=3, storage=f"sqlite:///{out}.db", study="iris", out=out, seed=8, quiet=True)


def test_pruning_callback_stops_the_loop_when_the_pruner_says_so():
    import layerwise
    from layerwise.tune.objective import PruningCallback

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=2.0))
    trial = study.ask()  # accuracy can never reach 2.0: pruned after the first report
    callback = PruningCallback(trial, "val_accuracy")
    run = layerwise.fit({"data": {"source": "builtin:iris"}, "network": {"hidden": [4]},
                         "training": {"epochs": 6, "device": "cpu"}}, callbacks=[callback])
    assert callback.pruned_at == 1 and len(run.history) == 1
    assert list(study.trials[0].intermediate_values) == [1]


def _tune_command(config: Path, out: Path, storage: str, trials: int, *extra) -> list[str]:
    return [sys.executable, "-m", "layerwise", "tune", str(config), "--trials", str(trials), "--storage",
            storage, "--study", "s", "--out", str(out), *map(str, extra)]


def _env():
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}


def test_kill_9_and_rerun_ends_with_exactly_n_finished_trials(tmp_path):
    config = write_config(tmp_path / "tune.yaml", source="builtin:breast_cancer", epochs=30,
                          search={"training.lr": {"log_uniform": [0.001, 0.01]}}, batch_size=16)
    storage, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    command = _tune_command(config, out, storage, 2, "--quiet")
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline, states = time.monotonic() + 90, []
    while time.monotonic() < deadline and proc.poll() is None:  # kill during the first trial
        time.sleep(0.2)
        states = sqlite_states(tmp_path / "s.db")  # read-only peeking: the tune process owns the schema
        if states and states[-1] == "RUNNING":
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = [i for i, state in enumerate(finished_states(storage, "s")) if state == "RUNNING"]
    assert killed, f"the kill should land inside a trial (states {states})"

    rerun = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = finished_states(storage, "s")
    assert sum(state in ("COMPLETE", "PRUNED") for state in after) == 2
    assert all(after[i] == "FAIL" for i in killed)  # the killed trial is failed, not counted
    assert (out / "best" / "status.json").read_text().count('"complete"') == 1
    rows = read_csv(out / "trials.csv")
    assert [row["state"] for row in rows] == after


def test_two_workers_share_one_sqlite_study_without_lock_errors(tmp_path):
    config = write_config(tmp_path / "tune.yaml", epochs=3)
    storage, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "out"
    done = subprocess.run(_tune_command(config, out, storage, 3, "--workers", 2), env=_env(),
                          capture_output=True, text=True, timeout=180)
    logs = done.stdout + done.stderr
    assert done.returncode == 0, logs[-3000:]
    assert "database is locked" not in logs and "Traceback" not in logs
    states = finished_states(storage, "s")
    assert states.count("COMPLETE") + states.count("PRUNED") == 3 and "RUNNING" not in states
    assert (out / "best" / "status.json").exists() and (out / "report.html").exists()


def test_folds_partition_the_training_rows_stratified_with_preprocessing_per_fold():
    from layerwise.cv import plan_folds
    from layerwise.run import as_config
    from layerwise.training.prepare import load_training_data, prepare

    config = as_config({"data": {"source": "builtin:iris"}, "training": {"seed": 3}})
    dataset = load_training_data(config)
    plan = plan_folds(config, dataset, 3)
    rest = np.concatenate([val for _, val in plan.folds])
    assert len(np.intersect1d(rest, plan.test_idx)) == 0
    assert len(rest) + len(plan.test_idx) == len(dataset) == len(np.unique(np.concatenate([rest, plan.test_idx])))
    labels = np.asarray(dataset.y)
    for train, val in plan.folds:
        assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(rest)
        counts = [np.sum(labels[val] == c) for c in np.unique(labels)]
        assert max(counts) - min(counts) <= 1  # stratified: iris has 50 of each class
        prepared = prepare(config, dataset, rows=(train, val, plan.test_idx))
        raw = np.asarray(dataset.X, dtype=np.float64)
        # standardised with the fold's training rows only: mean 0 there, not over all rows
        np.testing.assert_allclose(prepared.features[train].mean(axis=0), 0.0, atol=1e-5)
        assert np.abs(prepared.features[val].mean(axis=0)).max() > 1e-3
        assert raw.shape == dataset.X.shape


def test_train_folds_prints_per_fold_and_mean(tmp_path):
    result = run_cli(["train", "--data", "builtin:iris", "--epochs", 3, "--hidden", 8, "--folds", 3, "--device", "cpu"])
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    rows = [line.split() for line in lines if line.split() and line.split()[0] in ("1", "2", "3", "mean")]
    assert [row[0] for row in rows] == ["1", "2", "3", "mean"]
    accuracy = [float(row[2]) for row in rows]  # columns: fold, best_epoch, val_accuracy, ...
    assert accuracy[3] == pytest.approx(np.mean(accuracy[:3]), abs=1e-4)
    assert "val_accuracy" in lines[-1] and "over 3 folds" in lines[-1]


def test_tune_with_folds_scores_the_mean_over_folds(tmp_path):
    from layerwise.tune import tune

    config = write_config(tmp_path / "tune.yaml", epochs=3, search={"training.lr": {"log_uniform": [0.005, 0.05]}})
    storage = f"journal:{tmp_path / 'journal.log'}"  # Optuna's journal file storage works too
    result = tune(config, trials=2, storage=storage, study="cv", out=tmp_path / "out", folds=3, quiet=True)
    trials = optuna.load_study(study_name="cv", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "journal.log")))).trials
    assert result.finished == 2
    for trial in trials:
        assert len(trial.user_attrs["fold_scores"]) == 3
        assert trial.value == pytest.approx(np.mean(trial.user_attrs["fold_scores"]), abs=1e-5)
