"""Keras 3 on its torch backend: Sequential + compile + fit(verbose=0).

The backend and its device are chosen by environment variables read at import, so they are set
here, before the first `import keras` of the process.
"""

from __future__ import annotations

import os

from .torch_parts import EpochClock
from .workloads import Data, Workload

REQUIRES = ("keras",)


def _model(w: Workload):
    import keras

    keras.utils.set_random_seed(w.seed)
    layers = [keras.Input((w.features,))]
    layers += [keras.layers.Dense(n, activation="relu") for n in w.hidden]
    layers.append(keras.layers.Dense(w.outputs))
    model = keras.Sequential(layers)
    if w.optimizer == "adam":
        opt = keras.optimizers.Adam(learning_rate=w.lr)
    else:
        opt = keras.optimizers.SGD(learning_rate=w.lr, momentum=w.momentum)
    loss = {"multiclass": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "binary": keras.losses.BinaryCrossentropy(from_logits=True),
            "regression": keras.losses.MeanSquaredError()}[w.task]
    model.compile(optimizer=opt, loss=loss)
    return model


def _timer(clock: EpochClock):
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock.start()

        def on_epoch_end(self, epoch, logs=None):
            clock.stop()

    return EpochTimer()


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    os.environ["KERAS_BACKEND"] = "torch"
    os.environ["KERAS_TORCH_DEVICE"] = device  # else Keras takes the GPU whenever one exists
    x, y = data.arrays()
    clock = EpochClock(device)
    _model(w).fit(x, y, batch_size=w.batch, epochs=epochs, shuffle=True, verbose=0,
                  callbacks=[_timer(clock)])
    return clock.seconds
