"""Columns with no value in any row: left out of the features, with a warning.

Exports carry them (a field nobody filled in, a header over an empty column); there is nothing in
one to learn from, and its median to impute does not exist, so the preprocessing used to stop
the whole run on it ("column 'x' has no values in the training split"). scikit-learn's
SimpleImputer drops such a column too (keep_empty_features=False). It is listed among the run's
unused columns, so new rows that bring it (empty or not) are read without a warning.
"""

from __future__ import annotations

from ..errors import LayerwiseError, warn


def drop_empty_columns(dataset, where: str) -> list[str]:
    """Take the table columns missing in every row out of `dataset`'s features (in place);
    returns their names."""
    X = dataset.X
    if dataset.kind != "table" or not hasattr(X, "isna") or len(X) == 0:
        return []
    empty = [str(c) for c, gone in X.isna().all().items() if gone]
    if not empty:
        return []
    if len(empty) == X.shape[1]:
        raise LayerwiseError(f"{where}: every feature column is empty in every row; nothing to learn from")
    shown = ", ".join(f"'{name}'" for name in empty[:10]) + (f" and {len(empty) - 10} more" if len(empty) > 10 else "")
    warn(f"{where}: left out {len(empty)} column(s) that are empty in every row: {shown}")
    dataset.unused_columns = [*dataset.unused_columns, *empty]
    dataset.X = X.drop(columns=empty)
    if dataset.X_test is not None and hasattr(dataset.X_test, "columns"):
        dataset.X_test = dataset.X_test.drop(columns=[c for c in empty if c in dataset.X_test.columns])
    return empty
