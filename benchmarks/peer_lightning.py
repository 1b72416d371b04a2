"""PyTorch Lightning's Trainer with progress bar, logger, checkpointing and summary off."""

from __future__ import annotations

import logging
import warnings

import torch
from torch.utils.data import DataLoader, TensorDataset

from .torch_parts import EpochClock, build_mlp, loss_fn, optimizer, tensors
from .workloads import Data, Workload

REQUIRES = ("lightning",)


def _module(w: Workload):
    import lightning as L

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net, self.criterion = build_mlp(w), loss_fn(w)

        def training_step(self, batch, batch_idx):
            xb, yb = batch
            return self.criterion(self.net(xb), yb)

        def configure_optimizers(self):
            return optimizer(w, self.parameters())

    return Module()


def _timer(clock: EpochClock):
    import lightning as L

    class EpochTimer(L.Callback):
        def on_train_epoch_start(self, trainer, pl_module):
            clock.start()

        def on_train_epoch_end(self, trainer, pl_module):
            clock.stop()

    return EpochTimer()


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    import lightning as L

    logging.getLogger("lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")  # "few workers", "no val loop"
    x, y = tensors(w, *data.arrays())
    generator = torch.Generator().manual_seed(w.seed)
    loader = DataLoader(TensorDataset(x, y), batch_size=w.batch, shuffle=True, generator=generator)
    clock = EpochClock(device)
    trainer = L.Trainer(accelerator="gpu" if device.startswith("cuda") else "cpu", devices=1,
                        max_epochs=epochs, enable_progress_bar=False, logger=False,
                        enable_checkpointing=False, enable_model_summary=False,
                        callbacks=[_timer(clock)])
    trainer.fit(_module(w), loader)
    return clock.seconds
