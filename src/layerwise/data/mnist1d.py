"""MNIST-1D (Greydanus & Kobak, 2020): ten digit templates drawn as 40-point 1-D signals, padded,
shifted, sheared, scaled and noised, so that a small conv net reaches ~0.9 where a dense net
stays near 0.6. 4,000 training and 1,000 test signals, as the package's default arguments make them.

The data is generated on this machine by the `mnist1d` package (`pip install 'layerwise[mnist1d]'`)
with its own `make_dataset(get_dataset_args())`, seed 42: nothing is downloaded (its pickled copy
on the web is never read). Generating takes about a second; the arrays are cached as an .npz under
the user's cache directory ($LAYERWISE_CACHE, else $XDG_CACHE_HOME/layerwise, else ~/.cache/layerwise).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import LayerwiseError
from .dataset import Dataset

DESCRIPTION = "MNIST-1D: 40-point 1-D signals of 10 digits (4,000 train / 1,000 test)"
CACHE_NAME = "mnist1d-default-seed42.npz"  # the package's default arguments; bump if they change
SHAPES = {"x": (4000, 40), "y": (4000,), "x_test": (1000, 40), "y_test": (1000,)}


def load_mnist1d() -> Dataset:
    arrays = _cached() or _generate()
    return Dataset(name="mnist1d", X=arrays["x"], y=arrays["y"], X_test=arrays["x_test"], y_test=arrays["y_test"],
                   kind="array", target_names=["digit"], task="multiclass", description=DESCRIPTION)


def write_npz(directory: str | Path) -> Path:
    """DIR/mnist1d.npz with arrays x, y, x_test, y_test (for `--data DIR/mnist1d.npz`)."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LayerwiseError(f"{directory}: cannot create the folder ({error.strerror or error})") from None
    arrays = _cached() or _generate()
    path = directory / "mnist1d.npz"
    try:
        _write(path, arrays)
    except OSError as error:
        raise LayerwiseError(f"{path}: cannot write ({error.strerror or error})") from None
    return path


def cache_dir() -> Path:
    if os.environ.get("LAYERWISE_CACHE"):
        return Path(os.environ["LAYERWISE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "layerwise"


def _cached() -> dict | None:
    path = cache_dir() / CACHE_NAME
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in SHAPES}
    except (OSError, ValueError, KeyError, EOFError):
        return None  # absent or damaged: generate again
    if any(arrays[key].shape != shape for key, shape in SHAPES.items()):
        return None
    return arrays


def _generate() -> dict:
    import random

    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise LayerwiseError("builtin:mnist1d needs the mnist1d package: pip install 'layerwise[mnist1d]'") from None
    # make_dataset seeds NumPy's and Python's global generators; leave the caller's as they were
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        made = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    arrays = {"x": made["x"].astype(np.float32), "y": made["y"].astype(np.int64),
              "x_test": made["x_test"].astype(np.float32), "y_test": made["y_test"].astype(np.int64)}
    _save(arrays)
    return arrays


def _save(arrays: dict) -> None:
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        _write(cache_dir() / CACHE_NAME, arrays)
    except OSError:
        pass  # a read-only home: generate again next time


def _write(path: Path, arrays: dict) -> None:
    import io

    from ..artifacts import atomic_write_bytes

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
