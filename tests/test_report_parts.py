"""report.html has every part a practitioner needs, found in the DOM of a real (headless Chromium)
render for a binary, a multiclass and a regression run; its numbers agree with scikit-learn."""

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

SMALL = {"network": {"hidden": [8]}, "training": {"epochs": 6, "lr": 0.02, "seed": 0, "batch_size": 32,
                                                  "early_stopping": {"patience": 3}}}


def _table(rows: int, seed: int, task: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"signal": rng.normal(size=rows), "noise": rng.normal(size=rows),
                          "colour": rng.choice(["red", "green", "blue"], size=rows)})
    frame.loc[::7, "noise"] = np.nan  # gaps: an indicator column joins "noise"'s block
    push = frame["signal"] + (frame["colour"] == "red") * 1.5
    frame["y"] = np.where(push + rng.normal(scale=0.3, size=rows) > 0.4, "yes", "no") if task == "binary" \
        else 3.0 * push + rng.normal(scale=0.2, size=rows)
    return frame


def _run(tmp: Path, task: str):
    _table(240, 0, task).to_csv(tmp / f"{task}.csv", index=False)
    _table(90, 1, task).to_csv(tmp / f"{task}_test.csv", index=False)
    config = {"data": {"source": str(tmp / f"{task}.csv"), "test": str(tmp / f"{task}_test.csv"), "target": "y"},
              **SMALL}
    return layerwise.train(config, out=tmp / f"{task}_run", quiet=True)


@pytest.fixture(scope="module")
def binary_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("binary"), "binary")


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("regression"), "regression")


def test_binary_summary_has_roc_auc_and_log_loss_equal_to_sklearns(binary_run) -> None:
    from sklearn.metrics import log_loss, roc_auc_score

    test = pd.read_csv(binary_run.dir.parent / "binary_test.csv")
    proba = layerwise.load(binary_run.dir).predict_proba(test.drop(columns="y"))[:, 1]  # classes: no, yes
    scores = json.loads((binary_run.dir / "summary.json").read_text())["test"]
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(test["y"] == "yes", proba), abs=1e-9)
    assert scores["log_loss"] == pytest.approx(log_loss(test["y"] == "yes", proba), rel=1e-5)


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_permutation_importance_is_sklearns(task, binary_run, regression_run) -> None:
    from sklearn.inspection import permutation_importance as sklearn_importance
    from sklearn.metrics import accuracy_score, r2_score

    from layerwise.diagnostics import permutation_importance

    run = binary_run if task == "binary" else regression_run
    predictor = layerwise.load(run.dir)
    test = pd.read_csv(run.dir.parent / f"{task}_test.csv")
    X, y = test.drop(columns="y"), test["y"].to_numpy()

    class Estimator:  # the run's predictor on raw rows, as scikit-learn sees an estimator
        def fit(self, X, y):
            return self

        def score(self, X, y):
            predicted = predictor.predict(X)
            return r2_score(y, predicted) if task == "regression" else accuracy_score(y, predicted)

    reference = sklearn_importance(Estimator(), X, y, n_repeats=3, random_state=0)
    ours = {row["column"]: row for row in permutation_importance(predictor, X, y, repeats=3)}
    assert list(ours)[0] == "signal"  # y is made from signal (and colour); noise is noise
    for j, column in enumerate(X.columns):
        assert ours[column]["drop"] == pytest.approx(reference.importances_mean[j], abs=1e-6), column
        assert ours[column]["std"] == pytest.approx(reference.importances_std[j], abs=1e-6), column


