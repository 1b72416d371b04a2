"""The model-quality benchmark's tables (benchmarks/quality.py, quality_ablation.py) compute what
they say from their rows: means over seeds, a re-measured cell counted once, ablation changes as
the mean over the (table, seed) pairs both recipes ran. Reference: the numbers worked by hand."""

from __future__ import annotations

import pytest

pytest.importorskip("pandas")

from benchmarks.quality import report  # noqa: E402
from benchmarks.quality_ablation import table  # noqa: E402


def _row(model, table_name, seed, score, task="classification", recipe=None):
    row = {"model": model, "table": table_name, "seed": seed, "task": task, "rows": 100, "score": score, "seconds": 1.0}
    return {**row, "recipe": recipe} if recipe else row


def test_report_means_over_seeds_and_compares_on_common_tables() -> None:
    rows = [_row("layerwise", "a", 0, 0.8), _row("layerwise", "a", 1, 0.9), _row("hgb", "a", 0, 0.7),
            _row("layerwise", "b", 0, 0.5, "regression"), _row("hgb", "b", 0, 0.6, "regression")]
    text = report(rows)
    assert "| a | 100 | accuracy | 0.8500 (1.0s) | 0.7000 (1.0s) |" in text
    assert "**0.6500** vs 0.6750 (2 tables)" in text  # hgb (0.7 + 0.6) / 2 against layerwise (0.85 + 0.5) / 2


def test_ablation_change_is_the_mean_over_common_pairs() -> None:
    rows = [_row("layerwise", "a", 0, 0.80, recipe="recipe@session-start"),
            _row("layerwise", "a", 1, 0.70, recipe="recipe@session-start"),
            _row("layerwise", "b", 0, 0.50, recipe="recipe@session-start"),
            _row("layerwise", "a", 0, 0.84, recipe="+embedding(numeric,lr_scale .1),2k steps"),
            _row("layerwise", "a", 1, 0.72, recipe="+embedding(numeric,lr_scale .1),2k steps")]
    lines = [line for line in table(rows).splitlines() if "periodic embeddings" in line]
    assert lines == ["| + periodic embeddings of the numeric columns | 2 | +0.0300 | a +0.030 |"]  # b: one side only
