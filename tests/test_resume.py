"""Kill a training run at random points, resume it, and compare with a run never interrupted:
final weights, metrics.csv (minus the wall-time column) and predictions must be bit-identical."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from layerwise.artifacts import read_status

KILLS = int(os.environ.get("LAYERWISE_KILLS", "5"))  # 5 in CI; LAYERWISE_KILLS=50 locally


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 40)).astype("float32")
    y = (x[:, :5].sum(axis=1) + 0.3 * rng.normal(size=3000) > 0).astype("int64") + (x[:, 5] > 1)
    path = tmp_path_factory.mktemp("data") / "train.npz"
    np.savez(path, x=x, y=y)
    return path


def train_args(data: Path, out: Path) -> list[str]:
    # dropout exercises the RNG state; checkpoint_every exercises mid-epoch resume
    return [sys.executable, "-m", "layerwise", "train", "--data", str(data), "--hidden", "64", "32",
            "--dropout", "0.2", "--epochs", "3", "--batch-size", "32", "--checkpoint-every", "13",
            "--schedule", "cosine", "--seed", "3", "--out", str(out), "--quiet"]


def metrics_without_wall_time(run: Path) -> list[list[str]]:
    rows = [line.split(",") for line in (run / "metrics.csv").read_text().splitlines()]
    drop = rows[0].index("epoch_seconds")
    return [[cell for j, cell in enumerate(row) if j != drop] for row in rows]


def predictions(run: Path, data: Path) -> bytes:
    out = run / "pred.csv"
    subprocess.run([sys.executable, "-m", "layerwise", "predict", str(run), "--input", str(data),
                    "--output", str(out)], check=True, capture_output=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def reference(data_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    subprocess.run(train_args(data_file, out), check=True, capture_output=True)
    return out


def kill_at_random_point(args: list[str], run: Path, rng: random.Random) -> bool:
    """Start training, SIGKILL it once training is under way; False if it finished first."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (run / "status.json").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.6))
    finished = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return not finished


def test_kill_and_resume_is_bit_identical(data_file, reference, tmp_path):
    rng = random.Random(int(os.environ.get("LAYERWISE_KILL_SEED", "0")))
    reference_weights = (reference / "model.safetensors").read_bytes()
    reference_metrics = metrics_without_wall_time(reference)
    reference_predictions = predictions(reference, data_file)
    killed = 0
    for attempt in range(KILLS):
        run = tmp_path / f"run{attempt}"
        killed += kill_at_random_point(train_args(data_file, run), run, rng)
        status = json.loads((run / "status.json").read_text())["state"]
        assert status in ("running", "complete")
        if status == "running":  # left by the killed process; readers see its pid is gone
            assert read_status(run)["state"] == "crashed"
            result = subprocess.run([sys.executable, "-m", "layerwise", "resume", str(run), "--quiet"],
                                    capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
        assert (run / "model.safetensors").read_bytes() == reference_weights
        assert metrics_without_wall_time(run) == reference_metrics
        assert predictions(run, data_file) == reference_predictions
    print(f"\nkill test: {KILLS} attempts, {killed} killed mid-run and resumed bit-identically")
    assert killed >= 1, "every run finished before its kill: the test did not test resuming"


def test_sigint_saves_a_resumable_checkpoint(data_file, reference, tmp_path):
    run = tmp_path / "run"
    process = subprocess.Popen(train_args(data_file, run), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not (run / "metrics.csv").exists() and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "layerwise resume" in stderr and "Traceback" not in stderr
    assert json.loads((run / "status.json").read_text())["state"] == "interrupted"
    subprocess.run([sys.executable, "-m", "layerwise", "resume", str(run), "-q"], check=True, capture_output=True)
    assert (run / "model.safetensors").read_bytes() == (reference / "model.safetensors").read_bytes()
