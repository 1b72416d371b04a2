"""The Python API's extension points: callbacks see every epoch and can stop the loop."""

from __future__ import annotations

import layerwise
from layerwise.training.callbacks import Callback


class Recorder(Callback):
    def __init__(self, stop_at: int):
        self.stop_at, self.seen, self.began, self.ended = stop_at, [], 0, 0

    def on_train_begin(self, trainer):
        self.began += 1

    def on_epoch_end(self, trainer, epoch, logs):
        self.seen.append((epoch, logs["train_loss"]))
        if epoch == self.stop_at:
            trainer.stop_training = True

    def on_train_end(self, trainer, logs):
        self.ended += 1


def test_callbacks_see_each_epoch_and_can_stop_training(tmp_path):
    recorder = Recorder(stop_at=3)
    run = layerwise.train({"data": {"source": "builtin:iris"}, "training": {"epochs": 10}},
                          out=tmp_path / "run", quiet=True, callbacks=[recorder])
    assert [epoch for epoch, _ in recorder.seen] == [1, 2, 3]
    assert [loss for _, loss in recorder.seen] == [row["train_loss"] for row in run.history]
    assert (recorder.began, recorder.ended) == (1, 1)
    assert run.summary["epochs_run"] == 3
