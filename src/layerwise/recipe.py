"""`preset: auto`, the default: the settings a config leaves out, chosen from the task and the
data size. Modelled on RealMLP-TD (Holzmueller et al., "Better by Default", NeurIPS 2024) and
kept to the ingredients that paid off on benchmarks/quality.py (see benchmarks/QUALITY.md for
the ablation). Anything the user sets explicitly wins; `preset: plain` skips this entirely.

The chosen values are written back into the config (and so into the run's config.yaml, where
every setting then counts as explicit), so a run is reproducible from its config alone.
"""

from __future__ import annotations

import math

import numpy as np

from .spec import RunConfig

BATCH_SIZE = 256
STEP_BUDGET = 4000  # optimizer steps the epoch count aims at (10k rows x 20 columns: 160 epochs of 25 steps)
# text columns: categories in fewer than 3 training rows share one "<other>" column (names, titles,
# free text: thousands of one-hot columns a network memorises rows with); at most 1,000 columns per
# text column bounds the width. 3 beat 10 and 0 on the extra tables (benchmarks/QUALITY.md).
MIN_CATEGORY_COUNT, MAX_CATEGORIES = 3, 1000
MIN_EPOCHS, MAX_EPOCHS = 20, 256  # 256: RealMLP's epoch count, reached by tables under ~4,000 training rows
# ...but past ~200,000 training rows MIN_EPOCHS passes would be over 4x the budget: there the epochs
# stop at MAX_STEPS' worth, and at least MIN_BIG_EPOCHS. A 1,000,000-row table scored the same after
# 5 epochs as after 20 (accuracy 0.9904 both), in 193 s instead of 598 (benchmarks/TABLE_SHAPES.md).
MAX_STEPS, MIN_BIG_EPOCHS = 4 * STEP_BUDGET, 3


def auto_epochs(train_rows: int, batch_size: int) -> int:
    """A step budget that grows with the data: small tables get many epochs (up to 256, as RealMLP),
    big ones at least MIN_EPOCHS passes, the biggest about MAX_STEPS steps. 4,000 steps rather
    than 2,000 was worth +0.15 points on average over 22 tables (+3 on diabetes, +1.6 on MNIST-1D;
    benchmarks/QUALITY.md)."""
    steps_per_epoch = max(1, math.ceil(train_rows / max(batch_size, 1)))
    epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(STEP_BUDGET / steps_per_epoch)))  # ceil: never under budget
    return int(max(MIN_BIG_EPOCHS, min(epochs, math.ceil(MAX_STEPS / steps_per_epoch))))


# A bagged ensemble (training/bagging.py) on small tables: K members cost K times one network on a
# CPU, so K falls with the rows; a 10,000-row table (6,400 training rows) trains one network.
# 5 members rather than 3 on tables under 2,400 training rows: +0.4 points over 13 small tables x 3
# seeds (hitters +3.7), where a network costs seconds (benchmarks/QUALITY.md).
MEMBER_ROW_BUDGET, MAX_MEMBERS = 12_000, 5
# One hidden layer of 256 for a table: over 22 tables x 3 seeds it scored +0.38 points above
# RealMLP's three (hitters +4.6, diabetes +2.3, attrition +1.7), 2-10x faster; three layers were
# ahead on MNIST-1D (-1.1 with one), boston (-0.8) and hpc (-0.7), nothing by more; 10 larger
# held-out tables +0.26 (benchmarks/QUALITY.md). Images, which no table measured, keep three.
HIDDEN, IMAGE_HIDDEN = [256], [256, 256, 256]
EMBEDDED_SIZE = 4  # values per numeric column out of the periodic embedding (layers/embedding.py)
# Wider tables train without the embedding: its 16 cosines per column (and their sines backward)
# cost ~3,800 multiply-adds per column and row, 2.9x the dense layers of a 500-column table. There,
# 3 bagged members without it scored 0.792 in 67 s against 0.802 in 318 s with it, and one embedded
# network 0.789 in 91 s (synthetic 2,600 x 500 table, 5 informative columns; benchmarks/QUALITY.md).
MAX_EMBEDDED_COLUMNS = 200
# ...and at most the arithmetic of 3 networks at the full step budget on 1,000 inputs (about two
# minutes on a 2-core CPU): only very wide tables (thousands of one-hot columns) reach it.
WIDE_NETWORKS, WIDE_INPUTS = 3, 1000


def auto_test_split(config: RunConfig, kind: str, copies: int = 1) -> float:
    """The fraction of a source's rows held out as its test split (one with no test part of its
    own): none under preset auto for tables, unless the user set it. The model a user keeps should
    learn from every row they gave: holding 20% out cost 0.59 points over 13 tables of under 3,000
    rows x 3 seeds (hitters -2.9, boston -2.6, concrete -2.2; benchmarks/QUALITY.md). The run's scores
    then come from its validation rows, out of fold for a bagged ensemble (each row predicted by
    the members that did not train on it). Images keep the split: their sources mostly bring a
    test part, and theirs is the tutorials' way; `--repeat` copies (seeds compared side by side)
    are compared on test rows."""
    if config.preset == "auto" and kind != "image" and copies == 1:
        _default(config.data, test_split=0.0)
    return config.data.test_split


