"""Tables of unusual shape through the CLI as a user runs it (`train --data t.csv --target y`,
then predict/evaluate), each a failure benchmarks/table_shapes.py found: the fix checked against
a reference (the same table without the oddity, scikit-learn, exit codes and messages).
Small tables and few epochs: a few seconds each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers import assert_user_error, run_cli

FAST = ["--epochs", "3", "--threads", "1", "--quiet"]


def signal_table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "colour": rng.choice(["red", "blue"], rows),
                         "y": np.where(X[:, 0] + X[:, 1] > 0, "up", "down")})


def train(tmp_path: Path, frame: pd.DataFrame, name: str, *extra: str):
    frame.to_csv(tmp_path / f"{name}.csv", index=False)
    return run_cli(["train", "--data", f"{name}.csv", "--target", "y", "--out", name, *FAST, *extra], tmp_path)


def predict(tmp_path: Path, run: str, frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame.to_csv(tmp_path / f"{name}.csv", index=False)
    result = run_cli(["predict", run, "--input", f"{name}.csv", "--output", f"{name}.out.csv"], tmp_path)
    assert result.code == 0, result.err
    return pd.read_csv(tmp_path / f"{name}.out.csv")


# ---- columns with no value at all ------------------------------------------------------------------

def test_columns_empty_in_every_row_are_left_out_with_a_warning(tmp_path: Path) -> None:
    # Before: "error: column 'notes' has no values in the training split", the whole table lost.
    plain = signal_table()
    gappy = plain.assign(notes=np.nan, unused_text=pd.Series([None] * len(plain), dtype=object))
    gappy = gappy[["a", "notes", "b", "colour", "unused_text", "y"]]
    result = train(tmp_path, gappy, "gappy")
    assert result.code == 0, result.err
    assert "gappy.csv: left out 2 column(s) that are empty in every row: 'notes', 'unused_text'" in result.err
    assert train(tmp_path, plain, "plain").code == 0
    # the same model as the table without them (same rows, seed and splits), whatever new rows bring
    rows = plain.drop(columns=["y"]).head(40)
    reference = predict(tmp_path, "plain", rows, "rows")
    for name, given in {"bare": rows, "with": rows.assign(notes=1.0, unused_text="x")}.items():
        got = predict(tmp_path, "gappy", given, name)
        pd.testing.assert_frame_equal(got, reference)


def test_a_table_whose_every_feature_is_empty_is_one_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [np.nan] * 20, "b": [np.nan] * 20, "y": [0, 1] * 10})
    result = train(tmp_path, frame, "empty")
    assert_user_error(result, "empty.csv", "every feature column is empty")
    assert not (tmp_path / "empty").exists()


# ---- many classes ------------------------------------------------------------------------------------

def test_evaluate_with_many_classes_keeps_the_confusion_matrix_in_eval_json(tmp_path: Path) -> None:
    # Before: 30 classes printed 30 lines of 180 characters (1,000 classes: 6 MB on the terminal).
    import json

    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(0)
    labels = np.repeat([f"species {k:02d}" for k in range(30)], 12)
    centres = {label: rng.normal(size=4) * 3 for label in set(labels)}
    frame = pd.DataFrame(np.array([centres[label] for label in labels]) + rng.normal(size=(len(labels), 4)),
                         columns=list("abcd")).assign(y=labels)
    assert train(tmp_path, frame, "many").code == 0
    result = run_cli(["evaluate", "many", "--data", "many.csv"], tmp_path)
    assert result.code == 0, result.err
    assert "confusion        30 x 30: in eval.json" in result.out
    assert max(map(len, result.out.splitlines())) < 120
    predicted = predict(tmp_path, "many", frame.drop(columns=["y"]), "rows")["prediction"]
    saved = json.loads((tmp_path / "many" / "eval.json").read_text())
    classes = sorted(set(labels))
    assert saved["metrics"]["confusion"] == confusion_matrix(labels, predicted, labels=classes).tolist()


def three_class_table(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    label = np.select([X[:, 0] > 0.4, X[:, 1] > 0], ["alpha", "beta"], "gamma")
    return pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=label)


def test_evaluate_counts_labels_training_never_saw_as_wrong_instead_of_refusing_the_file(tmp_path: Path) -> None:
    # A rare class whose rows all fell outside the training rows: before, evaluate refused the
    # whole file ("row 3 has label 'delta', which training never saw"); now those rows are errors,
    # scored as scikit-learn scores them.
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    assert train(tmp_path, three_class_table(), "three").code == 0
    test = three_class_table(60, seed=1)
    test.loc[[2, 7, 11], "y"] = ["delta", "delta", "epsilon"]
    test.to_csv(tmp_path / "test.csv", index=False)
    result = run_cli(["evaluate", "three", "--data", "test.csv"], tmp_path)
    assert result.code == 0, result.err
    assert "test.csv: 3 row(s) have a label training never saw ('delta', 'epsilon')" in result.err
    import json

    saved = json.loads((tmp_path / "three" / "eval.json").read_text())
    labels = ["alpha", "beta", "gamma", "delta", "epsilon"]
    assert saved["classes"] == labels
    predicted = predict(tmp_path, "three", test.drop(columns=["y"]), "rows")["prediction"]
    metrics = saved["metrics"]
    assert metrics["accuracy"] == accuracy_score(test["y"], predicted)
    assert metrics["confusion"] == confusion_matrix(test["y"], predicted, labels=labels).tolist()
    assert np.isclose(metrics["f1_macro"], f1_score(test["y"], predicted, labels=labels, average="macro", zero_division=0))
    # every label unseen: the wrong file or column, still refused in one line
    test.assign(y="omega").to_csv(tmp_path / "other.csv", index=False)
    assert_user_error(run_cli(["evaluate", "three", "--data", "other.csv"], tmp_path),
                      "other.csv target: row 1 has label 'omega', which training never saw (known: alpha, beta, gamma)")


def test_an_unseen_label_error_names_twenty_of_a_thousand_classes() -> None:
    from layerwise.data.targets import TargetEncoder
    from layerwise.errors import LayerwiseError

    encoder = TargetEncoder.fit(np.array([f"c{k:04d}" for k in range(1000)]), "multiclass")
    try:
        encoder.encode(np.array(["c0001", "nope"]), where="t.csv target")
    except LayerwiseError as exc:
        message = str(exc)
    assert message == ("t.csv target: row 2 has label 'nope', which training never saw (known: "
                       + ", ".join(f"c{k:04d}" for k in range(20)) + " and 980 more)")
