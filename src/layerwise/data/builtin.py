"""Built-in datasets: scikit-learn's bundled sets (offline), the seeds' own small data, and
MNIST-1D generated offline by the optional `mnist1d` package (data/mnist1d.py)."""

from __future__ import annotations

import numpy as np

from ..errors import LayerwiseError
from .dataset import Dataset

# Seed 3 (linear regression): inputs temp, rainfall, humidity -> targets apples, oranges.
# The tutorial repeats its 5 distinct rows three times; we keep the 15 rows as printed.
_APPLES_X = [[73, 67, 43], [91, 88, 64], [87, 134, 58], [102, 43, 37], [69, 96, 70]] * 3
_APPLES_Y = [[56, 70], [81, 101], [119, 133], [22, 37], [103, 119]] * 3

# Seed 4 ("given three numbers, output their sum").
_SUM3_X = [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [3.0, 4.0, 5.0]]
_SUM3_Y = [6.0, 9.0, 12.0]

# name -> (scikit-learn's loader, task, one-line description); read from its files directly
_SKLEARN = {
    "digits": ("load_digits", "multiclass", "8x8 handwritten digits, 10 classes"),
    "iris": ("load_iris", "multiclass", "iris flowers, 4 measurements, 3 species"),
    "wine": ("load_wine", "multiclass", "wine chemistry, 13 features, 3 cultivars"),
    "breast_cancer": ("load_breast_cancer", "binary", "breast cancer diagnosis, 30 features"),
    "diabetes": ("load_diabetes", "regression", "diabetes progression, 10 features"),
}
_SEEDS = {
    "apples_oranges": ("regression", "seed 3: crop yields from temp/rainfall/humidity, 2 targets"),
    "sum3": ("regression", "seed 4: three numbers -> their sum"),
}
_GENERATED = {"mnist1d": (5000, 40, "multiclass")}  # rows (train + test), features, task; needs an extra


def builtin_names() -> list[str]:
    return [*_SKLEARN, *_SEEDS, *_GENERATED]


def describe_builtins() -> list[dict]:
    """Name, rows, features, task and description of every built-in (for `layerwise datasets`)."""
    rows = []
    for name in builtin_names():
        if name in _GENERATED:  # listed without generating it (and without its package)
            from .mnist1d import DESCRIPTION

            count, features, task = _GENERATED[name]
            rows.append({"name": name, "rows": count, "features": features, "task": task,
                         "description": f"{DESCRIPTION}; needs layerwise[mnist1d]"})
            continue
        data = load_builtin(name)
        features = int(np.prod(data.X.shape[1:]))
        rows.append({"name": name, "rows": len(data), "features": features,
                     "task": data.task, "description": data.description})
    return rows


def load_builtin(name: str) -> Dataset:
    if name in _SKLEARN:
        return _load_sklearn(name)
    if name == "mnist1d":
        from .mnist1d import load_mnist1d

        return load_mnist1d()
    if name == "apples_oranges":
        import pandas as pd

        X = pd.DataFrame(np.array(_APPLES_X, dtype="float32"), columns=["temp", "rainfall", "humidity"])
        return Dataset(name=name, X=X, y=np.array(_APPLES_Y, dtype="float32"), kind="table",
                       target_names=["apples", "oranges"], task="regression",
                       description=_SEEDS[name][1])
    if name == "sum3":
        import pandas as pd

        X = pd.DataFrame(np.array(_SUM3_X, dtype="float32"), columns=["a", "b", "c"])
        return Dataset(name=name, X=X, y=np.array(_SUM3_Y, dtype="float32"), kind="table",
                       target_names=["sum"], task="regression", description=_SEEDS[name][1])
    raise LayerwiseError(f"unknown built-in dataset '{name}'; expected one of {', '.join(builtin_names())}")


def _load_sklearn(name: str) -> Dataset:
    from .sklearn_files import load_toy

    _, task, description = _SKLEARN[name]
    bunch = load_toy(name)
    if name == "digits":
        # Pixels are 0..16 intensities; kept as 8x8 images so they are scaled to [0, 1].
        return Dataset(name=name, X=bunch.images.astype("float32"), y=bunch.target, kind="image",
                       target_names=["digit"], pixel_scale=16.0, task=task, description=description)
    import pandas as pd

    X = pd.DataFrame(bunch.data, columns=[str(c) for c in bunch.feature_names])
    y = bunch.target
    if task != "regression" and bunch.target_names is not None:
        y = np.asarray(bunch.target_names)[bunch.target]  # string labels, mapped back on predict
    return Dataset(name=name, X=X, y=y, kind="table", target_names=["target"], task=task,
                   description=description)
