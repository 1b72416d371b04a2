"""Text/categorical columns -> one-hot blocks, learned on the training rows only.

A column's state in model.json: {"name", "categories": [...], "other": true, "rare": N}. With
"other", the categories seen in fewer than `min_count` training rows (and those beyond
`max_categories` per column, the rarest first) share one "<name>=<other>" column, and so do the
categories training never saw: sklearn's OneHotEncoder(min_frequency=..., max_categories=...,
handle_unknown="infrequent_if_exist"). A name, title or free-text column with thousands of values
then adds a few columns instead of thousands the network could memorise rows with.

Without "other" (no category was rare, `min_count` 0 without a cap as in `preset: plain`, and every
state written before this existed) each training category has its own column and an unseen one is an
all-zero block, with a warning. A missing value is an all-zero block either way.

Values padded with spaces ("AOA" and "AOA     ", "No " and "No"; fixed-width exports: rehearsal
round 2's mn_force and opt) are one category: when any training value has surrounding whitespace
the state says "trim": true and every value is stripped before it is looked up, a blank one being
missing. Without "trim" (clean training text, and every state written before this) values match
exactly, as the ONNX export's string lookup always does.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

OTHER = "<other>"  # the feature-name suffix of the shared column of rare and unseen categories


def fit_column(name: str, values, min_count: int = 0, max_categories: Optional[int] = None) -> dict:
    """The state of one column from its training values (a pandas Series; missing ones ignored)."""
    text = values.dropna().astype(str)
    stripped = text.str.strip()
    trim = bool((stripped != text).any())
    counts = (stripped[stripped != ""] if trim else text).value_counts()
    state = {"name": name, "categories": sorted(counts.index.tolist()), **({"trim": True} if trim else {})}
    if not min_count and not max_categories:
        return state
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # most frequent first, ties by name
    frequent = [value for value, count in ranked if count >= max(min_count, 1)]
    if max_categories and len(frequent) >= max_categories:  # one column stays for <other>
        frequent = frequent[:max_categories - 1]
    if len(frequent) < len(counts):
        state.update(categories=sorted(frequent), other=True, rare=len(counts) - len(frequent))
    return state


def codes_as_categories(values):
    """A column of codes written as numbers (`data.categorical`: zip, school, occupation) as a
    pandas categorical of their text, whole numbers without '.0' (3.0 -> '3', as a CSV cell '3'
    trained and as codes_of_series meets a float 3.0 later); text columns are left as they are."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values
    text = [None if np.isnan(v) else _integer_text(v) or repr(float(v)) for v in values.to_numpy(dtype=np.float64)]
    return pd.Series(text, index=values.index, name=values.name, dtype="category")


def width(column: dict) -> int:
    """One-hot columns of this column: one per kept category, plus <other> when it has one."""
    return len(column["categories"]) + bool(column.get("other"))


def feature_names(column: dict) -> list[str]:
    names = [f"{column['name']}={value}" for value in column["categories"]]
    return names + ([f"{column['name']}={OTHER}"] if column.get("other") else [])


def codes_of_series(column: dict, values) -> tuple[np.ndarray, np.ndarray]:
    """(codes, present) of a pandas Series: the index of each value's one-hot column, -1 where
    unseen (before `resolve_unseen`) or missing."""
    import pandas as pd

    text = values.astype(str).str.strip() if column.get("trim") else values.astype(str)
    known = pd.Index(column["categories"])
    # get_indexer, not pd.Categorical(values, categories=...): pandas deprecates unseen values there.
    codes = known.get_indexer(text)
    if values.dtype.kind == "f":  # a file whose cells here are all numbers, one a gap: pandas reads 3 as 3.0,
        unseen = (codes < 0) & values.notna().to_numpy()  # the category '3' where training text had '3'
        if unseen.any():
            codes[unseen] = known.get_indexer([_integer_text(v) for v in values.to_numpy()[unseen]])
    present = values.notna().to_numpy()
    if column.get("trim"):  # a blank value is missing
        present = present & (text != "").to_numpy()
    codes[~present] = -1
    return codes, present


def codes_of_values(column: dict, values) -> tuple[np.ndarray, np.ndarray]:
    """The same for plain Python values (None or NaN = missing), without pandas."""
    index = {category: k for k, category in enumerate(column["categories"])}
    missing = [v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)) for v in values]
    text = ["" if gone else str(v).strip() if column.get("trim") else str(v) for v, gone in zip(values, missing)]
    present = np.array([not gone and (s != "" or not column.get("trim")) for s, gone in zip(text, missing)], dtype=bool)
    codes = np.array([index.get(s, index.get(_integer_text(v), -1)) if p else -1
                      for s, v, p in zip(text, values, present)], dtype=np.int64)
    return codes, present


def _integer_text(value) -> Optional[str]:
    """'3' for a whole float 3.0 (the category a CSV cell '3' trained), else None (no category)."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and value == round(value):
        return str(int(value))
    return None


def one_hot(column: dict, codes: np.ndarray, present: np.ndarray, values, where: str) -> np.ndarray:
    """(n, width) float32 block; unseen values go to <other>, or are all-zero with a warning."""
    unseen = present & (codes < 0)
    if unseen.any():
        if column.get("other"):
            codes = np.where(unseen, len(column["categories"]), codes)
        else:
            raw = np.asarray(values, dtype=object)
            _warn_unseen([str(raw[i]) for i in np.flatnonzero(unseen)], column["name"], where)
    block = np.zeros((len(codes), width(column)), dtype=np.float32)
    rows = np.flatnonzero(codes >= 0)
    block[rows, codes[rows]] = 1.0
    return block


def _warn_unseen(unseen: list[str], name: str, where: str) -> None:
    """Categories training never saw become all-zero blocks: say how many rows that touched."""
    from ..errors import warn

    examples = ", ".join(repr(v) for v in list(dict.fromkeys(unseen))[:3])
    warn(f"{where}: column '{name}': {len(unseen)} row(s) have a category never seen in training "
         f"({examples}); they are encoded as none of the known categories")
