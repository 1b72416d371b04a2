"""The data-source grammar shared by every command.

    builtin:NAME               scikit-learn's bundled sets and the seeds' own data
    path.csv | .tsv | .parquet a table; --target names the target column(s)
    path.npz                   arrays x, y (and optional x_test, y_test)
    path.npy                   a feature matrix (for predict; or with a y.npy beside it)
    mnist:DIR                  MNIST / Fashion-MNIST IDX files

Every reader returns a `Dataset`: raw features (a DataFrame for tables, an ndarray for images and
plain arrays) and raw targets, still in the user's units and labels. Learning anything from the
data (scaling, encodings, label maps) happens later, on the training split only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import LayerwiseError
from .dataset import Dataset  # noqa: F401  (the readers' result type, importable from here)


def source_name(source: str) -> str:
    if source.startswith("builtin:"):
        return source.split(":", 1)[1]
    if source.startswith("mnist:"):
        return Path(source.split(":", 1)[1]).name or "mnist"
    return Path(source).stem


def load_source(source: str, target: Optional[list[str]] = None, need_target: bool = True,
                max_bytes: Optional[int] = None, drop_missing_target: bool = False,
                readings: Optional[dict] = None) -> Dataset:
    """Read any source of the grammar. `need_target=False` allows unlabelled tables (predict).
    `max_bytes`: the memory budget for the file's decoded data (default: data/budget.py).
    `readings`: how a trained run reads its table columns (Preprocessor.readings)."""
    if not isinstance(source, str) or not source.strip():
        raise LayerwiseError("data source is empty; expected e.g. builtin:digits or data.csv")
    if source.startswith("builtin:"):
        from .builtin import load_builtin

        return load_builtin(source.split(":", 1)[1])
    if source.startswith("mnist:"):
        return _load_mnist(source.split(":", 1)[1], max_bytes)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npz", ".npy"):
        raise LayerwiseError(
            f"unknown data source '{source}'; expected builtin:NAME, mnist:DIR, or a "
            ".csv/.tsv/.parquet/.npz/.npy file"
        )
    if not path.is_file():
        raise LayerwiseError(f"{source}: file not found")
    if suffix in (".npz", ".npy"):
        from .tables import read_npz, read_npy

        return (read_npz if suffix == ".npz" else read_npy)(path, need_target, max_bytes)
    from .tables import read_table, split_target

    frame = read_table(path, max_bytes, readings)
    return split_target(frame, path, target, need_target, drop_missing_target)


def _load_mnist(directory: str, max_bytes: Optional[int] = None) -> Dataset:
    from .idx import read_mnist_dir

    x, y, x_test, y_test = read_mnist_dir(directory, max_bytes)
    return Dataset(
        name=Path(directory).name or "mnist", X=x, y=y, X_test=x_test, y_test=y_test,
        kind="image", target_names=["label"], pixel_scale=255.0,
        description="MNIST-format IDX images",
    )
