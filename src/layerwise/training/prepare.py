"""From a config and a raw Dataset to everything the loop needs: splits, fitted preprocessing,
encoded targets and the resolved architecture. Nothing is written to disk here, so a data mistake
stops the run before any run directory exists."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np

from ..data.preprocess import Preprocessor
from ..data.sources import Dataset, load_source, source_name
from ..data.split import split_indices
from ..data.targets import TargetEncoder, infer_task
from ..errors import LayerwiseError
from ..model import Architecture
from ..recipe import auto_test_split, numeric_columns
from ..resolve import DataFacts, Modes, resolve
from ..spec import RunConfig


@dataclass
class Prepared:
    name: str
    task: str
    loss: str
    features: np.ndarray  # float32 (N, d): every row of the main source, preprocessed
    targets: np.ndarray  # encoded (N,) int64 or (N, k) float32
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    preprocessor: Preprocessor
    encoder: TargetEncoder
    arch: Architecture
    val: Optional[tuple[np.ndarray, np.ndarray]] = None  # an explicit validation source
    test: Optional[tuple[np.ndarray, np.ndarray]] = None  # the source's own / an explicit test part
    target_names: Optional[list[str]] = None
    weights: Optional[np.ndarray] = None  # float32 (N,) per-row loss weights, or None
    class_weights: Optional[np.ndarray] = None  # float32 (n_classes,) loss weights (training.class_weights)
    # The raw data (no copies), for the report's judgements in the user's own columns and labels
    dataset: Optional[Dataset] = None
    raw_parts: Optional[dict[str, Dataset]] = None  # explicit "val"/"test" sources, raw
    id_column: Optional[str] = None  # data.id_column: copied into predictions, never a feature
    # A DDP rank reading its shard of a large source (.npy, Parquet): `features` holds only the
    # rows [start, stop) of the source; None: `features` holds every row
    held: Optional[tuple[int, int]] = None

    def split(self, which: str) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """(features, targets) of a split. With `held` rows, the features are this rank's rows of
        the split only and the targets are the whole split's (for the gathered evaluation)."""
        explicit = {"val": self.val, "test": self.test}.get(which)
        if explicit is not None:
            return explicit
        rows = {"train": self.train_idx, "val": self.val_idx, "test": self.test_idx}[which]
        if not len(rows):
            return None
        return self.features[self.local(rows)], self.targets[rows]

    def local(self, rows: np.ndarray) -> np.ndarray:
        """Positions in `features` of those of the source's `rows` this process holds, in order."""
        if self.held is None:
            return rows
        start, stop = self.held
        return rows[(rows >= start) & (rows < stop)] - start


def dataset_from_arrays(data: Any) -> Dataset:
    """Python API input: (X, y), (X, y, X_test, y_test), or a Dataset."""
    if isinstance(data, Dataset):
        return data
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise LayerwiseError("data must be (X, y) or (X, y, X_test, y_test)")
    X, y = data[0], np.asarray(data[1])
    X_test, y_test = (data[2], np.asarray(data[3])) if len(data) == 4 else (None, None)
    if hasattr(X, "columns"):
        return Dataset(name="table", X=X, y=y, kind="table", X_test=X_test, y_test=y_test)
    X = np.asarray(X)
    if len(X) != len(y):
        raise LayerwiseError(f"data: X has {len(X)} rows but y has {len(y)}")
    image = X.ndim > 2
    return Dataset(name="array", X=X, y=y, kind="image" if image else "array", X_test=X_test, y_test=y_test,
                   pixel_scale=255.0 if image and X.dtype.kind in "ui" else 1.0)


def load_training_data(config: RunConfig, data: Any = None) -> Dataset:
    from ..data.columns import select_columns

    if isinstance(data, Dataset):  # loaded already (the preset sized an ensemble from it)
        return data

    if data is not None and hasattr(data, "columns") and not isinstance(data, (tuple, list)):
        from pathlib import Path

        from ..data.tables import split_target  # a DataFrame with its target column, as a CSV would be

        dataset = split_target(data, Path("dataframe"), config.data.target, True, config.data.drop_missing_target)
        return select_columns(dataset, config.data, "dataframe")
    if data is not None:
        return select_columns(dataset_from_arrays(data), config.data, "data")
    if not config.data.source:
        raise LayerwiseError("no data: give --data SOURCE (e.g. builtin:digits) or data.source in the config")
    dataset = _per_shard_table(config) or load_source(
        config.data.source, config.data.target, max_bytes=config.data.max_bytes,
        drop_missing_target=config.data.drop_missing_target)
    dataset.name = source_name(config.data.source)
    return select_columns(dataset, config.data, config.data.source)


