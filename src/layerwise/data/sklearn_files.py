"""scikit-learn's bundled toy datasets, read straight from the files it ships.

`import sklearn.datasets` costs ~0.9 s (it pulls in scipy and most of scikit-learn) for tables of
a few hundred rows. The CSV files sit in the installed package's `datasets/data` folder; reading
them here, with the same parsing as scikit-learn's own loaders, gives identical arrays
(tests/test_builtin_files.py checks that against `sklearn.datasets`) at a fraction of the cost.
The package is located with `find_spec`, which does not execute `sklearn/__init__.py`.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import LayerwiseError


@dataclass
class ToyData:
    """What the builtin loader needs from a toy set (the subset of sklearn's Bunch it used)."""

    data: np.ndarray  # float64 (rows, features)
    target: np.ndarray  # int64 labels or float64 values
    feature_names: list[str]
    target_names: Optional[np.ndarray] = None  # class names, classification only
    images: Optional[np.ndarray] = None  # digits: (rows, 8, 8)


_IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
_WINE = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
         "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
         "od280/od315_of_diluted_wines", "proline"]
_CANCER_PARTS = ["radius", "texture", "perimeter", "area", "smoothness", "compactness",
                 "concavity", "concave points", "symmetry", "fractal dimension"]
_CANCER = ([f"mean {p}" for p in _CANCER_PARTS] + [f"{p} error" for p in _CANCER_PARTS]
           + [f"worst {p}" for p in _CANCER_PARTS])
_DIABETES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def data_folder() -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise LayerwiseError("the built-in datasets digits/iris/wine/breast_cancer/diabetes come "
                             "with scikit-learn, which is not installed (pip install scikit-learn)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def load_toy(name: str) -> ToyData:
    if name == "digits":
        return _digits()
    if name == "diabetes":
        return _diabetes()
    file, features = {"iris": ("iris.csv", _IRIS), "wine": ("wine_data.csv", _WINE),
                      "breast_cancer": ("breast_cancer.csv", _CANCER)}[name]
    data, target, target_names = _labelled_csv(data_folder() / file)
    return ToyData(data, target, features, target_names=target_names)


def _labelled_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's `load_csv_data` format: a header `rows,features,class names...`, then rows of
    features followed by an integer label."""
    with path.open("r", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows, features = int(header[0]), int(header[1])
        target_names = np.array(header[2:])
        data = np.empty((rows, features))
        target = np.empty((rows,), dtype=int)
        for i, row in enumerate(reader):
            data[i] = np.asarray(row[:-1], dtype=np.float64)
            target[i] = np.asarray(row[-1], dtype=int)
    return data, target, target_names


def _gzip_table(path: Path, **kwargs) -> np.ndarray:
    with path.open("rb") as raw, gzip.open(raw, mode="rt", encoding="utf-8") as text:
        return np.loadtxt(text, **kwargs)


def _digits() -> ToyData:
    table = _gzip_table(data_folder() / "digits.csv.gz", delimiter=",")
    target = table[:, -1].astype(int, copy=False)
    flat = table[:, :-1]
    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    return ToyData(flat, target, names, target_names=np.arange(10), images=flat.reshape(-1, 8, 8))


def _diabetes() -> ToyData:
    """The scaled variant `load_diabetes()` returns: each column centred, divided by its standard
    deviation and by sqrt(rows) (the same operations, in the same order, as `sklearn.preprocessing
    .scale` followed by `/= rows ** 0.5`)."""
    folder = data_folder()
    data = _gzip_table(folder / "diabetes_data_raw.csv.gz")
    target = _gzip_table(folder / "diabetes_target.csv.gz")
    mean, std = np.nanmean(data, axis=0), np.nanstd(data, axis=0)
    data -= mean
    centred_mean = np.nanmean(data, axis=0)
    if not np.allclose(centred_mean, 0):
        data -= centred_mean
    std[std < 10 * np.finfo(std.dtype).eps] = 1.0
    data /= std
    scaled_mean = np.nanmean(data, axis=0)
    if not np.allclose(scaled_mean, 0):
        data -= scaled_mean
    data /= data.shape[0] ** 0.5
    return ToyData(data, target, list(_DIABETES))
