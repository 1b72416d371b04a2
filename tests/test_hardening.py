"""Hostile inputs found by an adversarial pass over the CLI (issue 15), each run as a user would
run it, in a subprocess held to 10 s of wall time and 1 GiB of heap (helpers.run_limited): the
answer is one `error:` line with exit 2 (or a normal run), never a traceback, a hang or a
memory blow-up. Before the fixes each of these printed a traceback, hung, or died of MemoryError.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import (LIMIT_SECONDS, alias_bomb, assert_user_error, gzip_bomb, idx_bytes, run_cli, run_limited,
                     synthetic_digits)

MNIST_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def limited_error(args: list, cwd: Path, *fragments: str) -> str:
    result = run_limited(args, cwd=cwd)
    assert result is not None, f"{args}: no answer within {LIMIT_SECONDS} s"
    return assert_user_error(result, *fragments)


def _mnist_dir(directory: Path, replace: dict[str, bytes]) -> Path:
    directory.mkdir()
    x, y = synthetic_digits(12, seed=0)
    parts = dict(zip(MNIST_STEMS, (x[:8], y[:8], x[8:], y[8:])))
    for stem, array in parts.items():
        name = stem + (".gz" if stem + ".gz" in replace else "")
        (directory / name).write_bytes(replace.get(name, idx_bytes(array)))
    return directory


# ---- data files ----------------------------------------------------------------------------------

def test_npz_with_a_3d_target_names_y_and_its_shape(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.random.default_rng(0).normal(size=(10, 3)), y=np.zeros((10, 2, 2)))
    limited_error(["train", "--data", "d.npz", "--out", "run"], tmp_path,
                  "d.npz", "'y' must be 1-D or 2-D (rows, outputs), got shape (10, 2, 2)")
    assert not (tmp_path / "run").exists()


def test_npy_pair_with_a_pickled_target_is_refused_without_unpickling(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.ones((4, 2)))
    np.save(tmp_path / "y.npy", np.array([{"a": 1}, None, 1, 2], dtype=object), allow_pickle=True)
    limited_error(["train", "--data", "x.npy", "--out", "run"], tmp_path,
                  "y.npy", "Python objects", "never unpickles")


def test_python_api_refuses_a_3d_target_by_name() -> None:
    import layerwise
    from layerwise.errors import LayerwiseError

    with pytest.raises(LayerwiseError, match=r"y must be 1-D or 2-D \(rows, outputs\), got shape \(10, 2, 2\)"):
        layerwise.fit({"training": {"epochs": 1}}, data=(np.ones((10, 3)), np.zeros((10, 2, 2))))


def test_idx_header_with_absurd_dimensions(tmp_path: Path) -> None:
    # 65536**4 * 1 byte wraps to 0 in int64: the old reader reshaped 0 bytes and crashed.
    header = struct.pack(">BBBB4I", 0, 0, 0x08, 4, 65536, 65536, 65536, 65536)
    _mnist_dir(tmp_path / "m", {"train-images-idx3-ubyte": header})
    limited_error(["train", "--data", "mnist:m", "--out", "run"], tmp_path,
                  "train-images-idx3-ubyte", "(65536, 65536, 65536, 65536)", "holds 20 bytes")


def test_gzip_idx_is_never_expanded_past_its_header(tmp_path: Path) -> None:
    # 1.5 GB of zeros behind a header promising 8x28x28: the old reader decompressed it all
    # (MemoryError under 1 GiB); now it stops one byte past the promise.
    header = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 8, 28, 28)
    bomb = gzip_bomb(header, 1500 * 2**20)
    assert len(bomb) < 2 * 2**20
    _mnist_dir(tmp_path / "m", {"train-images-idx3-ubyte.gz": bomb})
    limited_error(["train", "--data", "mnist:m", "--out", "run"], tmp_path,
                  "train-images-idx3-ubyte.gz", "more than the 6,272 bytes")


def test_gzip_idx_declaring_more_than_deflate_can_hold(tmp_path: Path) -> None:
    import gzip

    header = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 60000, 280, 280)  # 4.7 GB from a few bytes
    _mnist_dir(tmp_path / "m", {"train-images-idx3-ubyte.gz": gzip.compress(header + bytes(100))})
    limited_error(["train", "--data", "mnist:m", "--out", "run"], tmp_path, "train-images-idx3-ubyte.gz", "1032:1")


def test_npy_header_declaring_more_than_the_file(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.ones((4, 2)))
    raw = (tmp_path / "x.npy").read_bytes().replace(b"(4, 2)", b"(9999999999, 2)")
    (tmp_path / "x.npy").write_bytes(raw)
    np.save(tmp_path / "y.npy", np.ones(4))
    limited_error(["train", "--data", "x.npy", "--out", "run"], tmp_path, "x.npy", "(9999999999, 2)", "bytes of data")


def test_data_max_bytes_bounds_every_reader(tmp_path: Path, table_csv: Path) -> None:
    import pandas as pd

    pd.read_csv(table_csv).to_parquet(tmp_path / "t.parquet")
    np.savez(tmp_path / "a.npz", x=np.ones((100, 3)), y=np.ones(100))
    for source in (table_csv, tmp_path / "t.parquet", tmp_path / "a.npz"):
        target = [] if source.suffix == ".npz" else ["--target", "label"]  # an .npz brings its own target
        result = run_cli(["train", "--data", source, *target, "--set", "data.max_bytes=1000", "--out",
                          tmp_path / "run"])
        assert_user_error(result, source.name, "the memory budget is 1,000 bytes (data.max_bytes)")
    assert not (tmp_path / "run").exists()


# ---- configs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["resolved", "class_weights"])
def test_yaml_alias_bomb_is_refused_promptly(tmp_path: Path, where: str) -> None:
    anchors, bomb = alias_bomb(levels=8, fanout=10)  # 10**9 leaves after expansion
    body = (f"resolved: {{rows: {bomb}}}\ntraining: {{epochs: 1}}\n" if where == "resolved" else
            f"training: {{epochs: 1, class_weights: {bomb}}}\n")
    (tmp_path / "c.yaml").write_text(anchors + "data: {source: 'builtin:iris'}\n" + body)
    limited_error(["train", "c.yaml", "--out", "run"], tmp_path, "c.yaml", "expands to more than")
    assert not (tmp_path / "run").exists()


def test_yaml_loader_counts_aliases_as_what_they_repeat() -> None:
    from layerwise.errors import LayerwiseError
    from layerwise.safe_yaml import MAX_NODES, parse

    anchors, ref = alias_bomb(levels=3, fanout=10)  # 10**4 leaves: an ordinary reuse, accepted
    assert len(parse(anchors + f"x: {ref}\n", "small")["x"]) == 10
    anchors, ref = alias_bomb(levels=6, fanout=10)  # 10**7 > MAX_NODES
    assert 10 ** 7 > MAX_NODES
    with pytest.raises(LayerwiseError, match="big: YAML refused: expands to more than"):
        parse(anchors + f"x: {ref}\n", "big")
    with pytest.raises(LayerwiseError, match="a cycle"):
        parse("a: &a [1, *a]\n", "cyclic")
    with pytest.raises(LayerwiseError, match="nested too deeply"):
        parse("a: " + "[" * 100 + "]" * 100, "deep")


def test_twenty_thousand_hidden_layers_are_refused_promptly(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("data: {source: 'builtin:iris'}\nnetwork: {hidden: [%s]}\n"
                                     % ", ".join(["4"] * 20000))
    limited_error(["train", "c.yaml", "--out", "run"], tmp_path, "network.hidden", "20,000 hidden layers; at most 1,000")


@pytest.mark.parametrize("layers, fragment", [
    ("[" + ", ".join(["{type: dense, units: 2}"] * 1001) + "]", "at most 1000 items"),
    ("[{type: residual, layers: [" + ", ".join(["{type: dense, units: 2}"] * 1001) + "]}]", "at most 1,000"),
    ("[{type: dropout, rate: .nan}]", "network.layers[0].rate: Input should be a finite number"),
])
def test_typed_layer_lists_are_bounded_and_finite(tmp_path: Path, layers: str, fragment: str) -> None:
    result = run_cli(["train", "--data", "builtin:iris", "--set", f"network.layers={layers}", "--out", "run"], cwd=tmp_path)
    assert_user_error(result, "network.layers", fragment)


def test_plateau_factor_of_one_or_more_names_the_key(tmp_path: Path) -> None:
    limited_error(["train", "--data", "builtin:iris", "--set", "training.schedule=plateau", "--set",
                   "training.gamma=1.5", "--out", "run"], tmp_path, "training.gamma", "less than 1")


@pytest.mark.parametrize("key, value", [("training.lr", ".nan"), ("training.momentum", ".inf"),
                                        ("training.momentum", "1.0"), ("training.weight_decay", "-.inf"),
                                        ("training.class_weights", "[1, .nan, 1]"),
                                        ("training.early_stopping.min_delta", ".nan")])
def test_non_finite_and_out_of_range_numbers_name_their_key(tmp_path: Path, key: str, value: str) -> None:
    result = run_cli(["train", "--data", "builtin:iris", "--set", f"{key}={value}", "--out", "run"], cwd=tmp_path)
    assert_user_error(result, f"'{key}")
    assert not (tmp_path / "run").exists()


def test_huge_regression_targets_fail_cleanly_or_train(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    np.savez(tmp_path / "big.npz", x=x, y=1e30 * (1 + x[:, 0]))
    result = run_cli(["train", "--data", "big.npz", "--epochs", "2", "--hidden", "4", "--out", "run", "-q"], cwd=tmp_path)
    if result.code != 0:
        assert_user_error(result)
        assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "failed"


# ---- the run directory -----------------------------------------------------------------------------

def test_a_killed_run_reads_as_crashed(tmp_path: Path) -> None:
    """kill -9 (or the OOM killer) leaves status.json `running`; the next command that reads the
    run sees the pid is gone and says `crashed`. (test_resume.py kills real training runs and
    checks the same, then resumes them.)"""
    script = ("import sys, time; from pathlib import Path; from layerwise import artifacts\n"
              "artifacts.set_status(Path(sys.argv[1]), 'running'); print('up', flush=True); time.sleep(60)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "up\n"
        from layerwise.artifacts import read_status

        assert read_status(tmp_path)["state"] == "running"  # alive: not crashed
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    assert json.loads((tmp_path / "status.json").read_text())["pid"] == process.pid
    assert read_status(tmp_path)["state"] == "crashed"
    assert_user_error(run_cli(["evaluate", tmp_path, "--data", "builtin:iris"]), "run is crashed")
    from layerwise.runs_table import read_row

    assert read_row(tmp_path).status == "crashed"  # `layerwise runs` shows it too


def test_a_reused_pid_is_not_mistaken_for_the_run(tmp_path: Path) -> None:
    from layerwise import artifacts
    from layerwise.errors import LayerwiseError

    artifacts.set_status(tmp_path, "running")  # this process: alive
    assert artifacts.read_status(tmp_path)["state"] == "running"
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["pid"] == os.getpid() and status["process_started"]
    (tmp_path / "status.json").write_text(json.dumps({**status, "process_started": "other-boot:1"}))
    assert artifacts.read_status(tmp_path)["state"] == "crashed"  # same pid, another process
    with pytest.raises(LayerwiseError, match="already holds a crashed run"):
        artifacts.create_run_dir(tmp_path, "x")


@pytest.mark.parametrize("name, command", [("model.json", "predict"), ("model.json", "explain"),
                                           ("status.json", "predict"), ("status.json", "runs")])
def test_deeply_nested_run_files_are_one_line(tmp_path: Path, table_run, table_csv: Path, name: str, command: str) -> None:
    """json's decoder recurses once per level: 100,000 levels raised RecursionError tracebacks."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(table_run.dir, run)
    (run / name).write_text("[" * 100_000 + "]" * 100_000)
    args = {"predict": ["predict", run, "--input", table_csv], "explain": ["explain", run, "--input", "10,50,red"],
            "runs": ["runs", run]}[command]
    result = run_cli(args)
    assert "Traceback" not in result.err and result.code in (0, 2), result.err[-2000:]
    if result.code == 2:
        assert_user_error(result, name if name == "model.json" else "run is unknown")
