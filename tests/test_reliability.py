"""Issue 5 promises other than resume: NaN guard, atomic/stateful run directories, safe loading
of damaged artifacts, and --out never silently replacing a finished run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import layerwise
from layerwise.cli.main import main
from layerwise.errors import LayerwiseError


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "iris"
    layerwise.train({"data": {"source": "builtin:iris"}, "network": {"hidden": [8]},
                     "training": {"epochs": 3}}, out=out, quiet=True)
    return out


def test_diverging_learning_rate_fails_with_one_line_and_keeps_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    # SGD at lr 1e6 on unscaled targets: the loss overflows within the first epochs.
    code, _, err = run_cli(["train", "--data", "builtin:diabetes", "--hidden", "16", "--optimizer", "sgd",
                            "--lr", "1e6", "--epochs", "5", "--out", str(out), "-q"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: training diverged")
    assert "epoch 1" in lines[0] and "step" in lines[0] and "learning rate" in lines[0]
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "failed" and "diverged" in status["reason"]
    assert not (out / "model.json").exists()  # nothing that looks like a finished model


def test_skip_batch_mode_skips_non_finite_batches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = x.sum(axis=1)
    y[5] = np.float32(3e38)  # squaring this overflows float32: that batch's loss is inf
    run = layerwise.fit({"task": "regression", "network": {"hidden": [4]},
                         "data": {"val_split": 0, "test_split": 0, "standardize": False},
                         "training": {"epochs": 2, "batch_size": 8, "on_nan": "skip-batch",
                                      "optimizer": "sgd", "lr": 1e-3, "early_stopping": False}},
                        data=(x, y))
    assert [row["skipped_batches"] for row in run.history] == [1, 1]
    assert all(np.isfinite(row["train_loss"]) for row in run.history)


def test_out_refuses_to_replace_a_finished_run(finished_run, capsys):
    before = (finished_run / "model.safetensors").read_bytes()
    code, _, err = run_cli(["train", "--data", "builtin:iris", "--epochs", "1", "--out", str(finished_run)], capsys)
    assert code == 2 and "--overwrite" in err
    assert (finished_run / "model.safetensors").read_bytes() == before


def test_out_refuses_a_directory_of_someone_elses_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli(["train", "--data", "builtin:iris", "--out", str(tmp_path), "--overwrite"], capsys)
    assert code == 2 and "not a layerwise run" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def damaged_copy(run: Path, tmp_path: Path, name: str, damage) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in run.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    path = copy / name
    path.write_bytes(damage(path.read_bytes()))
    return copy


DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "flipped": lambda data: data[:-9] + bytes([data[-9] ^ 0xFF]) + data[-8:],
    "empty": lambda data: b"",
    "garbage": lambda data: b"\x00\xff" * 50,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", ["model.safetensors", "model.json"])
def test_damaged_model_files_give_one_line_errors(finished_run, tmp_path, capsys, name, damage):
    copy = damaged_copy(finished_run, tmp_path, name, DAMAGE[damage])
    code, _, err = run_cli(["predict", str(copy), "--values", "5.1,3.5,1.4,0.2"], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and name in err


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_checkpoint_gives_one_line_error_on_resume(finished_run, tmp_path, capsys, damage):
    copy = damaged_copy(finished_run, tmp_path, "checkpoint.safetensors", DAMAGE[damage])
    (copy / "status.json").write_text(json.dumps({"state": "running"}))
    code, _, err = run_cli(["resume", str(copy), "-q"], capsys)
    if damage == "flipped" and code == 0:
        return  # a flipped byte inside a float is a different but valid state; nothing to detect
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "checkpoint" in err


def test_model_from_a_newer_format_is_refused(finished_run, tmp_path):
    copy = damaged_copy(finished_run, tmp_path, "model.json",
                        lambda data: data.replace(b'"format_version": 1', b'"format_version": 99'))
    with pytest.raises(LayerwiseError, match="format version 99"):
        layerwise.load(copy)


def test_every_artifact_is_written_atomically_and_status_says_complete(finished_run):
    assert json.loads((finished_run / "status.json").read_text())["state"] == "complete"
    assert not list(finished_run.glob(".*.tmp"))  # no temporary files left behind
