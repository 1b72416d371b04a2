"""Fuzzed tables for train, predict and evaluate: wrong delimiters, ragged rows, mixed types, huge
and tiny numbers, NaN/inf, empty and header-only files, duplicate columns, non-UTF-8 bytes.

Each case starts from a valid table and applies a few random mutations (none at all is a valid
case too, so both outcomes are exercised). Every case must end in exit 0 or a one-line error with
exit 2, with no traceback, no hang and no file written outside the run directory (helpers.fuzz_cli).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples, fuzz_cli

TRAIN = ["--epochs", "1", "--hidden", "3", "--batch-size", "0", "--val-split", "0.25", "--test-split", "0.25",
         "--out", "run", "-q"]

# Cell values a user's file may hold: numbers of every size, spellings of missing, words, noise.
WEIRD = st.sampled_from(["", " ", "NA", "null", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400",
                         "1.7976931348623157e308", "5e-324", "0x1F", "1,5", "TRUE", "false", "x", "é", "🍎",
                         '"quoted, comma"', '"', "''", "1 2", "\t", "-0", "+3", "1_000", "١٢"])
CELL = st.one_of(
    WEIRD,
    st.integers(-(10 ** 20), 10 ** 20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=5),
)


def base_rows(n: int, labels: list[str], seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).round(3)
    return [["a", "b", "y"]] + [[str(x[i, 0]), str(x[i, 1]), labels[int(x[i, 0] > 0)]] for i in range(n)]


MUTATION = st.one_of(
    st.tuples(st.just("cell"), st.integers(0, 40), st.integers(0, 3), CELL),  # overwrite a cell (row 0: header)
    st.tuples(st.just("drop_cell"), st.integers(1, 40), st.integers(0, 3), st.just("")),  # a short row
    st.tuples(st.just("add_cell"), st.integers(1, 40), st.integers(0, 3), CELL),  # a long row
    st.tuples(st.just("header"), st.integers(0, 3), st.integers(0, 3), st.sampled_from(["a", "b", "y", "", " y", "a.1"])),
    st.tuples(st.just("truncate"), st.integers(0, 40), st.integers(0, 0), st.just("")),  # keep n rows (0: header only)
    st.tuples(st.just("column"), st.integers(0, 0), st.integers(0, 3), CELL),  # one value all the way down
)


def mutate(rows: list[list[str]], mutations) -> list[list[str]]:
    rows = [list(r) for r in rows]
    for kind, i, j, value in mutations:
        i = min(i, len(rows) - 1)
        row = rows[i] if rows else []
        if kind == "cell" and row:
            row[j % len(row)] = value
        elif kind == "drop_cell" and len(row) > 1:
            del row[j % len(row)]
        elif kind == "add_cell":
            row.insert(j % (len(row) + 1), value)
        elif kind == "header" and rows:
            rows[0][i % len(rows[0])] = value
        elif kind == "truncate":
            rows = rows[:i + 1]
        elif kind == "column":
            for r in rows[1:]:
                if r:
                    r[j % len(r)] = value
    return rows


@st.composite
def csv_files(draw):
    labels = draw(st.sampled_from([["0", "1"], ["no", "yes"], ["cat", "dog"], ["1.5", "2.5"]]))
    rows = mutate(base_rows(draw(st.integers(4, 30)), labels, draw(st.integers(0, 3))),
                  draw(st.lists(MUTATION, max_size=4)))
    sep = draw(st.sampled_from([",", ",", ";", "\t", "|", " "]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    data = newline.join(sep.join(r) for r in rows).encode("utf-8") + draw(st.sampled_from([b"", b"\n"]))
    damage = draw(st.sampled_from(["none", "none", "bom", "latin1", "bytes", "cut", "nul"]))
    if damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "latin1":
        data = data.replace(b"b", "bé".encode("latin-1"), 1)
    elif damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    elif damage == "cut":
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "nul":
        data = data.replace(b"\n", b"\x00\n", 1)
    suffix = draw(st.sampled_from([".csv", ".csv", ".tsv", ".txt"]))
    target = draw(st.sampled_from(["y", "y", "y", "a", "nope"]))
    return data, suffix, target


@settings(max_examples=examples(40))
@given(case=csv_files())
def test_fuzzed_csv_train(case) -> None:
    data, suffix, target = case
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / f"data{suffix}").write_bytes(data)
        fuzz_cli("csv", ["train", "--data", f"data{suffix}", "--target", target, *TRAIN], work)


# ---- Parquet -----------------------------------------------------------------------------------

def _column(kind: str, n: int, rng: np.random.Generator, extreme):
    import pandas as pd

    if kind == "float":
        values = rng.normal(size=n)
        if extreme is not None and n:
            values[rng.integers(0, n)] = extreme
        return values
    if kind == "int":
        return rng.integers(-5, 5, size=n)
    if kind == "bigint":
        return np.full(n, 2 ** 62, dtype=np.int64) * rng.choice([-1, 1], size=n)
    if kind == "bool":
        return rng.random(n) > 0.5
    if kind == "text":
        return rng.choice(["red", "green", "blue"], size=n).astype(object)
    if kind == "mixed":
        return np.array([1, "two", 3.0, None] * n, dtype=object)[:n]
    if kind == "nullable":
        return pd.array([1, None] * n, dtype="Int64")[:n]
    if kind == "nulls":
        return np.full(n, np.nan)
    if kind == "date":
        return pd.date_range("2020-01-01", periods=n, freq="D")
    if kind == "category":
        return pd.Categorical(rng.choice(["s", "m", "l"], size=n))
    if kind == "bytes":
        return np.array([b"\xff\x00", b"ok"] * n, dtype=object)[:n]
    raise AssertionError(kind)


KINDS = ["float", "float", "int", "bigint", "bool", "text", "mixed", "nullable", "nulls", "date", "category", "bytes"]


@st.composite
def parquet_files(draw):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = draw(st.integers(0, 25))
    rng = np.random.default_rng(draw(st.integers(0, 9)))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    extreme = draw(st.sampled_from([None, np.nan, np.inf, -np.inf, 1e308, 5e-324, -0.0]))
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "y"]), min_size=len(kinds), max_size=len(kinds)))
    label = draw(st.sampled_from(["binary", "text", "float", "one_class", "nan"]))
    y = {"binary": rng.integers(0, 2, size=n), "text": rng.choice(["p", "q", "r"], size=n),
         "float": rng.normal(size=n), "one_class": np.zeros(n, dtype=np.int64),
         "nan": np.where(rng.random(n) > 0.8, np.nan, 1.0)}[label]
    arrays = []
    for kind in kinds:
        try:
            arrays.append(pa.array(_column(kind, n, rng, extreme), from_pandas=True))
        except (pa.ArrowException, ValueError, TypeError):
            arrays.append(pa.array([str(v) for v in _column(kind, n, rng, extreme)]))
    table = pa.Table.from_arrays(arrays + [pa.array(y, from_pandas=True)], names=names + ["y"])  # names may repeat
    import io

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    damage = draw(st.sampled_from(["none", "none", "none", "cut", "flip"]))
    if damage == "cut":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
    return data, draw(st.sampled_from(["y", "y", "a", "nope"]))


@settings(max_examples=examples(30))
@given(case=parquet_files())
def test_fuzzed_parquet_train(case) -> None:
    data, target = case
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data.parquet").write_bytes(data)
        fuzz_cli("parquet", ["train", "--data", "data.parquet", "--target", target, *TRAIN], work)


# ---- predict / evaluate with a trained table model ---------------------------------------------------

@st.composite
def prediction_tables(draw):
    """Rows for the fruit model (size, weight, colour[, label]) with columns dropped, renamed,
    added, reordered and cells from CELL."""
    rows = [["size", "weight", "colour", "label"], ["10.5", "", "red", "ripe"], ["7", "48.2", "", "raw"],
            ["12", "51", "purple", "ripe"]]
    rows = mutate(rows, draw(st.lists(MUTATION, max_size=4)))
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    return "\n".join(sep.join(r) for r in rows).encode("utf-8") + b"\n"


@settings(max_examples=examples(30))
@given(data=prediction_tables(), command=st.sampled_from(["predict", "evaluate"]))
def test_fuzzed_tables_for_predict_and_evaluate(table_run, data, command) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "rows.csv").write_bytes(data)
        flag = "--input" if command == "predict" else "--data"
        fuzz_cli("table-use", [command, table_run.dir, flag, "rows.csv"], work, run_dir=table_run.dir)


@settings(max_examples=examples(30))
@given(values=st.lists(CELL, min_size=0, max_size=5).map(",".join) | st.text(max_size=20))
def test_fuzzed_values_for_predict(table_run, values: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fuzz_cli("values", ["predict", table_run.dir, "--values", values], Path(tmp), run_dir=table_run.dir)
