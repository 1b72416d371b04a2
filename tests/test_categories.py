"""Rare and unseen categories (data/categories.py): the encoding is scikit-learn's
OneHotEncoder(min_frequency, max_categories, handle_unknown="infrequent_if_exist"); `preset: plain`
keeps one column per category; every reader of the run directory (predict, `predict --values`,
ONNX, old model.json files) agrees with the predictor on rows with rare, unseen and missing values."""

import warnings

import numpy as np
import pandas as pd
import pytest

import layerwise
from layerwise.data.preprocess import Preprocessor


def _text_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A near-unique 'name' (one per row), a 'city' with 3 common and 200 rare values, a number;
    the label depends on the number and the common cities only."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["north", "south", "east"], size=n).astype(object)
    rare = rng.random(n) < 0.15
    city[rare] = [f"village{k}" for k in rng.integers(0, 200, size=rare.sum())]
    x = rng.normal(size=n)
    score = x + np.where(city == "north", 1.0, np.where(city == "south", -1.0, 0.0))
    return pd.DataFrame({"name": [f"customer {k}" for k in range(n)], "city": city, "x": x,
                         "label": np.where(score > 0, "yes", "no")})


def test_encoding_is_sklearns_infrequent_one_hot():
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(1)
    counts = {"a": 40, "b": 25, "c": 12, "d": 9, "e": 3, "f": 1, "g": 30, "h": 11}  # no ties: ranks are unique
    train = pd.DataFrame({"t": rng.permutation([k for k, c in counts.items() for _ in range(c)]).astype(object)})
    test = pd.DataFrame({"t": ["a", "d", "f", "h", "zzz", "c", "e", "b", "g"]})
    for min_count, max_categories in ((10, None), (1, 4), (10, 3), (0, 6)):
        ours = Preprocessor.fit(train, "table", min_category_count=min_count, max_categories=max_categories)
        theirs = OneHotEncoder(min_frequency=min_count or None, max_categories=max_categories,
                               handle_unknown="infrequent_if_exist", sparse_output=False).fit(train)
        np.testing.assert_array_equal(ours.transform(test), theirs.transform(test))
        assert ours.n_features == len(theirs.get_feature_names_out())


def test_plain_keeps_a_column_per_category_and_warns_about_unseen_ones():
    train = _text_table(200)
    preprocessor = Preprocessor.fit(train.drop(columns="label"), "table")  # the defaults: plain's encoding
    assert preprocessor.n_features == 1 + 200 + train["city"].nunique()
    with pytest.warns(UserWarning, match="column 'name': 1 row.*never seen"):
        block = preprocessor.transform(pd.DataFrame({"name": ["someone new"], "city": ["north"], "x": [0.0]}))
    assert block[0, 1:201].sum() == 0  # the unseen name: an all-zero block, as before