def _per_shard_table(config: RunConfig) -> Optional[Dataset]:
    """Under DDP, a Parquet source whose rows each rank reads from its own row groups (its features
    stay unread until `prepare` takes its shard); None for every other case."""
    from pathlib import Path

    from ..distributed import current

    source = Path(config.data.source)
    if current() is None or source.suffix.lower() not in (".parquet", ".pq") or not source.is_file():
        return None
    from ..data.parquet_rows import open_table

    return open_table(source, config.data.target, config.data.max_bytes, config.data.drop_missing_target)


def held_rows(dataset: Dataset) -> Optional[tuple[int, int]]:
    """The rows [start, stop) this DDP rank holds of a large source: a memory-mapped .npy (an even
    split) or a Parquet table (whole row groups, split near the even points); None elsewhere."""
    from ..data.parquet_rows import ParquetTable
    from ..data.row_access import file_backed
    from ..distributed import current

    group = current()
    if group is None or not (isinstance(dataset.X, ParquetTable) or file_backed(dataset.X)):
        return None
    n, rank, world = len(dataset), group.rank, group.world_size
    if not isinstance(dataset.X, ParquetTable):
        return rank * n // world, (rank + 1) * n // world
    # the rank of a row group is where its first row falls among the even split points
    starts = dataset.X.starts
    owner = np.minimum(starts[:-1] * world // max(n, 1), world - 1)
    mine = np.flatnonzero(owner == rank)
    return (int(starts[mine[0]]), int(starts[mine[-1] + 1])) if len(mine) else (n, n)


def prepare(config: RunConfig, dataset: Dataset, sample_weight=None, rows=None, *,
            encoder: Optional[TargetEncoder] = None, fitted=None, modes: Modes = Modes()) -> Prepared:
    """The one data path of training (CLI, API, sklearn estimators, tune, cv): the data's facts
    (task, splits, label map), then `resolve.resolve` for every setting and check, then features.

    rows: optional (train_idx, val_idx, test_idx) chosen by the caller (k-fold cross-validation)
    instead of the config's splits; the preprocessing is still fitted on the train rows only.
    encoder: a label map fixed by the caller (sklearn's `classes`), used as given.
    fitted: (preprocessor, architecture) kept from an earlier fit (sklearn warm start).
    modes: how the run trains (--repeat, DDP, in memory, ...), for resolve's checks."""
    if dataset.y is None:
        raise LayerwiseError(f"{dataset.name}: no targets to train on")
    if fitted is None:
        dataset = _read_text_columns(dataset)
    given = encoder is not None
    task = encoder.task if given else infer_task(dataset.y, config.task if config.task != "auto" else dataset.task)
    if not given:
        encoder = TargetEncoder.fit(dataset.y, task, where=f"{dataset.name} target")
    targets = encoder.encode(dataset.y, where=f"{dataset.name} target")
    seed = config.seed_of_splits()
    labels = targets.reshape(-1) if task != "regression" else None
    all_rows = np.arange(len(dataset))
    explicit_test = _explicit(config.data.test, dataset, "test", config.data.max_bytes)
    test_fraction = 0.0 if explicit_test is not None else auto_test_split(config, dataset.kind, modes.repeat)
    rest, test_idx = split_indices(all_rows, test_fraction, seed, labels)
    explicit_val = _explicit(config.data.val, dataset, "val", config.data.max_bytes)
    val_fraction = 0.0 if explicit_val is not None else config.data.val_split
    train_idx, val_idx = split_indices(rest, val_fraction, seed + 1, labels)
    if rows is not None:
        train_idx, val_idx, test_idx = (np.asarray(part, dtype=np.int64) for part in rows)
    if len(train_idx) == 0:
        raise LayerwiseError(f"{dataset.name}: no training rows left after the validation/test splits")
    if task == "regression" and not given and config.data.scales_target():  # learned on the training rows only
        encoder = TargetEncoder.fit(dataset.y, task, f"{dataset.name} target", train_idx, standardize=True)
        targets = encoder.encode(dataset.y, where=f"{dataset.name} target")

    def fit_preprocessing(data):  # with the data settings as resolved (the preset may choose the scaling)
        return Preprocessor.fit(dataset.X, dataset.kind, dataset.pixel_scale, train_idx,
                                data.standardize, data.scaling, data.smooth_clip,
                                data.min_category_count, data.max_categories, dataset.readings)

    weighted = config.training.class_weights is not None  # balanced weights count the training labels
    facts = DataFacts(dataset.kind, task, encoder.n_outputs, encoder.classes, targets[train_idx] if weighted else None,
                      len(train_idx), len(val_idx), fit_preprocessing, fitted,
                      numeric_columns(dataset) if dataset.kind != "image" else 0)
    resolved = resolve(config, facts, replace(modes, sample_weight=sample_weight is not None))
    preprocessor, loss = resolved.preprocessor, resolved.loss
    if task == "regression":  # the preset may have chosen it; a loaded encoder follows the config too
        encoder.clamp = config.data.clamp_predictions
    held = held_rows(dataset)
    if held is None:
        features = preprocessor.transform(dataset.X, where=dataset.name)
    else:  # this rank's shard only (the statistics above streamed over the training rows)
        start, stop = held
        rows = dataset.X.read_rows(start, stop) if hasattr(dataset.X, "read_rows") else dataset.X[start:stop]
        features = preprocessor.transform(rows, where=f"{dataset.name} rows {start + 1}..{stop}")
    prepared = Prepared(dataset.name, task, loss, features, targets, train_idx, val_idx, test_idx,
                        preprocessor, encoder, resolved.arch)
    prepared.held = held
    prepared.class_weights = resolved.class_weights
    prepared.target_names = list(dataset.target_names)
    prepared.weights = _check_weights(sample_weight, len(dataset))
    prepared.val = _encode_part(explicit_val, preprocessor, encoder)
    prepared.test = _encode_part(explicit_test, preprocessor, encoder)
    prepared.dataset, prepared.raw_parts = dataset, {"val": explicit_val, "test": explicit_test}
    prepared.id_column = config.data.id_column
    return prepared


def _read_text_columns(dataset: Dataset) -> Dataset:
    """An in-memory table (layerwise.fit, the scikit-learn estimators) with numbers or dates
    written as text, read by the rule a CSV is read by (tables.check_numeric_columns), on a copy:
    the caller's DataFrame is left as it was. A table read from a file was judged as it was read
    (`readings` set); a DDP Parquet shard holds no such column (parquet_rows reads those whole)."""
    import pandas as pd

    from ..data.tables import check_numeric_columns

    if dataset.readings is not None or dataset.kind != "table" or not isinstance(dataset.X, pd.DataFrame):
        return dataset
    frame = dataset.X.copy(deep=False)  # copy-on-write: converting a column leaves the caller's alone
    found = check_numeric_columns(frame, dataset.name)
    return replace(dataset, X=frame if found else dataset.X, readings=found)


def _explicit(source: Optional[str], dataset: Dataset, which: str, max_bytes=None) -> Optional[Dataset]:
    if source:
        part = load_source(source, dataset.target_names if dataset.kind == "table" else None, max_bytes=max_bytes,
                           readings=dataset.readings)  # its text columns read as the training source's
        return part
    if which == "test" and dataset.X_test is not None:
        return Dataset(name=f"{dataset.name} (test)", X=dataset.X_test, y=dataset.y_test, kind=dataset.kind)
    return None


def _encode_part(part: Optional[Dataset], preprocessor: Preprocessor, encoder: TargetEncoder):
    if part is None:
        return None
    if part.y is None:
        raise LayerwiseError(f"{part.name}: has no targets")
    return preprocessor.transform(part.X, where=part.name), encoder.encode(part.y, where=f"{part.name} target")


def _check_weights(sample_weight, rows: int) -> Optional[np.ndarray]:
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float32).reshape(-1)
    if len(weights) != rows:
        raise LayerwiseError(f"sample_weight has {len(weights)} values for {rows} rows")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise LayerwiseError("sample_weight must be finite and non-negative")
    return weights
