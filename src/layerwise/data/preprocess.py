"""Feature preprocessing, learned on the training split only and saved in model.json.

- numeric columns: missing values -> the training median (+ a 0/1 "<col>_missing" column when the
  training data had gaps there), then standardised with the training mean and std;
- text/categorical columns: one-hot over the training categories (data/categories.py); rare ones
  may share one "<other>" column (data.min_category_count, data.max_categories), where unseen ones
  go too; a missing value, or an unseen one in a column without "<other>", is an all-zero block;
- images: pixels divided by their full-scale value (255 for IDX bytes), so they lie in [0, 1].

`transform` returns float32 rows of shape (n, n_features): rows travel flat through batching,
serving and export. `sample_shape` keeps the shape of one sample ((H, W) or (C, H, W) for images),
from which the network decides what its first layer reads: dense networks read the flat row, a
conv/pool network restores the shape as its first step (model.first_layer_shape).
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np

from ..errors import LayerwiseError
from . import categories as onehot
from .row_access import FrameRows, numeric_rows, release_pages

CHUNK_ROWS = 16_384  # rows per chunk when scanning big arrays: bounds temporary memory (~13 MB at 100 columns)


class Preprocessor:
    def __init__(self, state: dict[str, Any]):
        self.state = state

    # ---- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(cls, X, kind: str, pixel_scale: float = 1.0, rows=None, standardize: bool = True,
            scaling: str = "standard", smooth_clip: bool = False, min_category_count: int = 0,
            max_categories: Optional[int] = None, readings: Optional[dict[str, str]] = None) -> "Preprocessor":
        """Learn from the rows `rows` of X (all rows when None); X itself is never copied.
        readings: {column: reading} of table columns that were read from text (Dataset.readings)."""
        if kind == "image":
            return cls({"kind": "image", "shape": list(X.shape[1:]), "scale": float(pixel_scale)})
        if kind == "array":
            matrix = X.reshape(len(X), -1)
            names = [f"x{j}" for j in range(matrix.shape[1])]
            state = {"kind": "array", "numeric": _numeric_stats(matrix, names, rows), "categorical": []}
        else:
            state = _fit_table(X, rows, min_category_count, max_categories, readings)
        if standardize and scaling == "robust":
            _robust_scales(X if kind == "array" else numeric_rows(X, [c["name"] for c in state["numeric"]]),
                           state["numeric"], rows, kind == "array")
        if standardize and smooth_clip:
            state["smooth_clip"] = SMOOTH_CLIP
        if not standardize:  # keep the imputation, drop the scaling
            for column in state["numeric"]:
                column["mean"], column["std"] = 0.0, 1.0
        return cls(state)

    # ---- applying ------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.state["kind"]

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def numeric_features(self) -> int:
        """How many of the leading features are numeric values (the rest: missing-value indicators
        and one-hot blocks, all 0/1); every feature of an array, every pixel of an image."""
        if self.kind == "table":
            return len(self.state["numeric"])
        return self.n_features

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """One sample's shape before flattening: (H, W) or (C, H, W) for images, else (n_features,)."""
        if self.kind == "image":
            return tuple(int(n) for n in self.state["shape"])
        return (self.n_features,)

    @property
    def feature_names(self) -> list[str]:
        if self.kind == "image":
            return [f"pixel{j}" for j in range(int(np.prod(self.state["shape"])))]
        numeric = self.state["numeric"]
        names = [c["name"] for c in numeric]
        names += [c["name"] + "_missing" for c in numeric if c["indicator"]]
        for column in self.state["categorical"]:
            names += onehot.feature_names(column)
        return names

    @property
    def readings(self) -> dict[str, Optional[str]]:
        """How each raw column of a table is read from text (data/numeric_text.py): numeric
        columns by their training reading, categories (None) as text; {} for arrays and images."""
        if self.kind != "table":
            return {}
        readings: dict[str, Optional[str]] = {c["name"]: c.get("reading", "number") for c in self.state["numeric"]}
        return {**readings, **{c["name"]: None for c in self.state["categorical"]}}

    @property
    def read_from_text(self) -> dict[str, str]:
        """The numeric columns training read from text, and how: new rows may bring them as text."""
        return {c["name"]: c["reading"] for c in self.state.get("numeric", []) if "reading" in c}

    @property
    def input_columns(self) -> list[str]:
        """The raw columns a user supplies (before one-hot and indicators)."""
        if self.kind == "table":
            return self.state["columns"]
        return self.feature_names

    def transform(self, X, where: str = "input") -> np.ndarray:
        if self.kind == "image":
            return self._transform_image(X, where)
        if self.kind == "array":
            matrix = _as_matrix(X, len(self.state["numeric"]), where)
            return _finite(_apply_numeric(matrix, self.state["numeric"], self.state.get("smooth_clip")),
                           where, self.feature_names)
        return _transform_table(self.state, X, where)

    def _transform_image(self, X, where: str) -> np.ndarray:
        X = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X)
        width = int(np.prod(self.state["shape"]))
        flat = X.reshape(len(X), -1) if X.ndim > 1 else X.reshape(1, -1)
        if flat.shape[1] != width:
            raise LayerwiseError(f"{where}: expected images of shape {tuple(self.state['shape'])} "
                                 f"({width} values per row), got {flat.shape[1]} values per row")
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, which _finite reports
            scaled = flat.astype(np.float32) / np.float32(self.state["scale"])
        return _finite(scaled, where)

    def to_dict(self) -> dict[str, Any]:
        return self.state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> "Preprocessor":
        return cls(state)


