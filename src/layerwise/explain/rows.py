"""Inputs for a trained run: raw feature values or a data-source row -> the network's input.

A run directory's network sees preprocessed features (scaled, one-hot encoded), so raw values go
through the run's own preprocessing (`layerwise.load(run_dir).transform`), exactly as predict does.
"""

from __future__ import annotations

import numpy as np

from ..errors import LayerwiseError
from .network import DenseNet
from .numbers import num


def _raw_values(text) -> list:
    """'5.1,3.5,red' -> [5.1, 3.5, 'red']: numbers where they parse, text for categories and for
    numbers written as text, as `predict --values` reads a row (numeric_text.typed_row)."""
    if not isinstance(text, str):
        return list(np.asarray(text, dtype=object).reshape(-1))
    from ..data.numeric_text import typed_row

    return typed_row(text)


def preprocess(net: DenseNet, raw, where: str, text: str | None = None) -> tuple[np.ndarray, str]:
    """Raw row (values in column order, or a one-row DataFrame matched by column name, as predict
    does) -> (network input float64, a note saying what was done). `text`: the typed row `raw`
    was read from, whose category cells stay text ('3' is the category '3', as predict --values)."""
    from ..predictor import load

    predictor = load(net.run_dir)
    if text is not None and predictor.preprocessor.kind == "table":
        from ..evaluate import categories_as_typed

        raw = categories_as_typed(list(raw), text, predictor.preprocessor.input_columns,
                                  predictor.preprocessor.state.get("categorical", []))
    if hasattr(raw, "columns"):
        x = np.asarray(predictor.transform(raw, where), dtype=np.float64).reshape(-1)
        known = [c for c in predictor.preprocessor.input_columns if c in raw.columns]
        row = raw[known].to_numpy(dtype=object)
    else:
        row = np.asarray(raw, dtype=object).reshape(1, -1)
        x = np.asarray(predictor.transform(row, where), dtype=np.float64).reshape(-1)
    shown = ", ".join(num(v) if isinstance(v, (int, float)) else str(v) for v in row[0])
    return x, f"{where} ({shown}) went through the run's preprocessing to give the network input x"


def run_input(net: DenseNet, values) -> tuple[np.ndarray, str]:
    """--input for a run directory: raw feature values, preprocessed like predict does."""
    return preprocess(net, _raw_values(values), "input", values if isinstance(values, str) else None)


def source_row(net: DenseNet, source: str, row: int) -> tuple[np.ndarray, object, str]:
    """--input-row N --data SOURCE: (network input, the row's raw target or None, note)."""
    from ..data import load_source

    targets, readings = None, None
    if net.run_dir is not None:  # drop the run's target column(s), so they are not read as features
        from ..artifacts import read_model_card
        from ..data.preprocess import Preprocessor

        card = read_model_card(net.run_dir)
        targets = card.get("targets") or None
        if isinstance(card.get("preprocessing"), dict):  # text columns read as the run read them
            readings = Preprocessor.from_dict(card["preprocessing"]).readings
    data = load_source(source, targets, need_target=False, readings=readings)
    if not 0 <= row < len(data.X):
        raise LayerwiseError(f"--input-row {row} is outside {source}: it has rows 0…{len(data.X) - 1}")
    features = data.X.iloc[row].to_numpy(dtype=object) if hasattr(data.X, "iloc") else np.asarray(data.X[row])
    label = None if data.y is None else data.y[row]
    if net.run_dir is not None and hasattr(data.X, "iloc"):  # a table: columns matched by name
        x, note = preprocess(net, data.X.iloc[[row]], f"row {row} of {source}")
    elif net.run_dir is not None:
        x, note = preprocess(net, features.reshape(-1), f"row {row} of {source}")
    else:  # a weights file has no preprocessing: the row is the input as it is
        x, note = np.asarray(features, dtype=np.float64).reshape(-1), f"input is row {row} of {source}, unscaled"
    return x, label, note
