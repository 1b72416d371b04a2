"""report.html: self-contained, its numbers are summary.json's, hostile labels are escaped, and
it renders in a real headless browser (Chromium) when one is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import layerwise
from layerwise.report import _fmt


def test_report_is_self_contained_and_shows_the_summarys_numbers(iris_run) -> None:
    page = (iris_run.dir / "report.html").read_text(encoding="utf-8")
    summary = json.loads((iris_run.dir / "summary.json").read_text())
    sources = re.findall(r"""(?:src|href)=['"]([^'"]+)""", page)
    # loss, accuracy and confusion figures (a constant learning rate is said in words)
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<th>split</th><th>accuracy</th><th>precision_macro</th>" in page
    for split, name in (("test", "test"), ("val", "validation"), ("train", "train")):
        assert f"<tr><td>{name}</td><td class=num>{summary[split]['accuracy']:.4f}</td>" in page
    assert page.count("<tr><td class=num>") == summary["epochs_run"]  # one per-epoch row each
    assert "Linear(in_features=4, out_features=16, bias=True)" in page


def test_hostile_labels_are_escaped(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    pd.DataFrame({"x": x, "y": np.where(x > 0, "<script>alert(1)</script>", "a&b")}).to_csv(tmp_path / "d.csv", index=False)
    run = layerwise.train({"data": {"source": str(tmp_path / "d.csv"), "target": "y"}, "network": {"hidden": [2]},
                           "training": {"epochs": 1}}, out=tmp_path / "run", quiet=True)
    page = (run.dir / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "a&amp;b" in page


@pytest.mark.parametrize(("value", "shown"), [(0.001, "0.0010"), (1e-5, "1.000e-05"), (3874.90140335, "3874.9014"),
                                              (0.0, "0.0000"), (1234567, "1,234,567"), (float("nan"), "nan")])
def test_numbers_are_never_hidden_by_rounding(value, shown: str) -> None:
    assert _fmt(value) == shown


def _chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(iris_run, tmp_path: Path) -> None:
    from matplotlib.image import imread

    url = (iris_run.dir / "report.html").resolve().as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # run facts, hyperparameters, metrics, per-class, importance, features, parameters, per-epoch
    assert dom.stdout.count("<table") == 8
    assert re.search(r'<img alt="loss curve" src="data:image/png;base64,', dom.stdout)
    assert re.search(r'<img alt="confusion matrix" src="data:image/png;base64,', dom.stdout)
    shot = tmp_path / "page.png"
    done = _chromium(f"--screenshot={shot}", "--window-size=1200,6000", url)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    pixels = imread(str(shot))[..., :3]
    # Only the plots (loss and accuracy lines, Blues colormap) and the importance bars are blue;
    # text and tables are grey. They cover ~0.5% of a 1200x6000 page (iris, 15 epochs).
    blue = (pixels[..., 2] - pixels[..., 0] > 0.25).mean()
    assert blue > 0.003, f"only {blue:.4f} of the page is blue: the plots did not render"
    # nothing overflows the 960 px column sideways (a too-wide table or image would)
    ink = np.flatnonzero((pixels.min(axis=2) < 0.9).any(axis=0))
    assert ink.max() - ink.min() < 1010


def test_labels_the_font_cannot_draw_make_no_warnings() -> None:
    import warnings

    from layerwise.report import confusion_png

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = confusion_png([[1, 0], [0, 1]], ["\x02ctrl", "🍎"], "labels")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