def _numeric_stats(matrix: np.ndarray, names: list[str], rows=None) -> list[dict]:
    """Per-column median (where gaps exist), mean and std, in float64, scanned in chunks.

    The sums are of (x - centre) / half_range, values in [-1, 1], so a column near 1e308 cannot
    overflow and one like timestamps (huge values, small spread) loses no digits to cancellation.
    """
    rows = np.arange(len(matrix)) if rows is None else np.asarray(rows)
    n, d = len(rows), matrix.shape[1]
    low, high, count = np.full(d, np.inf), np.full(d, -np.inf), np.zeros(d)
    for start, chunk in _row_chunks(matrix, rows):
        infinite = np.isinf(chunk)
        if infinite.any():
            r, c = np.argwhere(infinite)[0]
            raise LayerwiseError(f"column '{names[c]}' row {int(rows[start + r]) + 1} is {chunk[r, c]}; "
                                 "features must be finite (leave the cell empty for a missing value)")
        count += (~np.isnan(chunk)).sum(axis=0)
        low, high = np.fmin(low, np.fmin.reduce(chunk, axis=0)), np.fmax(high, np.fmax.reduce(chunk, axis=0))
    for j, name in enumerate(names):
        if count[j] == 0:
            raise LayerwiseError(f"column '{name}' has no values in the training split")
    centre, half = low / 2 + high / 2, high / 2 - low / 2  # halves first: no overflow at +-1e308
    half[half == 0] = 1.0
    total, total_sq = np.zeros(d), np.zeros(d)
    for _, chunk in _row_chunks(matrix, rows):
        scaled = np.nan_to_num((chunk - centre) / half, nan=0.0)
        total += scaled.sum(axis=0)
        total_sq += (scaled * scaled).sum(axis=0)
    typical = _typical_medians(matrix, rows)
    stats = []
    for j, name in enumerate(names):
        has_gaps = count[j] < n
        # Columns with gaps get their exact training median (it is imputed during training); the
        # others keep one too, for gaps that first appear at predict time.
        median = float(np.nanmedian(np.asarray(matrix[rows, j], dtype=np.float64))) if has_gaps else float(typical[j])
        # Imputed medians join the mean/std, as the network will see them.
        filled, m = n - count[j], (median - centre[j]) / half[j]
        mean_s = (total[j] + filled * m) / n
        var_s = max((total_sq[j] + filled * m * m) / n - mean_s * mean_s, 0.0)
        std = float(half[j] * np.sqrt(var_s))
        stats.append({"name": name, "mean": float(centre[j] + half[j] * mean_s),
                      "std": std if std > 1e-12 else 1.0,  # a constant column stays centred, unscaled
                      "median": median, "indicator": bool(has_gaps)})
    return stats


MEDIAN_CELLS = 2_000_000  # cells read for the medians of gap-free columns (16 MB of float64)


