"""Synthetic tables of unusual size and shape for benchmarks/table_shapes.py: many rows, many
columns, many or rare classes, gaps in the target, tiny tables, odd column names. Each has a real
signal (scikit-learn's make_classification / make_regression, text columns cut from informative
numbers) so a score means something, and comes as (train frame, test frame) with the target
column `y` (or the case's own names), the test rows a 20% hold-out stratified where possible.

Nothing here is written to the repository: the runner writes the CSVs under a scratch folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pandas as pd

TEST_FRACTION = 0.2


@dataclass
class Case:
    make: Callable[[int], tuple[pd.DataFrame, Optional[pd.DataFrame]]]
    what: str
    task: str = "classification"  # what the table is: both models are scored as that
    target: list[str] = field(default_factory=lambda: ["y"])
    big: bool = False  # opt-in (--cases NAME or --big): minutes to tens of minutes
    # the scikit-learn reference: "hgb" (HistGradientBoosting), "mlp" (its MLP: HGB fits one tree
    # per class and round, hours for 1,000 classes), or "" (none: several targets)
    reference: str = "hgb"
    expect: str = "ok"  # "ok", or the fragment the one-line error must contain


def _cut_text(values: np.ndarray, levels: int, prefix: str) -> np.ndarray:
    """An informative number as text categories: its quantile bin, spelled as a word."""
    edges = np.quantile(values, np.linspace(0, 1, levels + 1)[1:-1])
    return np.array([f"{prefix}{i}" for i in range(levels)], dtype=object)[np.searchsorted(edges, values)]


def features(X: np.ndarray, text: int = 0, gaps: float = 0.0, seed: int = 0, levels: int = 6) -> pd.DataFrame:
    """X's columns as x0.., the first `text` of them cut into text categories, `gaps` of the cells
    of every other numeric column missing."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{j}": X[:, j] for j in range(X.shape[1])})
    for j in range(text):
        frame[f"x{j}"] = _cut_text(X[:, j], levels, f"level_{j}_")
    if gaps:
        for j in range(text, X.shape[1], 2):
            frame.loc[rng.random(len(frame)) < gaps, f"x{j}"] = np.nan
    return frame


def classification(rows: int, columns: int, classes: int = 2, text: int = 0, gaps: float = 0.0, seed: int = 0,
                   informative: int = 8, weights=None, labels: Optional[Callable] = None) -> pd.DataFrame:
    from sklearn.datasets import make_classification

    informative = min(columns, max(informative, int(np.ceil(np.log2(classes))) + 1))
    X, y = make_classification(n_samples=rows, n_features=columns, n_informative=informative,
                               n_redundant=0, n_classes=classes, n_clusters_per_class=1, weights=weights,
                               class_sep=1.5, flip_y=0.01, random_state=seed)
    frame = features(X, text, gaps, seed)
    frame["y"] = labels(y) if labels else np.array([f"class_{c:04d}" for c in range(classes)])[y]
    return frame


def regression(rows: int, columns: int, text: int = 0, gaps: float = 0.0, seed: int = 0, outputs: int = 1) -> pd.DataFrame:
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=rows, n_features=columns, n_informative=min(columns, 8), n_targets=outputs,
                           noise=5.0, random_state=seed)
    y = y.reshape(rows, -1) + 30 * np.sin(X[:, :1])  # a bend no linear model fits
    frame = features(X, text, gaps, seed)
    names = ["y"] if outputs == 1 else [f"y{k}" for k in range(outputs)]
    for k, name in enumerate(names):
        frame[name] = y[:, k]
    return frame


