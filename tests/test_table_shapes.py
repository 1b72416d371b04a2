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
