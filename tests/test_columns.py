"""Columns by name: data.features / data.ignore / data.id_column, row-ID warnings, unseen
categories counted, 'did you mean' for columns and config keys, data.drop_missing_target."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import layerwise
from layerwise.errors import LayerwiseError, LayerwiseWarning

TINY = {"network": {"hidden": [4]}, "training": {"epochs": 2, "lr": 0.01, "seed": 0, "batch_size": 16}}


@pytest.fixture(scope="module")
def passengers(tmp_path_factory):
    """A titanic-like table as R writes it: a 'rownames' column, text, gaps, a 0/1 target."""
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame({"rownames": np.arange(1, n + 1), "age": rng.normal(30, 8, n).round(),
                          "sex": rng.choice(["female", "male"], n), "fare": rng.exponential(20, n),
                          "survived": rng.choice(["no", "yes"], n)})
    frame.loc[::9, "age"] = np.nan
    path = tmp_path_factory.mktemp("data") / "passengers.csv"
    frame.to_csv(path, index=False)
    return path


def _config(path, **data):
    return {"data": {"source": str(path), "target": "survived", **data}, **TINY}


def _train(config, out):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = layerwise.train(config, out=out, quiet=True)
    return run, [str(w.message) for w in caught if issubclass(w.category, LayerwiseWarning)]


def test_a_row_id_column_is_warned_about_and_can_be_ignored(passengers, tmp_path) -> None:
    run, said = _train(_config(passengers), tmp_path / "a")
    assert any("column 'rownames' looks like a row ID" in s and "--ignore rownames" in s for s in said), said
    assert "rownames" in layerwise.load(run.dir).preprocessor.input_columns  # a warning, not a silent drop
    run, said = _train(_config(passengers, ignore=["rownames"]), tmp_path / "b")
    assert not any("row ID" in s for s in said)
    assert layerwise.load(run.dir).preprocessor.input_columns == ["age", "sex", "fare"]


def test_an_unnamed_integer_sequence_is_also_warned_about(tmp_path) -> None:
    frame = pd.DataFrame({"PassengerNo": np.arange(100, 140), "x": np.linspace(0, 1, 40), "y": [0, 1] * 20})
    frame.to_csv(tmp_path / "d.csv", index=False)
    _, said = _train({"data": {"source": str(tmp_path / "d.csv"), "target": "y"}, **TINY}, tmp_path / "run")
    assert any("'PassengerNo' looks like a row ID (the integers 100..139, each once)" in s for s in said), said


def test_a_code_named_like_an_id_is_not_warned_about(tmp_path) -> None:
    """medicaldata's covid_testing has 'test_id' with two values (the assay): a category, not a row ID."""
    frame = pd.DataFrame({"test_id": ["covid", "xcvd1"] * 20, "subject_id": np.arange(40), "y": [0, 1] * 20})
    frame.to_csv(tmp_path / "d.csv", index=False)
    _, said = _train({"data": {"source": str(tmp_path / "d.csv"), "target": "y"}, **TINY}, tmp_path / "run")
    assert any("'subject_id' looks like a row ID" in s for s in said), said
    assert not any("'test_id'" in s for s in said), said


def test_features_picks_columns_by_name(passengers, tmp_path) -> None:
    run, said = _train(_config(passengers, features=["sex", "fare"]), tmp_path / "run")
    assert layerwise.load(run.dir).preprocessor.input_columns == ["sex", "fare"] and not said