def hold_out(frame: pd.DataFrame, target: str = "y", seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): a TEST_FRACTION hold-out, stratified on a text target whose classes all
    have two rows or more."""
    from sklearn.model_selection import train_test_split

    y = frame[target]
    stratify = y if y.dtype == object and y.value_counts().min() >= 2 else None
    try:
        train, test = train_test_split(frame, test_size=TEST_FRACTION, random_state=seed, stratify=stratify)
    except ValueError:  # more classes than test rows
        train, test = train_test_split(frame, test_size=TEST_FRACTION, random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True)


# ---- the cases -----------------------------------------------------------------------------------

def _rows(rows: int):
    return lambda seed: hold_out(classification(rows + rows // 4, 19, 2, text=3, gaps=0.05, seed=seed), seed=seed)


def _columns(columns: int):
    return lambda seed: hold_out(classification(6_250, columns, 2, text=2, seed=seed, informative=10), seed=seed)


def _classes(classes: int, rows: int):
    return lambda seed: hold_out(classification(rows, 20, classes, text=2, seed=seed, informative=12), seed=seed)


def text_50(seed: int):
    return hold_out(classification(6_250, 60, 3, text=50, seed=seed, informative=20), seed=seed)


def text_20k_distinct(seed: int):
    """One text column with 20,000+ distinct values (names, free text) beside a real signal."""
    frame = classification(25_000, 10, 2, text=1, seed=seed)
    frame.insert(0, "name", [f"person {i:05d}" for i in np.random.default_rng(seed).permutation(25_000)])
    return hold_out(frame, seed=seed)


def rare_classes(seed: int):
    """Five classes of ~250 rows, and two of 1 and 2 rows (all kept in the training rows)."""
    frame = classification(1_250, 12, 5, text=1, seed=seed)
    train, test = hold_out(frame, seed=seed)
    odd = train.sample(3, random_state=seed).assign(y=["only_one", "only_two", "only_two"])
    return pd.concat([train, odd], ignore_index=True), test


def minority_1pct(seed: int):
    return hold_out(classification(20_000, 15, 2, text=2, seed=seed, weights=[0.99],
                                   labels=lambda y: np.where(y == 1, "fraud", "ok")), seed=seed)


def label_variants(seed: int):
    """Labels as people type them: ' yes', 'Yes', 'YES ', 'no' (one class each, as written)."""
    frame = classification(2_500, 10, 2, text=1, seed=seed)
    rng = np.random.default_rng(seed)
    yes = np.array(["yes", "Yes", "YES", "yes please"], dtype=object)
    frame["y"] = np.where(frame["y"] == "class_0001", yes[rng.integers(0, 4, len(frame))], "no")
    return hold_out(frame, seed=seed)


def target_gaps(seed: int):
    """10% of the training rows have no target (an empty cell)."""
    train, test = hold_out(regression(6_250, 12, text=2, gaps=0.05, seed=seed), seed=seed)
    train.loc[np.random.default_rng(seed).random(len(train)) < 0.1, "y"] = np.nan
    return train, test


def text_target_gaps(seed: int):
    """A text target with empty cells and 'NA' among its labels."""
    train, test = hold_out(classification(2_500, 10, 3, text=1, seed=seed), seed=seed)
    rng = np.random.default_rng(seed)
    train.loc[rng.random(len(train)) < 0.05, "y"] = np.nan
    train.loc[rng.random(len(train)) < 0.03, "y"] = "NA"
    return train, test


def _tiny(rows: int, task: str):
    def make(seed: int):
        frame = (classification(rows, 4, 2, text=1, seed=seed, informative=3) if task == "classification"
                 else regression(rows, 4, text=1, seed=seed))
        return hold_out(frame, seed=seed)
    return make


def constant_features(seed: int):
    frame = classification(600, 3, 2, seed=seed, informative=2)
    frame[["x0", "x1", "x2"]] = [1.5, 0.0, 7.0]
    frame["colour"] = "red"
    return hold_out(frame, seed=seed)


def constant_target(seed: int):
    frame = regression(600, 5, seed=seed)
    return frame.assign(y=3.0), None


def duplicate_names(seed: int):
    frame = classification(1_250, 6, 2, text=1, seed=seed)
    frame.columns = ["x0", "x1", "x2", "x1", "x4", "x0", "y"]
    return hold_out(frame, seed=seed)


def odd_names(seed: int):
    """Column names like CLI flags, with spaces and in other scripts."""
    frame = classification(1_250, 6, 2, text=1, seed=seed)
    frame.columns = ["--lr", "-q", "price (£)", "größe", "名前", " padded ", "y"]
    return hold_out(frame, seed=seed)


def all_missing_column(seed: int):
    frame = classification(1_250, 6, 2, text=1, seed=seed)
    frame.insert(2, "empty", np.nan)
    frame.insert(3, "empty_text", pd.Series([None] * len(frame), dtype=object))
    return hold_out(frame, seed=seed)


def id_like_target(seed: int):
    """An integer target with each value once (a row number someone named as the target)."""
    frame = regression(1_250, 6, seed=seed)
    frame["y"] = np.random.default_rng(seed).permutation(len(frame)) + 1000
    return hold_out(frame, seed=seed)


def integer_classes_200(seed: int):
    """200 classes written as integer codes 0..199 (a product or station code)."""
    frame = classification(12_500, 20, 200, text=2, seed=seed, informative=12, labels=lambda y: y)
    return hold_out(frame, seed=seed)


def multi_output(seed: int):
    return hold_out(regression(3_000, 10, text=2, seed=seed, outputs=2), target="y0", seed=seed)


CASES: dict[str, Case] = {
    "rows_50k": Case(_rows(50_000), "50,000 rows x 20 columns (3 text), binary"),
    "rows_200k": Case(_rows(200_000), "200,000 rows x 20 columns (3 text), binary", big=True),
    "rows_1m": Case(_rows(1_000_000), "1,000,000 rows x 20 columns (3 text), binary", big=True),
    "cols_300": Case(_columns(300), "5,000 rows x 300 columns"),
    "cols_1000": Case(_columns(1_000), "5,000 rows x 1,000 columns"),
    "cols_3000": Case(_columns(3_000), "5,000 rows x 3,000 columns", big=True),
    "text_50": Case(text_50, "5,000 rows, 50 text columns, 3 classes"),
    "text_20k_distinct": Case(text_20k_distinct, "20,000 rows, a text column of 20,000 distinct values"),
    "classes_50": Case(_classes(50, 12_500), "10,000 rows, 50 text classes"),
    "classes_200": Case(_classes(200, 12_500), "10,000 rows, 200 text classes", reference="mlp"),
    "classes_1000": Case(_classes(1_000, 25_000), "20,000 rows, 1,000 text classes", reference="mlp", big=True),
    "int_classes_200": Case(integer_classes_200, "10,000 rows, 200 classes coded 0..199", reference="mlp"),
    "rare_classes": Case(rare_classes, "1,000 rows, 5 classes plus classes of 1 and 2 rows"),
    "minority_1pct": Case(minority_1pct, "16,000 rows, binary with 1% positives"),
    "label_variants": Case(label_variants, "2,000 rows, labels 'yes'/'Yes'/'YES'/'yes please'/'no'"),
    "target_gaps": Case(target_gaps, "5,000 rows, regression, 10% of targets empty", "regression"),
    "text_target_gaps": Case(text_target_gaps, "2,000 rows, text classes, 5% empty, 3% 'NA'"),
    "tiny_10": Case(_tiny(13, "classification"), "10 rows, binary"),
    "tiny_30": Case(_tiny(38, "regression"), "30 rows, regression", "regression"),
    "tiny_60": Case(_tiny(75, "classification"), "60 rows, binary"),
    "constant_features": Case(constant_features, "480 rows, every feature constant"),
    "constant_target": Case(constant_target, "600 rows, the target one value", "regression", reference="", expect="one"),
    "duplicate_names": Case(duplicate_names, "1,000 rows, columns x0 and x1 twice"),
    "odd_names": Case(odd_names, "1,000 rows, columns '--lr', '-q', spaces, unicode"),
    "all_missing_column": Case(all_missing_column, "1,000 rows, a numeric and a text column all empty"),
    "id_like_target": Case(id_like_target, "1,000 rows, integer target each value once", "regression"),
    "multi_output": Case(multi_output, "2,400 rows, two regression targets", "regression", target=["y0", "y1"], reference=""),
}
