"""DDP with large sources read per shard: a memory-mapped .npy and a Parquet file's row groups.

Each rank holds only its block of the source's rows; the preprocessing statistics stream over the
training rows and equal the one-process ones; the trained weights match the one-process run.
The in-process checks pose as one rank of two (a `Group` set as the current one) to look at what
that rank reads; the end-to-end checks are real 2-process gloo runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import layerwise.distributed as distributed
from helpers import run_cli
from layerwise.data.builtin import load_builtin
from layerwise.distributed import Group
from layerwise.spec import RunConfig
from layerwise.training.prepare import load_training_data, prepare
from test_ddp import LAYERWISE, launch, max_difference

GROUP_ROWS = 200  # Parquet row group size: 1797 rows -> 9 groups
FLAGS = ["--hidden", "32", "--epochs", "2", "--batch-size", "64", "--no-early-stopping", "--seed", "0",
         "--dropout", "0", "--quiet"]  # dropout masks differ per rank: none, so weights can match


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """digits as a .npy (+ .y.npy) and as Parquet (integer and float columns, gaps in one)."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("sources")
    digits = load_builtin("digits")
    X = np.asarray(digits.X, dtype=np.float32).reshape(len(digits.X), -1)
    X[::37, 5] = np.nan  # a column with gaps: its exact median and a missing-indicator column
    y = np.asarray(digits.y)
    np.save(folder / "digits.npy", X)
    np.save(folder / "digits.y.npy", y)
    frame = pd.DataFrame(X, columns=[f"p{j}" for j in range(X.shape[1])])
    for j in range(8, 40):  # gap-free columns stored as integers
        frame[f"p{j}"] = frame[f"p{j}"].astype(np.int64)
    frame["label"] = y
    frame.to_parquet(folder / "digits.parquet", row_group_size=GROUP_ROWS, index=False)
    kind = np.where(y % 2 == 0, "even", np.where(y % 3 == 0, None, "odd"))  # text with gaps: categories
    frame.assign(kind=kind, big=y > 4).to_parquet(folder / "text.parquet", row_group_size=GROUP_ROWS, index=False)
    frame.assign(size=(y * 0.5).astype(str)).to_parquet(folder / "numbers-as-text.parquet", index=False)
    return {"npy": folder / "digits.npy", "parquet": folder / "digits.parquet", "text": folder / "text.parquet",
            "numbers-as-text": folder / "numbers-as-text.parquet"}


def _config(source: Path) -> RunConfig:
    target = ["label"] if source.suffix == ".parquet" else None
    return RunConfig.from_dict({"data": {"source": str(source), "target": target}, "network": {"hidden": [32]}})


def _prepared(source: Path, rank=None, monkeypatch=None):
    """prepare() as one process (rank None) or as rank `rank` of two."""
    if rank is not None:
        monkeypatch.setattr(distributed, "_group", Group(rank, 2, rank, 2, "gloo", "cpu"))
    try:
        config = _config(source)
        return prepare(config, load_training_data(config))
    finally:
        if rank is not None:
            monkeypatch.setattr(distributed, "_group", None)


@pytest.mark.parametrize("kind", ["npy", "parquet", "text"])
def test_each_rank_holds_its_block_with_the_one_process_statistics(sources, kind, monkeypatch):
    read_groups: list[int] = []
    if kind != "npy":  # every feature row a rank holds comes through read_row_groups
        import pyarrow.parquet as pq

        original = pq.ParquetFile.read_row_groups

        def counting(self, row_groups, *args, **kwargs):
            read_groups.extend(row_groups)
            return original(self, row_groups, *args, **kwargs)

        monkeypatch.setattr(pq.ParquetFile, "read_row_groups", counting)
    whole = _prepared(sources[kind])
    rows = len(whole.features)
    assert whole.held is None and rows == 1797
    blocks = []
    for rank in (0, 1):
        read_groups.clear()
        mine = _prepared(sources[kind], rank, monkeypatch)
        start, stop = mine.held
        blocks.append((start, stop))
        assert mine.preprocessor.state == whole.preprocessor.state  # scaling, medians, indicators
        np.testing.assert_array_equal(mine.features, whole.features[start:stop])
        np.testing.assert_array_equal(mine.train_idx, whole.train_idx)  # the same split
        assert len(mine.features) < 0.6 * rows  # the rank holds its half, not the source
        if kind != "npy":
            assert start % GROUP_ROWS == 0 and (stop % GROUP_ROWS == 0 or stop == rows)
            assert sorted(read_groups) == list(range(start // GROUP_ROWS, -(-stop // GROUP_ROWS)))
    assert blocks[0][0] == 0 and blocks[0][1] == blocks[1][0] and blocks[1][1] == rows  # every row once


def test_a_rank_allocates_less_than_one_process_by_its_missing_half(tmp_path, monkeypatch):
    """Allocations (numpy's are traced) while preparing a 16 MB .npy, as rank 1 of 2 and as one
    process: the statistics' temporaries are the same, the rank's features half as many. Reading
    the file whole, or preprocessing every row and slicing, would erase the difference."""
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50_000, 80)).astype(np.float32)
    np.save(tmp_path / "mid.npy", X)
    np.save(tmp_path / "mid.y.npy", rng.normal(size=50_000))
    _prepared(tmp_path / "mid.npy")  # untraced: one-time imports and caches
    peaks = {}
    for rank in (1, None):
        tracemalloc.start()
        mine = _prepared(tmp_path / "mid.npy", rank, monkeypatch)
        peaks[rank] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(mine.features) == (50_000 if rank is None else 25_000)
    assert peaks[1] < peaks[None] - X.nbytes / 4, peaks  # features: half of X.nbytes (float32)


def test_parquet_text_and_boolean_columns_keep_their_one_process_meaning(sources, monkeypatch):
    mine = _prepared(sources["text"], 1, monkeypatch)
    assert mine.held is not None  # read per shard
    state = mine.preprocessor.state
    assert [c["name"] for c in state["categorical"]] == ["kind"] and state["categorical"][0]["categories"] == ["even", "odd"]
    assert "big" in [c["name"] for c in state["numeric"]]  # booleans are 0/1 numbers, as pandas has them


def test_parquet_with_numbers_written_as_text_is_read_whole(sources, monkeypatch):
    mine = _prepared(sources["numbers-as-text"], 1, monkeypatch)  # pandas' whole-column judgement decides
    assert mine.held is None and len(mine.features) == 1797
    assert "size" in [c["name"] for c in mine.preprocessor.state["numeric"]]


@pytest.mark.parametrize("kind", ["npy", "parquet"])
def test_ddp_on_a_source_read_per_shard_matches_one_process(sources, kind, tmp_path):
    data = ["--data", str(sources[kind])] + (["--target", "label"] if kind == "parquet" else [])
    alone, ddp = tmp_path / "one", tmp_path / "ddp"
    assert run_cli(["train", *data, *FLAGS, "--out", alone]).code == 0
    result = launch([*LAYERWISE, "train", *data, *FLAGS, "--nproc-per-node", "2", "--out", str(ddp)])
    assert result.returncode == 0, result.stderr
    assert max_difference(ddp, alone) < 1e-4
    summary, reference = (json.loads((run / "summary.json").read_text()) for run in (ddp, alone))
    held = summary["rank_rows"]  # feature rows each rank held in memory
    assert sum(held) == 1797 and max(held) < 1797
    for split in ("train", "val", "test"):  # the gathered evaluation: every row once, in order
        assert summary[split]["accuracy"] == reference[split]["accuracy"]
