"""Which columns of a table are features: `data.features`, `data.ignore`, `data.id_column`, and a
warning for columns that look like row IDs (an ID used as a feature lets a network memorise rows).

Names are matched exactly; a name that is not a column is an error that suggests the closest ones.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import LayerwiseError, warn
from ..suggest import did_you_mean
from .categories import codes_as_categories
from .empty_columns import drop_empty_columns

# names that usually mean "row number" (R's write.csv writes 'rownames', pandas 'Unnamed: 0')
ID_NAME = re.compile(r"^(id|ids|rownames|row_?names|index|idx|row|row_?id|row_?number|unnamed: ?0|\.\.\.1)$"
                     r"|(_|\b)id$", re.IGNORECASE)
# ...and ID spellings whose case matters: caseId, patientID, idNum, id_visit, PID (medicaldata's opt)
ID_CASED = re.compile(r"[a-z0-9](Id|ID)$|^(id|ID|Id)([A-Z0-9_]|$)|^[A-Z]ID$")
NEAR_UNIQUE_TEXT = 0.99  # text that differs in (almost) every row: a case number or licence (MplsStops' idNum)
# a training file cut from a numbered table (Chem97's student 1..31,022, 80% of the rows shuffled)
# holds each integer once within a range under ID_SPREAD times its rows; measurements that never
# repeat are spread far wider (incomes, timings)
ID_SPREAD = 2
SEQUENCE_ROWS = 20  # below this, 1..n in order is as likely a small count column as an ID
ID_MIN_DISTINCT = 20  # a column named like an ID with fewer values is a category code (covid's test_id: 2)
# ...and so is one whose every value is shared by this many rows on average: a group's code, which
# no network memorises rows by (ratdat's plot_id: 24 plots in 13,216 captures)
GROUP_ROWS = 20


def check_names(names, columns: list[str], what: str, where: str, targets=()) -> None:
    for name in names or ():
        if name in targets:  # the target is taken out of the features already
            raise LayerwiseError(f"{where}: {what} names '{name}', the target column; "
                                 f"it is never a feature, so leave it out of {what}")
        if name not in columns:
            raise LayerwiseError(f"{where}: {what} column '{name}' not found{did_you_mean(name, columns)}; "
                                 f"columns are {', '.join(map(str, columns[:30]))}")


def select_columns(dataset, data_spec, where: str):
    """Drop ignored / ID columns, keep only `features` when given; warn about ID-like columns left in."""
    wanted = (data_spec.features, data_spec.ignore, data_spec.id_column)
    if dataset.kind != "table":
        if any(wanted):
            raise LayerwiseError(f"{where}: data.features, data.ignore and data.id_column apply to tables only")
        return dataset
    columns = [str(c) for c in dataset.X.columns]
    targets = [str(t) for t in dataset.target_names]
    check_names(data_spec.features, columns, "data.features", where, targets)
    check_names(data_spec.ignore, columns, "data.ignore", where, targets)
    check_names([data_spec.id_column] if data_spec.id_column else [], columns, "data.id_column", where, targets)
    check_names(data_spec.categorical, columns, "data.categorical", where, targets)
    dropped = set(data_spec.ignore) | ({data_spec.id_column} if data_spec.id_column else set())
    keep = [c for c in (data_spec.features or columns) if c not in dropped]
    if not keep:
        raise LayerwiseError(f"{where}: no feature columns left after data.features / data.ignore")
    if keep != columns:
        dataset.unused_columns = [c for c in columns if c not in keep]
        dataset.X = dataset.X[keep]
        if dataset.X_test is not None and hasattr(dataset.X_test, "columns"):
            dataset.X_test = dataset.X_test[[c for c in keep if c in dataset.X_test.columns]]
    empty = drop_empty_columns(dataset, where)
    keep = [c for c in keep if c not in empty]
    declared = [name for name in data_spec.categorical if name in keep]
    if declared:  # a new frame: the caller's DataFrame is left as it was
        dataset.X = dataset.X.assign(**{name: codes_as_categories(dataset.X[name]) for name in declared})
        if dataset.X_test is not None and hasattr(dataset.X_test, "assign"):
            dataset.X_test = dataset.X_test.assign(**{name: codes_as_categories(dataset.X_test[name])
                                                      for name in declared if name in dataset.X_test})
    if data_spec.features is None:  # a column chosen by name is the user's decision
        for name in keep:
            if name in data_spec.categorical:
                continue
            reason = id_like(dataset.X[name], name)
            if reason:
                warn(f"{where}: column '{name}' looks like a row ID ({reason}) and is used as a feature; "
                     f"leave it out with --ignore {name}, or carry it into predictions with --id-column {name}")
    return dataset


def id_like(column, name: str) -> str:
    """Why `column` looks like a row ID, or '' if it does not."""
    import pandas as pd

    if ID_NAME.search(name.strip()) or ID_CASED.search(name.strip()):
        # an ID tells rows apart: a 'test_id' or 'plot_id' whose values each stand for many rows is a code
        distinct = column.nunique()
        if distinct < min(len(column), ID_MIN_DISTINCT) or distinct * GROUP_ROWS <= len(column):
            return ""
        return f"its name is '{name}'"
    if len(column) < SEQUENCE_ROWS:
        return ""
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        return _text_id(column)
    if not pd.api.types.is_integer_dtype(column):
        return ""
    values = column.to_numpy()
    low, high = int(values.min()), int(values.max())
    if len(np.unique(values)) != len(values):
        return ""
    if high - low == len(values) - 1:
        return f"the integers {low}..{high}, each once"
    if high - low < ID_SPREAD * len(values):
        return f"{len(values):,} different integers within {low}..{high}"
    return ""


def _text_id(column) -> str:
    """Text with a different value in (almost) every row that is not numbers or dates written as
    text (those are read as numbers later: a time stamp differs in every row too)."""
    from .numeric_text import detect

    distinct = column.nunique()
    if distinct < NEAR_UNIQUE_TEXT * len(column) or detect(column.dropna()) is not None:
        return ""
    return f"{distinct:,} different texts in {len(column):,} rows"
