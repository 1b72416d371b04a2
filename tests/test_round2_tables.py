"""Rehearsal round 2 (benchmarks/quality_round2.py): what real tables brought that layerwise
misread, reproduced on small synthetic frames (never the tables themselves)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.multiclass import type_of_target

import layerwise
from layerwise.data.targets import infer_task

TINY = {"network": {"hidden": [4]}, "training": {"epochs": 2, "lr": 0.01, "seed": 0, "batch_size": 16}}


@pytest.mark.parametrize(("y", "task"), [
    (np.array([0.0, 1.0, 1.0, 0.0, 1.0]), "binary"),  # a 0/1 label that pandas read as float (a gap upstream)
    (np.array([1.0, 2.0, 3.0, 4.0] * 5), "multiclass"),  # quartiles 1..4 stored as float
    (np.array([3.0, 7.0, 9.0, 3.0, 7.0, 9.0]), "multiclass"),
    (np.array([0.0, 1.0, 0.5, 1.0]), "regression"),  # not all whole numbers
    (np.arange(100, dtype=float) * 1000.0, "regression"),  # whole-dollar prices: all distinct
    (np.array([0.0, 1.0, np.nan, 1.0]), "regression"),  # a gap: not read as labels (unchanged)
])
def test_whole_number_floats_follow_the_integer_rules(y, task) -> None:
    """Same answer as for the integer copy, and as scikit-learn's type_of_target where it has one."""
    assert infer_task(y) == task
    if np.isfinite(y).all() and (y == np.round(y)).all():
        assert infer_task(y.astype(np.int64)) == task
    if task != "regression":
        assert type_of_target(y) == task


