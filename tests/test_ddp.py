"""DDP on the CPU (gloo, 2 processes): one run directory whose weights match the one-process run,
through `--nproc-per-node` and through torchrun; kill -9 of the launcher, then resume; errors.

Every multi-process run here is a real subprocess tree (launcher + 2 workers), bounded by timeouts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import layerwise
from helpers import run_cli
from layerwise.distributed import Group
from layerwise.training.batches import ResidentBatches
from layerwise.training.ddp import ShardedBatches
from layerwise.training.loop import per_row_loss, weighted_loss

FLAGS = ["--data", "builtin:digits", "--hidden", "64", "--epochs", "4", "--batch-size", "64",
         "--no-early-stopping", "--seed", "0"]
LAYERWISE = [sys.executable, "-m", "layerwise"]
TIMEOUT = 120  # seconds for one multi-process run on a busy 2-core machine


def weights(run: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(run / "model.safetensors"))


def max_difference(a: Path, b: Path) -> float:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    return max(float(np.abs(wa[k] - wb[k]).max()) for k in wa)


def status(run: Path) -> str:
    return json.loads((run / "status.json").read_text())["state"]


def metrics_without_wall_time(run: Path) -> list[list[str]]:
    rows = [line.split(",") for line in (run / "metrics.csv").read_text().splitlines()]
    drop = rows[0].index("epoch_seconds")
    return [[cell for j, cell in enumerate(row) if j != drop] for row in rows]


def launch(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one") / "run"
    run_cli(["train", *FLAGS, "--out", out, "--quiet"])
    return out


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ddp") / "run"
    result = launch([*LAYERWISE, "train", *FLAGS, "--nproc-per-node", "2", "--out", str(out)])
    assert result.returncode == 0, result.stderr
    assert "processes: 2 (gloo)" in result.stdout and result.stdout.count("epoch 4/4") == 1  # rank 0 only
    return out


# ---- the batches: every rank's share adds up to the one-process batch loss -----------------------
@pytest.mark.parametrize("kind", ["plain", "class_weights", "sample_weights", "regression"])
def test_sharded_batch_losses_add_up_to_the_one_process_loss(kind):
    generator = torch.Generator().manual_seed(0)
    rows, world, batch = 23, 2, 8  # the last batch (7 rows) splits 4 + 3
    X = torch.randn(rows, 3, generator=generator)
    outputs_of = torch.nn.Linear(3, 2 if kind == "regression" else 4)
    y = torch.randn(rows, 2, generator=generator) if kind == "regression" else torch.randint(0, 4, (rows,), generator=generator)
    sample = torch.rand(rows, generator=generator) if kind == "sample_weights" else None
    class_weights = torch.tensor([1.0, 2.0, 0.5, 3.0]) if kind != "regression" and kind != "plain" else None
    loss_fn = torch.nn.MSELoss() if kind == "regression" else torch.nn.CrossEntropyLoss(weight=class_weights)
    whole = ResidentBatches(X, y, None, batch, seed=1, weights=sample)
    shards = [ShardedBatches(whole, Group(r, world, r, world, "gloo", "cpu"), class_weights) for r in range(world)]
    assert [len(s) for s in shards] == [len(whole)] * world == [3] * world
    one_process = list(whole.epoch(2))
    for step, parts in enumerate(zip(*(s.epoch(2) for s in shards))):
        x1, y1 = one_process[step][:2]
        reference = (loss_fn(outputs_of(x1), y1) if sample is None
                     else weighted_loss(loss_fn, outputs_of(x1), y1, one_process[step][2]))
        # DDP averages the ranks' gradients: the mean of the ranks' losses is the batch loss
        ranks = [(per_row_loss(loss_fn, outputs_of(x), t) * scale).sum() for x, t, scale in parts]
        torch.testing.assert_close(sum(ranks) / world, reference, rtol=1e-6, atol=1e-7)
        assert sorted(torch.cat([x for x, _, _ in parts]).flatten().tolist()) == sorted(x1.flatten().tolist())


def test_world_size_must_divide_the_batch_as_trained():
    """resolve checks the batch the ranks will split: the config's, the preset's (256 when the config
    sets none), or the full batch when it covers every training row (any world size splits that)."""
    from layerwise.resolve import Modes
    from layerwise.run import as_config
    from layerwise.training.prepare import dataset_from_arrays, prepare

    def prepared(rows, **training):
        config = as_config({"preset": "auto", "data": {"val_split": 0.0, "test_split": 0.0}, "training": training})
        data = dataset_from_arrays((np.zeros((rows, 1)), np.arange(rows) * 0.5))
        return prepare(config, data, modes=Modes(processes=3))

    with pytest.raises(layerwise.LayerwiseError, match="^--batch-size 5 does not split evenly across 3 processes"):
        prepared(4, batch_size=5)  # an explicit batch size is checked as given, before the data is read
    with pytest.raises(layerwise.LayerwiseError, match="^--batch-size 256 does not split evenly across 3 processes"):
        prepared(300)
    assert len(prepared(200).train_idx) == 200  # the preset's 256 covers all 200 rows: one full batch


# ---- end to end --------------------------------------------------------------------------------
def test_nproc_per_node_matches_one_process(ddp_run, one_process):
    assert status(ddp_run) == "complete"
    assert max_difference(ddp_run, one_process) < 1e-4
    summary = json.loads((ddp_run / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["backend"] == "gloo"
    assert summary["epochs_run"] == 4
    # the sharded, gathered evaluation sees every row once: the same metrics as one process
    alone = json.loads((one_process / "summary.json").read_text())
    for split in ("train", "val", "test"):
        assert summary[split]["accuracy"] == alone[split]["accuracy"]
    ddp_rows, one_rows = metrics_without_wall_time(ddp_run), metrics_without_wall_time(one_process)
    assert ddp_rows[0] == one_rows[0]
    np.testing.assert_allclose(np.array(ddp_rows[1:], dtype=float), np.array(one_rows[1:], dtype=float), rtol=1e-5)


def test_torchrun_matches_one_process(one_process, tmp_path):
    out = tmp_path / "run"
    result = launch([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                     "--log-dir", str(tmp_path / "logs"), "-m", "layerwise", "train", *FLAGS, "--out", str(out), "--quiet"])
    assert result.returncode == 0, result.stderr
    assert status(out) == "complete" and max_difference(out, one_process) < 1e-4
    assert json.loads((out / "summary.json").read_text())["world_size"] == 2
    assert sorted(p.name for p in out.parent.iterdir()) == ["logs", "run"]  # one run directory, by rank 0


def test_kill_9_of_the_launcher_then_resume_matches(ddp_run, tmp_path):
    # --checkpoint-every 1 keeps the run busy for long enough to be killed mid-way, and exercises
    # mid-epoch checkpoints (every rank's batch losses and RNG state); it does not change the result.
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        process = subprocess.Popen([*LAYERWISE, "train", *FLAGS, "--checkpoint-every", "1", "--nproc-per-node",
                                    "2", "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env={**os.environ, "TMPDIR": str(tmp_path)})  # a killed launcher leaves its log folder
        deadline = time.monotonic() + TIMEOUT
        while not (out / "checkpoint.safetensors").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        while status(out) == "running" and time.monotonic() < deadline:  # the orphaned workers stop
            time.sleep(0.05)
        if status(out) != "complete":
            break
    assert status(out) == "failed", "every run finished before its kill: the test did not test resuming"
    with pytest.raises(layerwise.LayerwiseError, match="trained by 2 process"):
        layerwise.resume(out, quiet=True)  # one process cannot continue a 2-process run
    result = launch([*LAYERWISE, "resume", str(out), "--quiet"])
    assert result.returncode == 0, result.stderr
    assert status(out) == "complete"
    assert max_difference(out, ddp_run) == 0.0
    assert metrics_without_wall_time(out) == metrics_without_wall_time(ddp_run)


def _worker_of_rank(launcher: int, rank: int) -> int:
    children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
    for pid in children:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"RANK={rank}".encode() in environ:
            return int(pid)
    raise AssertionError(f"no worker of rank {rank} among {children}")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find the workers")
def test_a_dying_rank_fails_the_run_in_one_line(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([*LAYERWISE, "train", *FLAGS, "--epochs", "400", "--nproc-per-node", "2",
                                "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + TIMEOUT
    while not (out / "metrics.csv").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(_worker_of_rank(process.pid, 1), signal.SIGKILL)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 2
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: training worker rank") and "killed by SIGKILL" in lines[0], stderr
    assert status(out) == "failed"


# ---- one-line errors before any worker starts ----------------------------------------------------
def test_errors_are_one_line_and_start_no_worker(tmp_path):
    odd = run_cli(["train", *FLAGS, "--batch-size", "63", "--nproc-per-node", "2", "--out", tmp_path / "a"])
    assert odd.code == 2 and odd.err.strip() == ("error: --batch-size 63 does not split evenly across 2 "
                                                 "processes; use a multiple of 2")
    repeat = run_cli(["train", *FLAGS, "--repeat", "2", "--nproc-per-node", "2", "--out", tmp_path / "b"])
    assert repeat.code == 2 and repeat.err.startswith("error: --nproc-per-node cannot be combined with --repeat")
    assert len(repeat.err.strip().splitlines()) == 1
    folds = run_cli(["train", *FLAGS, "--folds", "2", "--nproc-per-node", "2"])
    assert folds.code == 2 and folds.err.strip() == "error: --folds and --nproc-per-node cannot be combined"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
