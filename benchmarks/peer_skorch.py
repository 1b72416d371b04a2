"""skorch's NeuralNetClassifier / NeuralNetRegressor with its defaults, no validation split."""

from __future__ import annotations

import torch

from .torch_parts import EpochClock, build_mlp, loss_fn
from .workloads import Data, Workload

REQUIRES = ("skorch",)


def _timer(clock: EpochClock):
    from skorch.callbacks import Callback

    class EpochTimer(Callback):
        def on_epoch_begin(self, net, **kwargs):
            clock.start()

        def on_epoch_end(self, net, **kwargs):
            clock.stop()

    return EpochTimer()


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    from skorch import NeuralNetClassifier, NeuralNetRegressor

    x, y = data.arrays()
    if w.task == "binary":
        y = y.reshape(-1, 1)  # BCEWithLogitsLoss wants (rows, 1) like the logits
    kind = NeuralNetClassifier if w.task == "multiclass" else NeuralNetRegressor
    clock = EpochClock(device)
    optimizer = torch.optim.Adam if w.optimizer == "adam" else torch.optim.SGD
    extra = {"optimizer__momentum": w.momentum} if w.optimizer == "sgd" else {}
    net = kind(build_mlp(w), criterion=type(loss_fn(w)), optimizer=optimizer, lr=w.lr,
               batch_size=w.batch, max_epochs=epochs, train_split=None, device=device,
               iterator_train__shuffle=True, verbose=0, callbacks=[_timer(clock)], **extra)
    torch.manual_seed(w.seed)  # skorch's DataLoader shuffles with the global generator
    net.fit(x, y)
    return clock.seconds
