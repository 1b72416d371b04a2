"""Using a finished run: score it on labelled data, predict on new rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import artifacts
from .data.sources import load_source
from .errors import LayerwiseError
from .metrics import task_metrics


def _check_complete(run_dir: Path) -> None:
    state = artifacts.read_status(run_dir).get("state")
    if state not in (None, "complete"):
        raise LayerwiseError(f"{run_dir}: run is {state}, not complete; resume it or train again")


def load_predictor(run_dir: str | Path):
    from .predictor import load

    run_dir = Path(run_dir)
    _check_complete(run_dir)
    return load(run_dir)


def evaluate_run(run_dir: str | Path, source: str, drop_missing_target: bool = True) -> dict[str, Any]:
    run_dir = Path(run_dir)
    predictor = load_predictor(run_dir)
    targets = predictor.meta.get("targets") or None
    dataset = load_source(source, targets, drop_missing_target=drop_missing_target,
                          readings=predictor.preprocessor.readings)
    X, y, split = dataset.X, dataset.y, "all rows"
    if dataset.X_test is not None:
        X, y, split = dataset.X_test, dataset.y_test, "test part"
    if y is None:
        raise LayerwiseError(f"{source}: has no targets to evaluate against")
    truth, unseen = predictor.encoder.encode_scored(y, where=f"{source} target")
    if predictor.task == "regression":  # score against the values as given, not their float32 copy
        truth = np.asarray(y, dtype=np.float64).reshape(truth.shape)
    if unseen:
        _warn_unseen(source, truth, len(predictor.encoder.classes), unseen)
    outputs = predictor.outputs(X, where=source)
    classes = predictor.encoder.classes + unseen if predictor.encoder.classes else None
    result = {"data": source, "split": split, "task": predictor.task, "classes": classes,
              "metrics": task_metrics(predictor.task, truth, outputs, len(classes) if classes else None)}
    try:
        artifacts.write_json(run_dir / artifacts.EVAL, result)
    except OSError as exc:
        raise LayerwiseError(f"{run_dir / artifacts.EVAL}: cannot write the results ({exc.strerror})") from None
    return result


def _warn_unseen(source: str, truth: np.ndarray, known: int, unseen: list) -> None:
    """Rows whose label training never saw are scored as wrong predictions: say how many."""
    from .errors import warn

    rows = int((np.asarray(truth) >= known).sum())
    shown = ", ".join(repr(label) for label in unseen[:5]) + (f" and {len(unseen) - 5} more" if len(unseen) > 5 else "")
    warn(f"{source}: {rows} row(s) have a label training never saw ({shown}); they count as wrong predictions "
         "and have a row and column of their own in the confusion matrix")


def predict_frame(run_dir: str | Path, source: str):
    """Predictions for every row of `source` as a DataFrame (labels + probabilities, or values)."""
    predictor = load_predictor(run_dir)
    dataset = load_source(source, predictor.meta.get("targets") or None, need_target=False,
                          readings=predictor.preprocessor.readings)
    return prediction_table(predictor, dataset.X, where=source)


def prediction_table(predictor, X, where: str):
    """Predictions, led by the run's ID column (data.id_column) when the rows carry it."""
    import pandas as pd

    return pd.DataFrame(prediction_columns(predictor, X, where))


def prediction_columns(predictor, X, where: str) -> dict[str, np.ndarray]:
    """The prediction table's columns, in order: [ID], prediction (labels or values) and, for
    classification, one probability per class."""
    outputs = predictor.outputs(X, where=where)
    ids = {}
    if predictor.id_column and hasattr(X, "columns") and predictor.id_column in X.columns:
        ids = {predictor.id_column: X[predictor.id_column].to_numpy()}
    if predictor.task == "regression":
        names = predictor.meta.get("targets") or ["target"]
        if outputs.shape[1] == 1:
            return {**ids, "prediction": outputs[:, 0]}
        return {**ids, **{f"prediction_{n}": outputs[:, j] for j, n in enumerate(names)}}
    from .head import labels, probabilities

    proba = probabilities(predictor.task, outputs)
    columns = {**ids, "prediction": labels(predictor.task, outputs, predictor.encoder)}
    for j, label in enumerate(predictor.encoder.classes):
        columns[f"proba_{label}"] = proba[:, j]
    return columns


def predict_values(run_dir: str | Path, text: str) -> dict[str, Any]:
    """One row given as 'v1,v2,...' in the order of the model's raw input columns (CSV quoting
    for a value with a comma: '1,"$1,200",red'), each read as the column was in training. Dense
    networks are run in NumPy (`light_predict`): one row does not need torch's ~1 s import."""
    from .data.numeric_text import typed_row
    from .light_predict import load_light

    _check_complete(Path(run_dir))
    predictor = load_light(run_dir) or load_predictor(run_dir)
    columns = predictor.preprocessor.input_columns
    row = typed_row(text)
    if len(row) != len(columns):
        raise LayerwiseError(f"--values: expected {len(columns)} values"
                             f"{' (' + ', '.join(columns) + ')' if len(columns) <= 20 else ''}, got {len(row)}")
    if predictor.preprocessor.kind == "table":
        row = categories_as_typed(row, text, columns, predictor.preprocessor.state.get("categorical", []))
        X = np.asarray([row], dtype=object)  # the raw columns in order: no pandas for one row
    else:
        if any(isinstance(v, str) for v in row):
            raise LayerwiseError("--values: every value must be a number for this model")
        X = np.asarray([row], dtype=np.float64)
    return {k: _plain(v[0]) for k, v in prediction_columns(predictor, X, where="--values").items()}


def categories_as_typed(row: list, text: str, columns: list[str], categorical: list[dict]) -> list:
    """A category column's value as the user typed it: typed_row reads '3' as the number 3.0, which
    then met the column's categories as '3.0', never seen in training, where the CSV cell '3' of the
    same column is the category '3'."""
    import csv

    names = {column["name"] for column in categorical}
    if not names:
        return row
    cells = [cell.strip() for cell in next(csv.reader([text], skipinitialspace=True), [])]
    return [cells[j] if name in names and isinstance(value, float) else value
            for j, (name, value) in enumerate(zip(columns, row))]


def _plain(value):
    return value.item() if hasattr(value, "item") else value
