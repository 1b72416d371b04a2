"""Reading tables (CSV/TSV/Parquet) and arrays (NPZ/NPY) into a `Dataset`, with checks that
name the file, column and row of every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import LayerwiseError
from .dataset import Dataset

READINGS = "layerwise.readings"  # frame.attrs key: {column: reading} of the columns read_table converted
CSV_SNIFF_BYTES = 65_536  # how much of a .csv/.txt the delimiter is judged from
ARRAY_NAMES = ("x", "y", "x_test", "y_test")  # the arrays of a .npz layerwise reads; others are ignored


def read_table(path: Path, max_bytes: Optional[int] = None, readings: Optional[dict] = None):
    """The table as a DataFrame, numbers and dates written as text converted (readings: a run's
    own {column: reading or None}, to read new rows as its training rows were read)."""
    import pandas as pd

    from .budget import check_table

    check_table(path, max_bytes)  # before pandas allocates
    suffix = path.suffix.lower()
    sep = None
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if suffix == ".tsv" else sniff_delimiter(path)
            frame = _read_csv(path, sep)
    except pd.errors.EmptyDataError:
        raise LayerwiseError(f"{path}: file is empty") from None
    except UnicodeDecodeError as exc:
        raise LayerwiseError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except (pd.errors.ParserError, ValueError, OSError, ImportError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerwiseError(f"{path}: cannot parse table ({first})") from None
    except Exception as exc:  # pyarrow raises its own error types for corrupt Parquet
        raise LayerwiseError(f"{path}: cannot read table ({type(exc).__name__})") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise LayerwiseError(f"{path}: no data rows")
    names = [str(c) for c in frame.columns]
    duplicates = sorted({n for n in names if names.count(n) > 1}
                        | {n.rpartition(".")[0] for n in names if _is_pandas_dup(n, names)})
    if duplicates:
        raise LayerwiseError(f"{path}: duplicate column name(s) {', '.join(duplicates)}")
    frame.columns = names
    decode_bytes_columns(frame, str(path))
    frame.attrs[READINGS] = check_numeric_columns(frame, str(path), sep, readings)
    return frame


def _read_csv(path: Path, sep: str):
    """UTF-8; failing that, Windows-1252 (what Excel saves as "CSV" on a Western Windows), with a
    warning, unless the bytes hold control characters no text table has (then UTF-8's error)."""
    import pandas as pd

    def read(encoding: str):
        return pd.read_csv(path, sep=sep, skipinitialspace=True, encoding=encoding, low_memory=False)

    try:
        return read("utf-8")
    except UnicodeDecodeError:
        with open(path, "rb") as handle:
            sample = handle.read(CSV_SNIFF_BYTES)
        if any(byte < 0x20 and byte not in b"\t\n\r" for byte in sample):
            raise
    from ..errors import warn

    warn(f"{path}: not UTF-8; read as Windows-1252 (Latin-1), as Excel writes CSV files. Save it as UTF-8 "
         "if its accents or symbols read wrong")
    try:
        return read("cp1252")
    except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined: Latin-1 reads every byte
        return read("latin-1")


def decode_bytes_columns(frame, where: str) -> None:
    """Parquet binary columns arrive as Python bytes: UTF-8 text becomes str, anything else is an error."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            continue
        is_bytes = values.map(lambda v: isinstance(v, (bytes, bytearray)))
        if not is_bytes.any():
            continue
        try:
            frame[column] = [v.decode("utf-8") if b else v for v, b in zip(values, is_bytes)]
        except UnicodeDecodeError:
            row = next(i for i, (v, b) in enumerate(zip(values, is_bytes), start=1)
                       if b and not _is_utf8(v))
            raise LayerwiseError(f"{where}: column '{column}' row {row} holds binary data, not UTF-8 text") from None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


DELIMITERS = (",", ";", "\t", "|", " ")  # in order of preference when several read the sample alike


def sniff_delimiter(path: Path) -> str:
    """The delimiter of a .csv/.txt: the one of , ; tab | space that splits the first 64 KiB
    (read with standard "double quotes") into the same number of fields on the most lines, at
    least two; ',' when none does. (csv.Sniffer read pandas' own output, a title column with
    quoted commas and apostrophes, as space-delimited with ' quotes; pandas' sep=None read the
    one-column file "x\n1\n2" as two columns split on 'x'.)"""
    import csv

    with open(path, "rb") as handle:
        sample = handle.read(CSV_SNIFF_BYTES)
    lines = sample.decode("utf-8", errors="replace").splitlines()
    if len(sample) == CSV_SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    best, best_share = ",", 0.0
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter, skipinitialspace=True) if row]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        share = sum(width == widths[0] for width in widths) / len(widths)
        if share > best_share:
            best, best_share = delimiter, share
    return best


def _is_pandas_dup(name: str, names: list[str]) -> bool:
    # pandas renames a repeated header "a" to "a.1"; report it as the duplicate it was.
    base, _, suffix = name.rpartition(".")
    return suffix.isdigit() and base in names


def check_numeric_columns(frame, where: str, sep: Optional[str] = None, known: Optional[dict] = None) -> dict[str, str]:
    """Convert, in place, the columns whose values are numbers or dates written as text (and
    datetime64 columns) to float64, by the rules of data/numeric_text.py; a few stray words in a
    column of numbers are read as missing, with a warning naming the first. Returns {column: reading} of the columns
    converted, for the preprocessing to read new rows the same way. `sep`: the CSV delimiter.
    known: {column: reading, or None for a category} decided already (a trained run's columns:
    a file of new rows, which alone might not settle a column's reading, is read as training was)."""
    import pandas as pd

    from . import numeric_text

    readings = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            frame[column], readings[column] = numeric_text.fractional_years(values), "date"
            continue
        if values.dtype != object and not pd.api.types.is_string_dtype(values) \
                or isinstance(values.dtype, pd.CategoricalDtype):  # declared categories stay categories
            continue
        reading = known[column] if known and column in known else numeric_text.detect(values, sep)
        if reading is None:
            continue
        numbers, bad = numeric_text.parse(values, reading)
        read = numbers.notna().sum()
        if bad.any() and read / (read + bad.sum()) < numeric_text.NUMERIC_SHARE:
            continue  # the sample looked numeric, the whole column is not: a category
        numeric_text.check_unreadable(values, bad, reading, where, column,
                                      f" (leave such cells empty or NA, or the column out: --ignore {column})")
        frame[column], readings[column] = numbers, reading
    return readings


def split_target(frame, path: Path, target: Optional[list[str]], need_target: bool,
                 drop_missing_target: bool = False) -> Dataset:
    from ..suggest import did_you_mean

    name = path.stem
    readings = frame.attrs.get(READINGS)  # None: a DataFrame given in memory, judged in training.prepare
    if not target:
        if need_target:
            raise LayerwiseError(f"{path}: say which column is the target with --target COLUMN")
        return Dataset(name=name, X=frame, y=None, kind="table", target_names=[], readings=readings)
    missing = [t for t in target if t not in frame.columns]
    if missing and need_target:
        columns = [str(c) for c in frame.columns]
        raise LayerwiseError(f"{path}: target column '{missing[0]}' not found{did_you_mean(missing[0], columns)}; "
                             f"columns are {', '.join(columns[:20])}")
    present = [t for t in target if t in frame.columns]
    complete = bool(present) and len(present) == len(target)
    if complete and need_target:
        frame = _rows_with_target(frame, path, target, drop_missing_target)
    elif complete and frame[target].isna().to_numpy().any():  # predicting: partial labels are not used
        complete = False
    features = frame.drop(columns=present)
    if features.shape[1] == 0:
        raise LayerwiseError(f"{path}: no feature columns left after removing the target")
    y = None
    if complete:
        y = frame[target].to_numpy() if len(target) > 1 else frame[target[0]].to_numpy()
        check_targets(y, str(path), target)
    return Dataset(name=name, X=features, y=y, kind="table", target_names=list(target), readings=readings)


def _rows_with_target(frame, path: Path, target: list[str], drop: bool):
    """Rows whose target is missing: dropped with a warning when asked, else an error naming the option."""
    gaps = frame[target].isna().to_numpy().any(axis=1)
    if not gaps.any():
        return frame
    if not drop:
        row = int(np.flatnonzero(gaps)[0]) + 1
        column = next(t for t in target if frame[t].isna().iloc[row - 1])
        raise LayerwiseError(f"{path}: target '{column}' is missing at row {row} ({int(gaps.sum())} rows in all); "
                             "skip such rows by leaving out --no-drop-missing-target (data.drop_missing_target: true)")
    if gaps.all():
        raise LayerwiseError(f"{path}: the target ({', '.join(target)}) is missing in every row; nothing to train on")
    from ..errors import warn

    warn(f"{path}: dropped {int(gaps.sum())} of {len(frame)} rows whose target is missing (data.drop_missing_target)")
    return frame.loc[~gaps].reset_index(drop=True)


def check_targets(y: np.ndarray, where: str, names: list[str]) -> None:
    """Targets must be present and finite; row numbers are 1-based data rows."""
    import pandas as pd

    columns = y.reshape(len(y), -1)
    for j in range(columns.shape[1]):
        column = columns[:, j]
        missing = pd.isna(column)
        if missing.any():
            row = int(np.flatnonzero(missing)[0]) + 1
            raise LayerwiseError(f"{where}: target '{names[j]}' is missing at row {row}")
        if column.dtype.kind == "f" and not np.isfinite(column).all():
            row = int(np.flatnonzero(~np.isfinite(column))[0]) + 1
            raise LayerwiseError(f"{where}: target '{names[j]}' is {column[row - 1]} at row {row}; targets must be finite")


def read_npz(path: Path, need_target: bool = True, max_bytes: Optional[int] = None) -> Dataset:
    from .npyfile import check_npz

    names = check_npz(path, ARRAY_NAMES, max_bytes)  # headers judged before numpy allocates
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in ARRAY_NAMES if key in names}
    except (ValueError, OSError, EOFError) as exc:
        raise LayerwiseError(f"{path}: cannot read .npz ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise LayerwiseError(f"{path}: cannot read .npz ({type(exc).__name__})") from None
    if "x" not in arrays:
        raise LayerwiseError(f"{path}: expected an array named 'x' (and 'y'); found {', '.join(names[:10]) or 'none'}")
    if need_target and "y" not in arrays:
        raise LayerwiseError(f"{path}: expected an array named 'y' with the targets")
    x, y = arrays["x"], arrays.get("y")
    _check_array_pair(x, y, path, "x", "y")
    x_test, y_test = arrays.get("x_test"), arrays.get("y_test")
    if (x_test is None) != (y_test is None):
        raise LayerwiseError(f"{path}: x_test and y_test must come together")
    if x_test is not None:
        _check_array_pair(x_test, y_test, path, "x_test", "y_test")
        if x_test.shape[1:] != x.shape[1:]:
            raise LayerwiseError(f"{path}: x_test rows have shape {x_test.shape[1:]}, x rows {x.shape[1:]}")
    image = x.ndim > 2
    return Dataset(
        name=path.stem, X=x, y=y, X_test=x_test, y_test=y_test,
        kind="image" if image else "array", target_names=["y"],
        pixel_scale=255.0 if image and x.dtype.kind in "ui" else 1.0,
    )


def read_npy(path: Path, need_target: bool = True, max_bytes: Optional[int] = None) -> Dataset:
    """A bare feature matrix; its targets come from `<stem>.y.npy` or `y.npy` beside it.

    Memory-mapped, so a big matrix is not copied until preprocessing needs to.
    """
    from .npyfile import check_npy

    check_npy(path, max_bytes)
    try:
        x = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise LayerwiseError(f"{path}: cannot read .npy ({str(exc).splitlines()[0]})") from None
    y = None
    for candidate in (path.with_name(path.stem + ".y.npy"), path.with_name("y.npy")):
        if candidate.is_file() and candidate != path:
            check_npy(candidate, max_bytes)
            try:
                y = np.load(candidate, allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise LayerwiseError(f"{candidate}: cannot read .npy ({str(exc).splitlines()[0]})") from None
            break
    if need_target and y is None:
        raise LayerwiseError(f"{path}: targets not found; put them in {path.stem}.y.npy beside it")
    _check_array_pair(x, y, path, "x", "y")
    return Dataset(name=path.stem, X=x, y=y, kind="image" if x.ndim > 2 else "array", target_names=["y"],
                   pixel_scale=255.0 if x.ndim > 2 and x.dtype.kind in "ui" else 1.0)


def _check_array_pair(x, y, path, x_name, y_name) -> None:
    if x.ndim < 2 or len(x) == 0 or 0 in x.shape[1:]:
        raise LayerwiseError(f"{path}: '{x_name}' must have shape (rows, features...) with at least one of "
                             f"each, got {x.shape}")
    if x.dtype.kind not in "biuf":
        raise LayerwiseError(f"{path}: '{x_name}' must be numeric, got dtype {x.dtype}")
    if y is not None:
        if y.ndim not in (1, 2):
            raise LayerwiseError(f"{path}: '{y_name}' must be 1-D or 2-D (rows, outputs), got shape {y.shape}")
        if y.dtype.kind not in "biufUS":
            raise LayerwiseError(f"{path}: '{y_name}' must hold numbers or text labels, got dtype {y.dtype}")
        if len(y) != len(x):
            raise LayerwiseError(f"{path}: '{x_name}' has {len(x)} rows but '{y_name}' has {len(y)}")
        check_targets(np.asarray(y), f"{path}:{y_name}", [y_name] * (1 if y.ndim == 1 else y.shape[1]))