def test_auto_groups_rare_categories_and_unseen_ones_predict_like_them(tmp_path):
    table = _text_table()
    config = {"preset": "auto", "training": {"epochs": 4, "seed": 0}, "network": {"hidden": [16], "embedding": "none"}}
    run = layerwise.train(config, data=(table.drop(columns="label"), table["label"].to_numpy()),
                          out=tmp_path / "run", quiet=True)
    predictor = layerwise.load(run.dir)
    names = predictor.preprocessor.feature_names
    assert "name=<other>" in names and "city=<other>" in names and len(names) <= 10, names
    assert "city=north" in names and not any(n.startswith("city=village") for n in names)
    rows = pd.DataFrame({"name": ["customer 3", "never seen", None], "city": ["village7", "atlantis", None],
                         "x": [0.3, 0.3, 0.3]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unseen value goes to <other>: nothing to warn about
        probabilities = predictor.predict_proba(rows)
    np.testing.assert_array_equal(probabilities[0], probabilities[1])  # rare in training == unseen
    assert not np.array_equal(probabilities[1], probabilities[2])  # missing is not <other>
    import yaml

    data = yaml.safe_load((run.dir / "config.yaml").read_text())["data"]
    assert data["min_category_count"] >= 1 and data["max_categories"] >= 2  # the recipe's choice, recorded
    plain = layerwise.train({**config, "preset": "plain"}, data=(table.drop(columns="label"), table["label"].to_numpy()),
                            out=tmp_path / "plain", quiet=True)
    assert len(layerwise.load(plain.dir).preprocessor.feature_names) > 250  # a column per training name


def test_every_reader_agrees_on_rare_unseen_and_missing_values(tmp_path):
    pytest.importorskip("onnxruntime")
    from layerwise.evaluate import predict_values
    from layerwise.export import export, run_onnx

    table = _text_table()
    run = layerwise.train({"training": {"epochs": 5, "seed": 0}, "network": {"hidden": [16]},
                           "data": {"min_category_count": 10}},
                          data=(table.drop(columns="label"), table["label"].to_numpy()), out=tmp_path / "run", quiet=True)
    predictor = layerwise.load(run.dir)
    rows = pd.DataFrame({"name": ["customer 3", "x", None, "y"], "city": ["village7", "atlantis", None, "north"],
                         "x": np.float32([0.3, -1.0, 0.5, 2.0])})
    want = predictor.predict_proba(rows)
    onnx_path = export(run.dir, tmp_path / "model.onnx")
    strings = rows[["name", "city"]].astype(object).where(rows[["name", "city"]].notna(), "").to_numpy(dtype=str)
    probabilities = run_onnx(onnx_path, [rows[["x"]].to_numpy(dtype=np.float32), strings])[0]
    assert np.abs(probabilities - want).max() <= 1e-5
    for k in range(len(rows)):  # predict --values: plain values, no pandas
        values = ",".join("" if v is None else str(v) for v in rows.iloc[k].tolist())
        assert predict_values(str(run.dir), values)["prediction"] == predictor.predict(rows.iloc[[k]])[0]


def test_state_without_other_reads_as_before():
    """model.json written before rare categories were grouped has no "other": unseen stays all-zero."""
    old = Preprocessor.from_dict({"kind": "table", "columns": ["c"], "numeric": [],
                                  "categorical": [{"name": "c", "categories": ["a", "b"]}]})
    with pytest.warns(UserWarning, match="never seen"):
        block = old.transform(pd.DataFrame({"c": ["b", "new", None]}))
    np.testing.assert_array_equal(block, [[0, 1], [0, 0], [0, 0]])
    assert old.feature_names == ["c=a", "c=b"]


def test_the_cli_prints_each_unseen_category_warning_once(tmp_path):
    """The test rows are transformed for the metrics, the diagnostics and permutation importance:
    one warning for them, not one per pass (it printed twice before)."""
    from helpers import run_cli

    table = _text_table(120)
    table.to_csv(tmp_path / "t.csv", index=False)
    result = run_cli(["train", "--data", tmp_path / "t.csv", "--target", "label", "--preset", "plain",
                      "--epochs", "1", "--out", tmp_path / "run"])
    lines = [line for line in result.err.splitlines() if line.startswith("warning:")]
    # training transforms every row once and warns then; the report's passes over the test rows stay quiet
    unseen = [line.split(": column ")[1].split("'")[1] for line in lines if "never seen in training" in line]
    assert result.code == 0 and unseen == ["name", "city"], lines
    assert not any("test rows" in line for line in lines), lines


def test_a_true_false_column_takes_true_and_false_as_text(tmp_path):
    """A CSV's True/False column is numeric (1/0); `predict --values ...,False` said 'not a number'."""
    from layerwise.evaluate import predict_values

    rng = np.random.default_rng(0)
    flag = rng.random(80) < 0.5
    frame = pd.DataFrame({"x": rng.normal(size=80), "weekend": flag, "y": np.where(flag, 1.0, -1.0)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    run = layerwise.train({"data": {"source": str(tmp_path / "t.csv"), "target": "y"}, "training": {"epochs": 2}},
                          out=tmp_path / "run", quiet=True)
    predictor = layerwise.load(run.dir)
    for text, value in (("False", False), ("true", True)):
        want = predictor.predict(pd.DataFrame({"x": [0.5], "weekend": [value]}))[0]
        assert predict_values(str(run.dir), f"0.5,{text}")["prediction"] == pytest.approx(want, rel=1e-6)
    with pytest.raises(layerwise.LayerwiseError, match="'maybe' is not a number"):
        predict_values(str(run.dir), "0.5,maybe")


def test_a_number_like_category_in_a_float_column_is_that_category():
    """A predict file whose cells of a category column are all numbers with one gap is read as
    floats (3.0): that is the category '3' training saw, on both encoding paths (pandas, plain values)."""
    from layerwise.data.categories import codes_of_series, codes_of_values, fit_column

    column = fit_column("grade", pd.Series(["A", "B", "3", "3", "2.5"]))
    floats = pd.Series([3.0, np.nan, 2.5, 7.0])
    codes, present = codes_of_series(column, floats)
    assert [column["categories"][c] if c >= 0 else None for c in codes] == ["3", None, "2.5", None]
    assert present.tolist() == [True, False, True, True]  # 7.0: present, unseen
    plain, _ = codes_of_values(column, [3.0, None, 2.5, 7.0])
    assert plain.tolist() == codes.tolist()