def _chromium_dom(page: Path, width: int = 1200) -> str:
    """The DOM after a real browser rendered the page, with the document's scroll width recorded."""
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace(
        "</body>", "<script>document.body.dataset.scrollWidth = document.documentElement.scrollWidth; document.body.dataset.innerWidth = window.innerWidth</script></body>"),
        encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
                               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
                               f"--window-size={width},900", "--dump-dom", probe.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)
    probe.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _images(dom: str) -> set[str]:
    return set(re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', dom))


COMMON = {"loss curve", "metric curve"}


def _check_common(dom: str, run) -> None:
    header = re.search(r'<section id="run">(.*?)</section>', dom, re.S)[1]
    for fact in ("data", "task", "rows", "features", "timing", "outcome", "hyperparameter", "training.lr"):
        assert f">{fact}<" in header, fact
    summary = json.loads((run.dir / "summary.json").read_text())
    assert f"{summary['train_rows']:,} train" in header
    assert re.search(r"<td>baseline: (majority class|mean of train targets) \((test|validation)\)</td>", dom)
    assert re.search(r'<section id="importance"><h2>Permutation importance</h2><p>mean drop in', dom)
    assert '"best_epoch"' not in dom and "{" not in re.sub(r"<(style|script)>.*?</\1>", "", dom, flags=re.S)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_binary_report_in_a_browser(binary_run) -> None:
    dom = _chromium_dom(binary_run.dir / "report.html")
    _check_common(dom, binary_run)
    assert COMMON | {"ROC curve", "precision-recall curve", "calibration plot", "confusion matrix"} <= _images(dom)
    per_class = re.search(r'<section id="per-class">(.*?)</section>', dom, re.S)[1]
    assert "<td>no</td>" in per_class and "<td>yes</td>" in per_class and "support" in per_class
    metrics = re.search(r'<section id="metrics">(.*?)</section>', dom, re.S)[1]
    assert "<th>roc_auc</th>" in metrics and "<th>log_loss</th>" in metrics
    importance = re.search(r'<section id="importance">(.*?)</section>', dom, re.S)[1]
    assert re.findall(r"<tr><td>(\w+)</td>", importance)[0] == "signal"
    assert {"signal", "noise", "colour"} == set(re.findall(r"<tr><td>(\w+)</td>", importance))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_multiclass_report_in_a_browser_fits_a_phone(iris_run) -> None:
    dom = _chromium_dom(iris_run.dir / "report.html", width=390)
    _check_common(dom, iris_run)
    assert COMMON | {"confusion matrix"} <= _images(dom)
    per_class = re.search(r'<section id="per-class">(.*?)</section>', dom, re.S)[1]
    assert all(f"<td>{c}</td>" in per_class for c in ("setosa", "versicolor", "virginica"))
    assert "ROC curve" not in _images(dom)
    # nothing makes the page wider than a phone: wide tables scroll inside their own box
    viewport = int(re.search(r'data-inner-width="(\d+)"', dom)[1])  # headless Chromium's narrowest is ~500 px
    assert viewport <= 520 and int(re.search(r'data-scroll-width="(\d+)"', dom)[1]) <= viewport


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt-get install chromium)")
def test_regression_report_in_a_browser(regression_run, tmp_path: Path) -> None:
    dom = _chromium_dom(regression_run.dir / "report.html")
    _check_common(dom, regression_run)
    assert COMMON | {"predicted vs actual", "residuals"} <= _images(dom)
    assert "per-class" not in dom and "confusion matrix" not in _images(dom)
    metrics = re.search(r'<section id="metrics">(.*?)</section>', dom, re.S)[1]
    assert all(f"<th>{m}</th>" in metrics for m in ("rmse", "mae", "r2"))
    # the baseline row is the training mean's score on the test rows (scikit-learn's metrics)
    train = pd.read_csv(regression_run.dir.parent / "regression.csv")
    test = pd.read_csv(regression_run.dir.parent / "regression_test.csv")
    baseline = re.search(r"<td>baseline: mean of train targets \(test\)</td>(.*?)</tr>", metrics, re.S)[1]
    header = re.findall(r"<th>(\w+)</th>", metrics)
    values = dict(zip(header[1:], re.findall(r">([-0-9.,e]+)</td>", baseline)))
    # the training split's mean is close to, but not exactly, the test mean: R² just below 0
    assert -0.2 < float(values["r2"]) <= 0.0
    spread = np.sqrt(((test["y"] - train["y"].mean()) ** 2).mean())
    assert float(values["rmse"]) == pytest.approx(spread, rel=0.1)
