"""A Parquet table read a row group at a time, for DDP ranks that hold only their shard of it.

Under several processes (distributed.py) a rank keeps in memory only the feature rows of the row
groups it owns (`read_rows`); the preprocessing statistics, which must equal the one-process
ones, are computed by streaming over the row groups (`numeric_rows`), one group in memory at a
time. The targets (one or a few columns) are read whole: the train/validation/test split and the
label map need every row's target, exactly as one process draws them.

Feature columns may be integer or floating point, booleans without gaps, or text of which no value
reads as a number (categories: their levels come from one whole column at a time). A table with
anything that needs pandas' judgement of a whole table (numbers stored as text, booleans with gaps,
dictionary or binary columns, a stored index) is read whole by `read_table`, as in one process:
`open_table` returns None for those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from .dataset import Dataset


class ParquetTable:
    """The feature columns of a Parquet file, unread: a DataFrame stand-in for the few things
    training asks of one (columns, len, a column, a column subset, rows by position)."""

    def __init__(self, path: Path, columns: list[str], file=None, starts: Optional[np.ndarray] = None):
        import pyarrow.parquet as pq

        self.path = path
        self.file = file if file is not None else pq.ParquetFile(path)
        if starts is None:
            meta = self.file.metadata
            sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
            starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.starts = starts  # row group g holds rows starts[g] .. starts[g + 1] - 1
        self.columns = list(columns)

    def __len__(self) -> int:
        return int(self.starts[-1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.columns)

    @property
    def dtypes(self):
        """The pandas dtypes a whole read would give (from the schema; nothing is read)."""
        empty = self.file.schema_arrow.empty_table().select(self.columns).to_pandas()
        return empty.dtypes

    def __getitem__(self, key):
        """A column name: that whole column (a Series; one column in memory). A list of names:
        the same table narrowed to them, still unread."""
        if isinstance(key, str):
            return self.file.read(columns=[key]).to_pandas()[key]
        return ParquetTable(self.path, list(key), self.file, self.starts)

    def groups(self, start: int, stop: int) -> list[int]:
        """The row groups holding rows start .. stop - 1."""
        first = int(np.searchsorted(self.starts, start, side="right")) - 1
        last = int(np.searchsorted(self.starts, stop, side="left"))
        return list(range(max(first, 0), min(last, len(self.starts) - 1)))

    def read_rows(self, start: int, stop: int):
        """Rows start .. stop - 1 as a DataFrame, read from the row groups that hold them only."""
        groups = self.groups(start, stop)
        frame = self.file.read_row_groups(groups, columns=self.columns).to_pandas() if groups \
            else self.file.schema_arrow.empty_table().select(self.columns).to_pandas()
        first = int(self.starts[groups[0]]) if groups else start
        frame = frame.iloc[start - first:stop - first]
        frame.index = np.arange(start, start + len(frame))
        return frame

    @property
    def iloc(self) -> "_Positions":
        return _Positions(self)

    def numeric_rows(self, names: list[str]) -> "_GroupRows":
        """float64 rows of the columns `names`, a row group at a time (preprocess.py's statistics)."""
        return _GroupRows(self, names)


class _Positions:
    """`table.iloc[rows]`: the rows at those positions as a DataFrame (the report's held-out rows),
    read a row group at a time."""

    def __init__(self, table: ParquetTable):
        self.table = table

    def __getitem__(self, rows):
        import pandas as pd

        rows = np.asarray(rows, dtype=np.int64)
        group_of = np.searchsorted(self.table.starts, rows, side="right") - 1
        parts, order = [], []
        for g in np.unique(group_of):
            chosen = np.flatnonzero(group_of == g)
            block = self.table.file.read_row_group(int(g), columns=self.table.columns).to_pandas()
            parts.append(block.iloc[rows[chosen] - self.table.starts[g]])
            order.append(chosen)
        if not parts:
            return self.table.read_rows(0, 0)
        frame = pd.concat(parts)
        frame = frame.iloc[np.argsort(np.concatenate(order), kind="stable")]
        frame.index = rows
        return frame


class _GroupRows:
    """Like row_access.FrameRows (float64 row chunks of numeric columns), over a Parquet file:
    keeps the last row group read, so a scan in row order reads each group once."""

    def __init__(self, table: ParquetTable, names: list[str]):
        self.table, self.names = table, list(names)
        self.shape = (len(table), len(self.names))
        self._cached: tuple = (None, None, None)  # (group, columns, float64 block)

    def __len__(self) -> int:
        return self.shape[0]

    def _block(self, group: int, names: list[str]) -> np.ndarray:
        if self._cached[0] != group or self._cached[1] != names:
            frame = self.table.file.read_row_group(group, columns=names).to_pandas()
            self._cached = (group, names, frame.to_numpy(dtype=np.float64, na_value=np.nan))
        return self._cached[2]

    def __getitem__(self, key) -> np.ndarray:
        rows, column = key if isinstance(key, tuple) else (key, None)
        names = self.names if column is None else [self.names[column]]
        rows = np.asarray(rows, dtype=np.int64)
        # column-major, as pandas' to_numpy gives FrameRows: numpy's sums then add in the same
        # order, and the statistics equal the whole read's to the last bit
        out = np.empty((len(rows), len(names)), dtype=np.float64, order="F")
        group_of = np.searchsorted(self.table.starts, rows, side="right") - 1
        for g in np.unique(group_of):
            chosen = group_of == g
            out[chosen] = self._block(int(g), names)[rows[chosen] - self.table.starts[g]]
        return out if column is None else out[:, 0]


def open_table(path: Path, target: Optional[list[str]], max_bytes: Optional[int] = None,
               drop_missing_target: bool = False) -> Optional[Dataset]:
    """The Parquet file as a Dataset whose features stay unread (a ParquetTable) and whose targets
    are read whole; None when the table needs the whole read (see the module's docstring), which
    also gives the same errors as one process for a broken file."""
    import pyarrow.parquet as pq

    from .budget import check_table
    from .tables import _rows_with_target, check_targets

    check_table(path, max_bytes)
    try:
        file = pq.ParquetFile(path)
    except Exception:  # unreadable: the whole read reports it in one line
        return None
    schema = file.schema_arrow
    index = (schema.pandas_metadata or {}).get("index_columns", [])
    if any(not isinstance(name, dict) for name in index):  # a stored index: pandas restores it
        return None
    names = [str(name) for name in schema.names]
    if not target or len(set(names)) != len(names) or any(t not in names for t in target) \
            or file.metadata.num_rows == 0:
        return None
    features = [name for name in names if name not in target]
    kinds = {field.name: field.type for field in schema}
    if not features or not all(_plain_column(file, name, kinds[name]) for name in features):
        return None
    targets = file.read(columns=list(target)).to_pandas()
    if targets[target].isna().to_numpy().any():
        if drop_missing_target:
            return None  # dropping rows renumbers them: one whole read, as in one process
        _rows_with_target(targets, path, target, False)  # the one-process error
    y = targets[target].to_numpy() if len(target) > 1 else targets[target[0]].to_numpy()
    check_targets(y, str(path), target)
    return Dataset(name=path.stem, X=ParquetTable(path, features, file), y=y, kind="table",
                   target_names=list(target))


def _plain_column(file, name: str, kind) -> bool:
    """Whether the column reads the same per row group as in a whole read: numbers, booleans
    without gaps (with gaps pandas makes them objects), text with no value that parses as a number
    and no reading of numbers or dates written as text (numeric_text.py; the whole read converts,
    or refuses, such a column)."""
    import pyarrow as pa

    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return True
    if pa.types.is_boolean(kind):
        return file.read(columns=[name]).column(0).null_count == 0
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        import pandas as pd

        from .numeric_text import detect

        present = file.read(columns=[name]).column(0).to_pandas().dropna()  # one column at a time
        return not pd.to_numeric(present, errors="coerce").notna().any() and detect(present) is None
    return False
