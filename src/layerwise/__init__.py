"""layerwise: define, train, inspect and use feed-forward neural networks, on PyTorch.

    import layerwise
    run = layerwise.train({"data": {"source": "builtin:digits"}, "network": {"hidden": [100, 50]}})
    predictor = layerwise.load(run.dir)
    predictor.predict(rows)

Importing this package is cheap: torch, pandas and matplotlib load on first use.
"""

from ._version import __version__
from .errors import LayerwiseError

__all__ = ["__version__", "LayerwiseError", "RunConfig", "Run", "Predictor", "train", "fit", "resume", "load",
           "load_source", "explain", "draw"]

_LAZY = {
    "RunConfig": ("spec", "RunConfig"),
    "Run": ("run", "Run"),
    "train": ("run", "train"),
    "fit": ("run", "fit"),
    "resume": ("run", "resume"),
    "Predictor": ("predictor", "Predictor"),
    "load": ("predictor", "load"),
    "load_source": ("data.sources", "load_source"),
    "explain": ("explain", "explain"),
    "draw": ("explain", "draw"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'layerwise' has no attribute {name!r}")
