"""layerwise itself, through its public `layerwise.train(config, data=(X, y), ...)`.

Epochs are timed by a layerwise Callback from its epoch-begin to its epoch-end hook, like the
Keras, Lightning and skorch rows: that span includes layerwise's end-of-epoch bookkeeping (train
loss, history, early-stopping state), about 50 us per epoch on this CPU, which the run's own
`history[i]["epoch_seconds"]` (the batch loop only) leaves out and which is most of a W4 step.
It also synchronises the GPU. `repeat` (W5) takes no callbacks, so there the row sums the
copies' own `epoch_seconds`.
"""

from __future__ import annotations

import inspect
import tempfile

from .runner import NotAvailable
from .torch_parts import EpochClock
from .workloads import Data, Workload

REQUIRES = ("layerwise",)
MULTI_MODEL = True  # W5 uses layerwise's own `repeat=`, not 64 sequential runs


def config(w: Workload, device: str, epochs: int) -> dict:
    training = {"epochs": epochs, "batch_size": w.batch_size, "optimizer": w.optimizer,
                "lr": w.lr, "seed": w.seed, "device": device, "early_stopping": False}
    if w.optimizer == "sgd":
        training["momentum"] = w.momentum
    if w.threads:
        training["threads"] = w.threads
    # preset plain: exactly this network and optimizer, as every peer trains (auto would add its
    # recipe: embeddings, dropout, weight decay, a schedule)
    cfg = {"preset": "plain", "network": {"hidden": list(w.hidden), "activation": "relu"}, "task": w.task,
           "training": training, "data": {"val_split": 0.0, "test_split": 0.0}}
    if w.task == "regression":
        cfg["loss"] = "mse"
    return cfg


def _clock_callback(clock: EpochClock):
    from layerwise.training.callbacks import Callback

    class EpochTimer(Callback):
        def on_epoch_begin(self, trainer, epoch):
            clock.start()

        def on_epoch_end(self, trainer, epoch, logs):
            clock.stop()

    return EpochTimer()


def _run(layerwise, w: Workload, data: Data, device: str, epochs: int, extra: dict):
    cfg, arrays = config(w, device, epochs), None
    if data.files:  # W3: layerwise's own .npy source (memory-mapped X.npy, y.npy beside it)
        cfg["data"]["source"] = str(data.files[0])
    else:
        arrays = data.arrays()
    # a scratch run directory: layerwise always writes one, and the repo should stay clean
    with tempfile.TemporaryDirectory(prefix="bench-layerwise-") as out:
        return layerwise.train(cfg, data=arrays, out=out, quiet=True, **extra)


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    import layerwise

    if not hasattr(layerwise, "train"):
        raise NotAvailable("layerwise.train is not there yet")
    accepts = inspect.signature(layerwise.train).parameters
    if w.models > 1:
        if "repeat" not in accepts:
            raise NotAvailable("layerwise.train has no `repeat`")
        runs = _run(layerwise, w, data, device, epochs, {"repeat": w.models})
        # each copy's epoch_seconds is its 1/N share of the joint epoch
        return [sum(run.history[e]["epoch_seconds"] for run in runs)
                for e in range(len(runs[0].history))]
    if "callbacks" not in accepts:  # an older core: its own batch-loop seconds
        run = _run(layerwise, w, data, device, epochs, {})
        return [float(epoch["epoch_seconds"]) for epoch in run.history]
    clock = EpochClock(device)
    _run(layerwise, w, data, device, epochs, {"callbacks": [_clock_callback(clock)]})
    return clock.seconds