def auto_members(config: RunConfig, dataset) -> int:
    """Members of preset auto's bagged ensemble for `dataset`: 5 up to 2,400 training rows, 4 up
    to 3,000, 3 up to 4,000, 2 up to 6,000, then one network; fewer when the members' arithmetic
    (steps x multiply-adds per row) would exceed 3 networks' on a table of WIDE_INPUTS inputs.
    Bagging 3 was worth +0.41 points on average over 22 tables x 3 seeds (MNIST-1D +5.9, breast
    cancer +1.5, ames +1.3) for 3-4x the training time where it applies (benchmarks/QUALITY.md).
    An in-memory table's numbers written as text count as categories here (they are read as
    numbers later, in prepare): a few members too few at worst."""
    if dataset.kind == "image" or dataset.y is None:
        return 1
    rows = float(len(dataset))
    if dataset.X_test is None and not config.data.test:
        rows *= 1 - auto_test_split(config, dataset.kind)
    rows *= 1 - config.data.val_split
    by_rows = int(MEMBER_ROW_BUDGET // max(rows, 1.0))
    steps = auto_epochs(int(rows), BATCH_SIZE) * math.ceil(rows / BATCH_SIZE)
    budget = WIDE_NETWORKS * STEP_BUDGET * _row_cost(WIDE_INPUTS)
    by_arithmetic = int(budget // max(steps * _row_cost(estimated_inputs(dataset)), 1))
    return max(1, min(MAX_MEMBERS, by_rows, by_arithmetic))


def estimated_inputs(dataset) -> int:
    """The first dense layer's width under preset auto, roughly: EMBEDDED_SIZE per numeric column
    (one past MAX_EMBEDDED_COLUMNS) and one per category of each text column (at most
    MAX_CATEGORIES; rare ones not pooled)."""
    import pandas as pd

    numeric = numeric_columns(dataset)
    per_number = EMBEDDED_SIZE if numeric <= MAX_EMBEDDED_COLUMNS else 1
    X = dataset.X
    if not isinstance(X, pd.DataFrame):  # arrays; a Parquet table's categories are not counted (not read yet)
        return per_number * numeric
    text = [column for column, dtype in X.dtypes.items() if not _is_number(dtype)]
    return per_number * numeric + sum(min(int(X[c].nunique()), MAX_CATEGORIES) for c in text)


def numeric_columns(dataset) -> int:
    """Numeric columns of a table (DataFrame or Parquet; an array's values per row): the inputs
    preset auto's embedding would embed."""
    X = dataset.X
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        return sum(_is_number(dtype) for dtype in X.dtypes)
    return int(np.prod(np.shape(X)[1:]))


def _is_number(dtype) -> bool:
    """A column the preprocessing reads as numbers (numeric or bool), not as categories."""
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def _row_cost(inputs: int) -> int:
    """Multiply-adds per training row in the default network's dense layers."""
    sizes = [inputs, *HIDDEN]
    return sum(a * b for a, b in zip(sizes, sizes[1:]))


def apply_preset(config: RunConfig, task: str, train_rows: int, kind: str, numbers: int = 0) -> None:
    """Fill in what `config` leaves out (in place) when its preset is auto; `numbers`: the
    table's numeric columns (numeric_columns)."""
    if config.preset != "auto":
        return
    classification = task != "regression"
    if kind != "image":
        _default(config.data, scaling="robust", smooth_clip=True, min_category_count=MIN_CATEGORY_COUNT,
                 max_categories=MAX_CATEGORIES)
    if not classification:  # as RealMLP: a prediction beyond every training target is an extrapolation
        _default(config.data, clamp_predictions=True)
    network = config.network
    if network.layers is None and isinstance(network.activation, str):  # typed layers: the user's design
        # periodic embeddings of the numeric columns (layers/embedding.py); images' pixels are not
        # tabular features, and embedding each would multiply a wide first layer by four
        embedded = kind != "image" and numbers <= MAX_EMBEDDED_COLUMNS
        _default(network, hidden=list(IMAGE_HIDDEN if kind == "image" else HIDDEN), dropout=0.15,
                 embedding="periodic" if embedded else "none")
    batch = _default(config.training, batch_size=BATCH_SIZE)["batch_size"]
    epochs = auto_epochs(train_rows, batch)
    if _default(config.training, optimizer="adamw")["optimizer"] == "adamw":
        # RealMLP's AdamW settings; an optimizer the user names keeps plain's (decay 0.02 would be a
        # stronger L2 term inside Adam's gradient, and lr 0.002 is not SGD's scale)
        _default(config.training, lr=2e-3, weight_decay=0.02, adam_beta2=0.95)
    _default(config.training, epochs=epochs, schedule="onecycle", label_smoothing=0.1 if classification else 0.0)
    stopping = config.training.early_stopping
    if "early_stopping" not in config.training.model_fields_set:
        _default(stopping, patience=max(20, config.training.epochs // 4))


def _default(section, **values) -> dict:
    """Set each value the user did not set; returns the section's values after."""
    explicit = section.model_fields_set
    for name, value in values.items():
        if name not in explicit:
            setattr(section, name, value)
    return {name: getattr(section, name) for name in values}