def test_id_column_is_not_a_feature_and_leads_the_prediction_file(passengers, tmp_path) -> None:
    run, _ = _train(_config(passengers, id_column="rownames"), tmp_path / "run")
    assert layerwise.load(run.dir).preprocessor.input_columns == ["age", "sex", "fare"]
    shuffled = pd.read_csv(passengers).sample(frac=1.0, random_state=1)[["fare", "survived", "sex", "rownames", "age"]]
    shuffled.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "predictions.csv"
    done = subprocess.run([sys.executable, "-m", "layerwise", "predict", str(run.dir), "--input", str(tmp_path / "new.csv"),
                           "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr  # the target and the ID are known columns, not extras
    predictions = pd.read_csv(out)
    assert list(predictions.columns[:2]) == ["rownames", "prediction"]
    assert predictions["rownames"].tolist() == shuffled["rownames"].tolist()
    expected = layerwise.load(run.dir).predict(shuffled)
    assert predictions["prediction"].tolist() == list(expected)


def test_id_column_comes_back_from_the_api(passengers, tmp_path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from layerwise.serve import create_app

    run, _ = _train(_config(passengers, id_column="rownames"), tmp_path / "run")
    client = TestClient(create_app(run.dir))
    answer = client.post("/predict", json={"records": [{"rownames": 17, "age": 30, "sex": "male", "fare": 7.0},
                                                       {"rownames": 3, "age": None, "sex": "female", "fare": 70.0}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["ids"] == [17, 3] and "warnings" not in answer.json()


def test_unseen_categories_are_counted_at_predict_time(passengers, tmp_path) -> None:
    run, _ = _train(_config(passengers, ignore=["rownames"]), tmp_path / "run")
    new = pd.DataFrame({"age": [30.0, 40.0, 50.0], "sex": ["male", "unknown", "n/a"], "fare": [1.0, 2.0, 3.0]})
    with pytest.warns(LayerwiseWarning, match=r"column 'sex': 2 row\(s\) have a category never seen in training "
                                              r"\('unknown', 'n/a'\)"):
        layerwise.load(run.dir).predict(new)


@pytest.mark.parametrize(("change", "message"), [
    ({"target": "Survived"}, "target column 'Survived' not found (did you mean 'survived'?)"),
    ({"ignore": ["rowname"]}, "data.ignore column 'rowname' not found (did you mean 'rownames'?)"),
    ({"features": ["Sex"]}, "data.features column 'Sex' not found (did you mean 'sex'?)"),
    ({"ignore": ["survived"]}, "data.ignore names 'survived', the target column; it is never a feature"),
])
def test_column_names_suggest_the_closest(passengers, tmp_path, change, message) -> None:
    with pytest.raises(LayerwiseError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        layerwise.train({**_config(passengers), "data": {**_config(passengers)["data"], **change}},
                        out=tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()


def test_unknown_config_keys_list_the_valid_ones(passengers) -> None:
    with pytest.raises(LayerwiseError) as caught:
        layerwise.train({**_config(passengers), "data": {**_config(passengers)["data"], "drop": ["rownames"]}}, quiet=True)
    assert "unknown key 'data.drop'" in str(caught.value) and "valid keys here: source, target," in str(caught.value)
    assert "ignore" in str(caught.value)
    with pytest.raises(LayerwiseError, match=r"unknown key 'trainig' \(did you mean 'training'\?\)"):
        layerwise.train({"trainig": {}}, quiet=True)


def test_missing_targets_are_skipped_with_a_warning_or_an_error_when_asked(passengers, tmp_path) -> None:
    frame = pd.read_csv(passengers)
    frame.loc[[4, 10, 11], "survived"] = np.nan
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    with pytest.raises(LayerwiseError, match=r"target 'survived' is missing at row 5 \(3 rows in all\); "
                                             r"skip such rows by leaving out --no-drop-missing-target"):
        layerwise.train(_config(tmp_path / "gaps.csv", drop_missing_target=False), out=tmp_path / "no", quiet=True)
    run, said = _train(_config(tmp_path / "gaps.csv", ignore=["rownames"]), tmp_path / "yes")  # the default
    assert any("dropped 3 of 80 rows whose target is missing" in s for s in said), said
    summary = run.summary
    assert summary["train_rows"] + summary["val_rows"] + summary["test_rows"] == 77
    assert run.summary["task"] == "binary"
    # evaluate skips them too, and stops when told not to
    from helpers import assert_user_error, run_cli

    assert_user_error(run_cli(["evaluate", run.dir, "--data", tmp_path / "gaps.csv", "--no-drop-missing-target"]),
                      "--no-drop-missing-target")
    scored = run_cli(["evaluate", run.dir, "--data", tmp_path / "gaps.csv"])
    assert scored.code == 0 and "all rows, 77 rows" in scored.out, scored.err


def test_train_takes_a_dataframe_as_the_readme_says(passengers, tmp_path) -> None:
    frame = pd.read_csv(passengers)
    config = {"data": {"target": "survived", "ignore": ["rownames"]}, **TINY}
    run = layerwise.train(config, data=frame, out=tmp_path / "run", quiet=True)
    assert layerwise.load(run.dir).preprocessor.input_columns == ["age", "sex", "fare"]
    from_csv = layerwise.train({**config, "data": {**config["data"], "source": str(passengers)}},
                               out=tmp_path / "csv", quiet=True)
    pd.testing.assert_frame_equal(pd.read_csv(run.dir / "metrics.csv").drop(columns="epoch_seconds"),
                                  pd.read_csv(from_csv.dir / "metrics.csv").drop(columns="epoch_seconds"))
    assert set(run.predict(frame.drop(columns=["survived", "rownames"]))) <= {"no", "yes"}


def test_mistyped_choices_and_commands_get_a_suggestion() -> None:
    from layerwise.spec import RunConfig

    with pytest.raises(LayerwiseError, match=r"got 'adm' \(did you mean 'adam' or 'adamw'\?\)"):
        RunConfig.from_dict({"training": {"optimizer": "adm"}})
    done = subprocess.run([sys.executable, "-m", "layerwise", "trian"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Did you mean 'train'?" in done.stderr


def test_an_unseen_test_category_is_warned_about_once(passengers, tmp_path) -> None:
    """The report re-predicts the test rows that training already checked: no second warning."""
    frame = pd.read_csv(passengers)
    test = frame.head(10).copy()
    test.loc[0, "sex"] = "unknown"
    test.to_csv(tmp_path / "test.csv", index=False)
    _, caught = _train(_config(passengers, ignore=["rownames"], test=str(tmp_path / "test.csv")), tmp_path / "run")
    unseen = [said for said in caught if "never seen in training" in said]
    assert len(unseen) == 1 and unseen[0].startswith("test: column 'sex': 1 row(s)"), unseen


def _coded_table(rows=400, seed=0):
    """y depends on an integer school code by a random effect per school: no order to exploit."""
    rng = np.random.default_rng(seed)
    school = rng.integers(1, 21, rows)
    effect = rng.normal(size=21) * 2
    x = rng.normal(size=rows)
    return pd.DataFrame({"x": x, "school": school}), effect[school] + x + rng.normal(size=rows) * 0.3


def test_declared_categorical_codes_are_one_hot_and_met_as_trained(tmp_path):
    X, y = _coded_table()
    config = {"preset": "plain", "data": {"categorical": ["school"]}, "network": {"hidden": [16]},
              "training": {"epochs": 40, "lr": 0.01, "seed": 0}}
    run = layerwise.train(config, data=(X, y), out=tmp_path / "run", quiet=True)
    assert X["school"].dtype.kind == "i"  # the caller's frame is left as it was
    columns = {c["name"]: c for c in run.predictor.preprocessor.state["categorical"]}
    assert columns["school"]["categories"] == sorted(str(k) for k in range(1, 21))
    as_numbers = layerwise.train({**config, "data": {}}, data=(X, y), out=tmp_path / "numbers", quiet=True)
    assert run.summary["test"]["r2"] > as_numbers.summary["test"]["r2"] + 0.2  # codes, not quantities
    # new rows as a file would bring them: integers, or floats when the column has a gap
    loaded = layerwise.load(run.dir)
    ints = loaded.predict(pd.DataFrame({"x": [0.1, 0.2], "school": [7, 12]}))
    floats = loaded.predict(pd.DataFrame({"x": [0.1, 0.2, 0.3], "school": [7.0, 12.0, np.nan]}))
    np.testing.assert_allclose(floats[:2], ints, rtol=1e-6)


def test_categorical_names_an_existing_column(passengers, tmp_path):
    with pytest.raises(LayerwiseError, match=r"data.categorical column 'aeg' not found \(did you mean 'age'\?\)"):
        layerwise.train(_config(passengers, categorical=["aeg"]), out=tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()
