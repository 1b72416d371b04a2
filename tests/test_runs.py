"""`layerwise runs` lists a folder of 20 real runs (status, data, task, monitored metric, best
epoch, seconds, date) and sorts them; `--compare` overlays their curves and lists config differences."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

import layerwise


@pytest.fixture(scope="module")
def twenty_runs(tmp_path_factory):
    """20 copies trained at once (seeds 0..19), each with its own run directory, plus one failed run."""
    root = tmp_path_factory.mktemp("runs")
    layerwise.train({"data": {"source": "builtin:iris"}, "network": {"hidden": [4]},
                     "training": {"epochs": 4, "lr": 0.05, "batch_size": 32, "seed": 0,
                                  "early_stopping": {"patience": 2}, "monitor": "val_loss"}},
                    repeat=20, out=root / "sweep", quiet=True)
    return root


def _layerwise(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layerwise", *args], capture_output=True, text=True, timeout=120)


def test_one_line_per_run_with_the_best_value_from_its_metrics(twenty_runs) -> None:
    done = _layerwise("runs", str(twenty_runs), "--sort", "metric")
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header.split() == ["run", "status", "data", "task", "monitor", "best", "best", "epoch", "seconds", "date"]
    assert len(lines) == 20
    bests = []
    for line in lines:
        name, status, data, task, monitor, best, epoch, seconds, day, clock = line.split()
        assert (status, data, task, monitor) == ("complete", "builtin:iris", "multiclass", "val_loss")
        history = pd.read_csv(twenty_runs / name / "metrics.csv")
        best_epoch, epochs = map(int, epoch.split("/"))
        assert epochs == len(history) and history["val_loss"].idxmin() + 1 == best_epoch
        assert float(best) == pytest.approx(history["val_loss"].min(), abs=5e-5)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", day) and re.fullmatch(r"\d\d:\d\d:\d\d", clock)
        bests.append(float(best))
    assert bests == sorted(bests)  # val_loss: lowest (best) first


def test_sorting_by_name_and_a_mistyped_key(twenty_runs) -> None:
    names = [line.split()[0] for line in _layerwise("runs", str(twenty_runs), "--sort", "name").stdout.splitlines()[1:]]
    assert names == [f"sweep/copy-{i:02d}" for i in range(20)]
    done = _layerwise("runs", str(twenty_runs), "--sort", "metrc")
    assert done.returncode == 2 and "did you mean 'metric'?" in done.stderr and "Traceback" not in done.stderr


def test_compare_twenty_runs(twenty_runs, tmp_path) -> None:
    runs = [str(twenty_runs / "sweep" / f"copy-{i:02d}") for i in range(20)]
    done = _layerwise("runs", "--compare", *runs, "-o", str(tmp_path / "compare.html"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<img alt='(loss curves|metric curves)' src='data:image/png;base64,", page)) == 2
    differences = re.search(r"<section id=config>(.*?)</section>", page, re.S)[1]
    # the copies differ in their seed only, and the table says so
    assert re.findall(r"<tr><td>([\w.]+)</td>", differences) == ["training.seed"]
    assert re.findall(r"<td>(\d+)</td>", differences) == [str(i) for i in range(20)]
    scores = re.search(r"<section id=scores>(.*?)</section>", page, re.S)[1]
    assert scores.count("<tr><td>copy-") == 20


def test_compare_refuses_a_folder_that_is_not_a_run(twenty_runs, tmp_path) -> None:
    done = _layerwise("runs", "--compare", str(twenty_runs / "sweep" / "copy-00"), str(tmp_path), "-o", str(tmp_path / "c.html"))
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "not a run directory" in done.stderr
    assert not (tmp_path / "c.html").exists()
