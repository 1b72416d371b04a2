"""layerwise itself, through its public `layerwise.train(config, data=(X, y))`.

The timings are the run's own `history[i]["epoch_seconds"]` (the training pass only), so the
row measures the same span as the peers' epoch clocks.
"""

from __future__ import annotations

import tempfile

from .runner import NotAvailable
from .workloads import Data, Workload

REQUIRES = ("layerwise",)
MULTI_MODEL = True  # W5 uses layerwise's own `repeat`, not 64 sequential runs


def config(w: Workload, device: str, epochs: int) -> dict:
    training = {"epochs": epochs, "batch_size": w.batch_size, "optimizer": w.optimizer,
                "lr": w.lr, "seed": w.seed, "device": device, "early_stopping": False}
    if w.optimizer == "sgd":
        training["momentum"] = w.momentum
    if w.models > 1:
        training["repeat"] = w.models
    cfg = {"network": {"hidden": list(w.hidden), "activation": "relu"}, "task": w.task,
           "training": training, "data": {"val_split": 0.0, "test_split": 0.0}}
    if w.task == "regression":
        cfg["loss"] = "mse"
    return cfg


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    import layerwise

    if not hasattr(layerwise, "train"):
        raise NotAvailable("layerwise.train is not there yet")
    cfg, arrays = config(w, device, epochs), None
    if data.files:  # W3: layerwise's own .npy source (memory-mapped X.npy, y.npy beside it)
        cfg["data"]["source"] = str(data.files[0])
    else:
        arrays = data.arrays()
    try:
        # a scratch run directory: layerwise always writes one, and the repo should stay clean
        with tempfile.TemporaryDirectory(prefix="bench-layerwise-") as out:
            run = layerwise.train(cfg, data=arrays, out=out, quiet=True)
    except Exception as error:  # only a rejected `repeat` is "not available"; the rest is a bug
        if w.models > 1 and "repeat" in str(error):
            raise NotAvailable(f"repeat rejected: {error}") from error
        raise
    return [float(epoch["epoch_seconds"]) for epoch in run.history]