def test_a_float_zero_one_target_in_a_csv_trains_a_classifier(tmp_path) -> None:
    """TV16's votetrump: 1.0/0.0 in the CSV (the source had gaps) was trained as a regression,
    whose predictions are numbers between the labels, not labels."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=80)
    frame = pd.DataFrame({"x": x, "voted": (x > 0).astype(float)})
    frame.to_csv(tmp_path / "votes.csv", index=False)
    assert "1.0" in (tmp_path / "votes.csv").read_text()
    run = layerwise.train({"data": {"source": str(tmp_path / "votes.csv"), "target": "voted"}, **TINY},
                          out=tmp_path / "run", quiet=True)
    predicted = np.asarray(layerwise.load(run.dir).predict(frame[["x"]]))
    assert layerwise.load(run.dir).task == "binary"
    assert set(np.unique(predicted).tolist()) <= {0.0, 1.0}


def _padded_frame(rows: int = 60) -> pd.DataFrame:
    """A fixed-width export: the same codes with and without trailing spaces, blanks for gaps
    (mn_force's primary_offense "AOA" / "AOA     ", opt's "No " / "No" / "   ")."""
    rng = np.random.default_rng(1)
    offense = rng.choice(["AOA", "AOA     ", "DISCON", "DISCON  ", "   "], rows)
    return pd.DataFrame({"offense": offense, "x": rng.normal(size=rows),
                         "y": np.where(np.char.strip(offense.astype(str)) == "AOA", "a", "b")})


def test_padded_text_values_are_one_category_and_blanks_are_missing(tmp_path) -> None:
    frame = _padded_frame()
    frame.to_csv(tmp_path / "padded.csv", index=False)
    run = layerwise.train({"data": {"source": str(tmp_path / "padded.csv"), "target": "y"}, **TINY},
                          out=tmp_path / "run", quiet=True)
    model = layerwise.load(run.dir)
    [column] = model.preprocessor.state["categorical"]
    assert column["categories"] == ["AOA", "DISCON"] and column["trim"] is True
    X = pd.DataFrame({"offense": ["AOA", "AOA     ", "  AOA", "   ", None], "x": [0.5] * 5})
    encoded = model.preprocessor.transform(X)
    np.testing.assert_array_equal(encoded[0], encoded[1])
    np.testing.assert_array_equal(encoded[0], encoded[2])
    np.testing.assert_array_equal(encoded[3], encoded[4])  # a blank is a gap, like a missing value
    plain = model.preprocessor.transform(np.array(X.to_numpy().tolist(), dtype=object))  # predict --values / JSON path
    np.testing.assert_array_equal(plain, encoded)


def test_clean_text_keeps_exact_matching() -> None:
    """Columns whose training text has no padding are stored and matched as before (no "trim")."""
    from layerwise.data.categories import codes_of_series, codes_of_values, fit_column

    column = fit_column("c", pd.Series(["a", "b", "", "a"]))
    assert column == {"name": "c", "categories": ["", "a", "b"]}
    values = ["a", "a ", ""]
    assert codes_of_series(column, pd.Series(values))[0].tolist() == [1, -1, 0]
    assert codes_of_values(column, values)[0].tolist() == [1, -1, 0]


@pytest.mark.parametrize(("name", "values", "warned"), [
    ("idNum", [f"17-{k:06d}" for k in range(40)], True),  # MplsStops: a case number as text, named idNum
    ("license_number", [f"S{k * 7919 % 100000:05d}" for k in range(40)], True),  # different in every row
    ("PID", list(range(100034, 100034 + 80, 2)), True),  # opt's patient ID: not a 1..n sequence
    ("caseId", list(range(500, 540)), True),
    ("date", [f"2017-01-{1 + k % 28:02d}T06:{k:02d}:42Z" for k in range(40)], False),  # a time stamp: read as a date
    ("animal_name", ["Rex", "Max", "Luna", "Bella"] * 10, False),  # repeats: a category
    ("PAID", [float(k) for k in range(40)], False),  # a quantity, not a sequence
    ("Valid", [k * k for k in range(40)], False),  # ends in "id", but not an ID spelling
])
def test_id_columns_the_names_alone_missed(name, values, warned) -> None:
    from layerwise.data.columns import id_like

    assert bool(id_like(pd.Series(values), name)) is warned


def test_a_text_case_number_is_warned_about_when_training(tmp_path) -> None:
    import warnings

    from layerwise.errors import LayerwiseWarning

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"case": [f"17-{k:06d}" for k in range(60)], "x": rng.normal(size=60),
                          "y": rng.choice(["a", "b"], 60)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layerwise.fit({**TINY, "data": {"test_split": 0.0}}, data=(frame[["case", "x"]], frame["y"].to_numpy()))
    said = [str(w.message) for w in caught if issubclass(w.category, LayerwiseWarning)]
    assert any("column 'case' looks like a row ID (60 different texts in 60 rows)" in s for s in said), said


@pytest.mark.parametrize(("y", "task"), [
    (np.array([0, 2, 4, 6, 8, 10] * 4), "regression"),  # Chem97's A-level points: a scale, not labels
    (np.array([10.0, 20.0, 30.0] * 4), "regression"),  # the same read as floats
    (np.array([1, 2, 3, 4, 5] * 4), "multiclass"),  # ratings 1..5 stay classes
    (np.array([3, 7, 9] * 4), "multiclass"),  # irregular codes stay classes
    (np.array([0, 5] * 4), "binary"),  # two values are two classes whatever their spacing
])
def test_evenly_spaced_integers_are_a_scale(y, task) -> None:
    assert infer_task(y) == task


def test_a_numbered_table_cut_into_train_and_test_still_warns_about_its_id() -> None:
    """Chem97's student column 1..31,022: a train file of 80% of the rows, shuffled, is no longer
    1..n, and was not warned about."""
    from layerwise.data.columns import id_like

    rng = np.random.default_rng(3)
    kept = pd.Series(rng.permutation(np.arange(1, 501))[:400])
    assert id_like(kept, "student") == f"400 different integers within {kept.min()}..{kept.max()}"
    assert id_like(pd.Series(rng.permutation(np.arange(1, 501))), "student") == "the integers 1..500, each once"
    incomes = pd.Series(rng.choice(np.arange(20_000, 90_000), 400, replace=False))  # all different, widely spread
    assert id_like(incomes, "income") == ""
    assert id_like(pd.Series(rng.integers(1, 300, 400)), "visits") == ""  # repeats: a quantity
