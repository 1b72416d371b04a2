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


def test_repeat_copies_run_through_the_same_loop_and_callbacks(tmp_path):
    """`repeat=N` trains in the one loop: callbacks see each epoch once (the copies' mean, each
    copy's own row under "members"), can stop every copy, and each copy's history is its rows."""
    recorder = Recorder(stop_at=2)
    rows = []
    recorder.on_epoch_begin = lambda trainer, epoch: rows.append(epoch)
    copies = layerwise.train({"data": {"source": "builtin:iris"}, "network": {"hidden": [4]},
                              "training": {"epochs": 10}},
                             out=tmp_path / "many", quiet=True, repeat=3, callbacks=[recorder])
    assert [epoch for epoch, _ in recorder.seen] == [1, 2] and rows == [1, 2]
    assert (recorder.began, recorder.ended) == (1, 1)
    assert len(copies) == 3
    for epoch, mean in recorder.seen:
        own = [copy.history[epoch - 1]["train_loss"] for copy in copies]
        assert abs(mean - sum(own) / 3) < 1e-12
    assert len({copy.history[0]["train_loss"] for copy in copies}) == 3  # three seeds, three losses
    for copy in copies:
        assert copy.summary["epochs_run"] == 2 and [r["epoch"] for r in copy.history] == [1, 2]
        assert "members" not in copy.history[0]
