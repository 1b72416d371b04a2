"""Smoke test of the benchmark harness: it runs, writes its JSON, and reports (not crashes on)
a missing peer. No timing thresholds: timings live in the printed tables, not in tests."""

import json
import sys
from pathlib import Path

import pytest

# benchmarks/ is a top-level folder of the repo, not part of the installed package
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import peers  # noqa: E402


def _rows(path):
    return {row["peer"]: row for row in json.loads(path.read_text())["rows"]}


def test_smoke_run_writes_positive_timings_and_reports_a_missing_peer(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.setitem(sys.modules, "skorch", None)  # makes `skorch` look not installed
    peers.main(["--workload", "W1", "--smoke", "--peers", "plain,slicing,sklearn,skorch",
                "--in-process", "--out", str(tmp_path)])
    rows = _rows(tmp_path / "W1-cpu.json")
    for name in ("plain", "slicing", "sklearn"):
        assert rows[name]["status"] == "ok", rows[name]
        assert len(rows[name]["seconds"]) == 1 and rows[name]["median_s"] > 0
        assert rows[name]["x_floor"] > 0
    assert rows["skorch"]["status"] == "not installed"
    printed = capsys.readouterr().out
    assert "| skorch | not installed |" in printed and "floor: GEMM at" in printed


def test_isolated_w4_run_reports_microseconds_per_step_against_the_bare_loop(tmp_path):
    peers.main(["--workload", "W4b", "--smoke", "--peers", "bare,slicing", "--out",
                str(tmp_path)])
    rows = _rows(tmp_path / "W4b-cpu.json")
    assert rows["bare"]["x_bare"] == 1.0
    assert rows["slicing"]["status"] == "ok" and rows["slicing"]["us_per_step"] > 0
    assert rows["slicing"]["steps"] == 10 * 5  # smoke: 10 epochs x 15 rows / batch 3
    assert rows["slicing"]["rss_mb"] > 0


def test_unknown_peer_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        peers.main(["--peers", "plain,nosuchpeer"])
    assert exit_info.value.code == 2
    assert "nosuchpeer" in capsys.readouterr().err


def test_cuda_request_without_cuda_skips_with_a_message(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the skip path is for machines without it")
    assert peers.main(["--device", "cuda", "--out", str(tmp_path)]) == []
    assert "CUDA is not available" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_help_renders(capsys):
    with pytest.raises(SystemExit) as exit_info:
        peers.main(["--help"])
    assert exit_info.value.code == 0
    assert "--retry-shared" in capsys.readouterr().out


def test_cpu_floor_takes_the_faster_of_one_thread_and_the_default(monkeypatch):
    """Under contention two threads' GEMMs collapse and one thread's do not: the floor is the
    better of the two, says which, and leaves torch's thread count as it was."""
    import torch

    from benchmarks import floor
    from benchmarks.workloads import WORKLOADS

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for rates, expected in (({1: 100e9, 2: 1e9}, 1), ({1: 100e9, 2: 250e9}, 2)):
            monkeypatch.setattr(floor, "gemm_rate", lambda w, device: rates[torch.get_num_threads()])
            measured = floor.measure(WORKLOADS["W1"], "cpu")
            assert measured["threads"] == expected and measured["gemm_flops_per_s"] == rates[expected]
            assert measured["seconds"] == WORKLOADS["W1"].flops_per_epoch / rates[expected]
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