def _typical_medians(matrix, rows: np.ndarray) -> np.ndarray:
    """Per-column medians over the training rows: exact when rows x columns <= MEDIAN_CELLS,
    else over evenly spaced rows (a 1M x 100 table reads 20k of its rows)."""
    width = max(matrix.shape[1], 1)
    step = max(1, -(-len(rows) * width // MEDIAN_CELLS))
    sample = np.asarray(matrix[rows[::step]], dtype=np.float64)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled by the caller
        return np.nanmedian(sample, axis=0) if len(sample) else np.zeros(matrix.shape[1])


def _row_chunks(matrix, rows: np.ndarray):
    """(offset, float64 chunk) over `rows` of `matrix`, CHUNK_ROWS at a time."""
    for start in range(0, len(rows), CHUNK_ROWS):
        block = rows[start:start + CHUNK_ROWS]
        yield start, np.asarray(matrix[block], dtype=np.float64)
        if len(block):
            release_pages(matrix, int(block.min()), int(block.max()) + 1)


# Smooth clipping after robust scaling, x / sqrt(1 + (x / 30)^2): near-linear to about +-10 IQRs, a
# few absurd values (sentinels, typos) held near +-30. RealMLP bounds at 3, which squashes the
# informative tails of skewed counts and money: on benchmarks/quality.py's fresh tables, without
# that squash college applications' R^2 went 0.88 -> 0.94 and doctor visits' 0.17 -> 0.21, while
# the 22 main tables moved +0.03 points (66 runs; benchmarks/QUALITY.md). Saved runs keep theirs.
SMOOTH_CLIP = 30.0


def _robust_scales(matrix, stats: list[dict], rows, flat: bool) -> None:
    """Centre at the median and scale by the interquartile range (half the range, then 1, when
    that is 0: binary and near-constant columns), as RealMLP does: a few huge values no longer
    squash the rest of a column towards 0. Quantiles over at most MEDIAN_CELLS sampled cells."""
    rows = np.arange(len(matrix)) if rows is None else np.asarray(rows)
    width = max(len(stats), 1)
    step = max(1, -(-len(rows) * width // MEDIAN_CELLS))
    sample = np.asarray(matrix[rows[::step]], dtype=np.float64).reshape(len(rows[::step]), -1) if flat \
        else np.asarray(matrix[rows[::step]], dtype=np.float64)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(sample, [0.25, 0.75], axis=0)
        spread_min, spread_max = np.nanmin(sample, axis=0), np.nanmax(sample, axis=0)
    for j, column in enumerate(stats):
        scale = high[j] - low[j]
        if not scale > 0:
            scale = (spread_max[j] - spread_min[j]) / 2
        column["mean"], column["std"] = column["median"], float(scale) if scale > 0 else 1.0


def _apply_numeric(matrix: np.ndarray, stats: list[dict], clip: Optional[float] = None) -> np.ndarray:
    n = len(matrix)
    indicators = [j for j, c in enumerate(stats) if c["indicator"]]
    out = np.empty((n, len(stats) + len(indicators)), dtype=np.float32)
    mean = np.array([c["mean"] for c in stats])
    std = np.array([c["std"] for c in stats])
    median = np.array([c["median"] for c in stats])
    for start in range(0, n, CHUNK_ROWS):
        chunk = np.asarray(matrix[start:start + CHUNK_ROWS], dtype=np.float64)
        release_pages(matrix, start, start + len(chunk))
        missing = np.isnan(chunk)
        chunk = np.where(missing, median, chunk)
        stop = start + len(chunk)
        with np.errstate(over="ignore"):  # beyond float32's range becomes inf, which _finite reports
            scaled = (chunk - mean) / std
            if clip:  # smooth: x / sqrt(1 + (x/c)^2) is ~x near 0 and tends to +-c
                scaled = scaled / np.sqrt(1.0 + (scaled / clip) ** 2)
            out[start:stop, :len(stats)] = scaled
        out[start:stop, len(stats):] = missing[:, indicators]
    return out


def _finite(matrix: np.ndarray, where: str, names: Optional[list[str]] = None) -> np.ndarray:
    for start in range(0, len(matrix), CHUNK_ROWS):  # in chunks: no (n, d) boolean temporary
        chunk = matrix[start:start + CHUNK_ROWS]
        if np.isfinite(chunk).all():
            continue
        row, column = np.argwhere(~np.isfinite(chunk))[0]
        row += start
        what = f"feature '{names[column]}'" if names else f"feature {column + 1}"
        raise LayerwiseError(f"{where}: row {row + 1}, {what} is infinite or beyond float32's range "
                             f"(about 3.4e38 after scaling); features must be finite")
    return matrix


def _as_matrix(X, width: int, where: str) -> np.ndarray:
    if hasattr(X, "to_numpy"):
        X = X.apply(_to_numeric_column(where)).to_numpy(dtype=np.float64)
    X = np.asarray(X)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    X = X.reshape(len(X), -1)
    if X.shape[1] != width:
        raise LayerwiseError(f"{where}: expected {width} features per row, got {X.shape[1]}")
    if X.dtype.kind not in "biuf":
        raise LayerwiseError(f"{where}: features must be numeric, got {X.dtype}")
    return X


def _to_numeric_column(where: str, readings: Optional[dict[str, str]] = None):
    """A converter of a numeric column's raw values (text from `predict --values`, JSON, a CSV, a
    DataFrame) to float64, each column by the reading it was trained with (data/numeric_text.py:
    currency, thousands, percent, missing markers, true/false, decimal comma, dates)."""
    from .numeric_text import check_unreadable, parse

    def convert(column):
        reading = (readings or {}).get(column.name, "number")
        converted, bad = parse(column, reading)
        check_unreadable(column, bad, reading, where, column.name)
        return converted

    return convert


def _fit_table(frame, rows=None, min_category_count: int = 0, max_categories: Optional[int] = None,
               readings: Optional[dict[str, str]] = None) -> dict[str, Any]:
    import pandas as pd

    numeric, categorical = [], []
    readings = readings or {}
    dtypes = frame.dtypes  # by dtype alone: a Parquet table read per row group (DDP) is not read here
    for name in frame.columns:
        dtype = dtypes[name]
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            numeric.append(name)
        else:
            categorical.append(name)
    categories = [onehot.fit_column(name, frame[name] if rows is None else frame[name].iloc[rows],
                                    min_category_count, max_categories) for name in categorical]
    stats = _numeric_stats(numeric_rows(frame, numeric), numeric, rows)
    for column in stats:  # a column read from text: how new rows' text is read (serve takes text for it)
        if column["name"] in readings:
            column["reading"] = readings[column["name"]]
    return {"kind": "table", "columns": [str(c) for c in frame.columns], "numeric": stats, "categorical": categories}


def _transform_table(state: dict, frame, where: str) -> np.ndarray:
    if not hasattr(frame, "columns"):  # a plain array: values in the order of the raw columns
        values = np.asarray(frame, dtype=object)
        values = values.reshape(1, -1) if values.ndim == 1 else values.reshape(len(values), -1)
        if values.shape[1] != len(state["columns"]):
            raise LayerwiseError(f"{where}: expected {len(state['columns'])} values per row "
                                 f"({', '.join(state['columns'])}), got {values.shape[1]}")
        plain = _plain_table(state, values, where)
        if plain is not None:
            return plain
        import pandas as pd

        frame = pd.DataFrame(values, columns=state["columns"])
    import pandas as pd

    missing = [c for c in state["columns"] if c not in frame.columns]
    if missing:
        raise LayerwiseError(f"{where}: missing column '{missing[0]}' (the model needs {', '.join(state['columns'])})")
    numeric_names = [c["name"] for c in state["numeric"]]
    numeric = frame[numeric_names]
    convert = _to_numeric_column(where, {c["name"]: c.get("reading", "number") for c in state["numeric"]})
    text = [c for c in numeric_names if not pd.api.types.is_numeric_dtype(numeric[c])
            and not pd.api.types.is_bool_dtype(numeric[c])]
    if text:  # numbers that arrived as text (e.g. CSV cells with quotes): convert those columns only
        numeric = numeric.assign(**{c: convert(numeric[c]) for c in text})
    parts = [_finite(_apply_numeric(FrameRows(numeric), state["numeric"], state.get("smooth_clip")),
                     where, numeric_names)]
    for column in state["categorical"]:
        values = frame[column["name"]]
        parts.append(onehot.one_hot(column, *onehot.codes_of_series(column, values), values, where))
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


PLAIN_TYPES = (bool, int, float, str, np.bool_, np.integer, np.floating, np.str_)


def _plain_table(state: dict, values: np.ndarray, where: str) -> Optional[np.ndarray]:
    """The table transform of plain Python values (`predict --values`, JSON rows) without pandas,
    whose import costs more than one row's prediction; the same numbers and warnings as the
    DataFrame path (tests/test_light_predict.py). None, for that path to decide, when a numeric
    column holds text (a number written as text, or an error) or a value is of another type."""
    if not all(v is None or isinstance(v, PLAIN_TYPES) for v in values.flat):
        return None
    position = {name: j for j, name in enumerate(state["columns"])}
    numeric = values[:, [position[c["name"]] for c in state["numeric"]]]
    if any(isinstance(v, (str, np.str_)) for v in numeric.flat):
        return None
    matrix = np.array([[np.nan if v is None else float(v) for v in row] for row in numeric],
                      dtype=np.float64).reshape(len(values), -1)
    parts = [_finite(_apply_numeric(matrix, state["numeric"], state.get("smooth_clip")), where,
                     [c["name"] for c in state["numeric"]])]
    for column in state["categorical"]:
        raw = values[:, position[column["name"]]]
        parts.append(onehot.one_hot(column, *onehot.codes_of_values(column, raw), raw, where))
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
