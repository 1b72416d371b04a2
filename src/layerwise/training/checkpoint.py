"""Full-state checkpoints, and the callbacks that persist progress while training runs.

A checkpoint is one safetensors file: every tensor (model, optimizer moments, the best weights
kept by early stopping, RNG states, the current epoch's batch losses) as a named tensor, and
everything else (epoch, step, optimizer hyper-parameters, scheduler, early-stopping counters,
Python/NumPy RNG states, the history so far) as JSON in the file's metadata. No pickle anywhere:
loading it cannot run code. It is written atomically, so a kill at any moment leaves either the
previous checkpoint or the new one.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import artifacts
from .._version import __version__
from ..errors import LayerwiseError
from .callbacks import Callback

CHECKPOINT = artifacts.CHECKPOINT
CHECKPOINT_FORMAT = "layerwise-checkpoint-1"

# Epoch-end writes happen at most this often (and always after the last epoch). Tiny networks
# finish an epoch in ~0.1 ms; serialising the state after each one made their steps 2-3x slower
# (cold caches), while a crash loses at most this much work: resuming replays the epochs since
# the last checkpoint, bit for bit, because the data order and RNG states are restored.
MIN_WRITE_INTERVAL = 1.0  # seconds


class MetricsWriter(Callback):
    """Rewrite metrics.csv (atomically) after every epoch, so a crashed run keeps its history."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.throttle = _Throttle()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.throttle.due(trainer, epoch):
            artifacts.write_metrics_csv(self.run_dir / artifacts.METRICS, trainer.history)


class Checkpointer(Callback):
    """Save the full training state after every epoch and every `every_steps` steps (0 = off)."""

    def __init__(self, run_dir: Path, early_stopping, every_steps: int = 0):
        self.path = Path(run_dir) / CHECKPOINT
        self.early_stopping, self.every_steps = early_stopping, every_steps
        self.throttle = _Throttle()

    def on_step_end(self, trainer, epoch, step):
        if self.every_steps and step % self.every_steps == 0 and step < len(trainer.batches):
            save_checkpoint(self.path, trainer, self.early_stopping, epoch=epoch, step=step)

    def on_epoch_end(self, trainer, epoch, logs):
        if self.throttle.due(trainer, epoch):
            save_checkpoint(self.path, trainer, self.early_stopping, epoch=epoch, step=0)


class _Throttle:
    """Due at the first epoch, after MIN_WRITE_INTERVAL, at the last epoch and when stopping."""

    def __init__(self):
        self.last = None

    def due(self, trainer, epoch: int) -> bool:
        now = time.monotonic()
        final = trainer.stop_training or epoch >= trainer.epochs
        if self.last is None or final or now - self.last >= MIN_WRITE_INTERVAL:
            self.last = now
            return True
        return False


def _rng_state() -> tuple[dict[str, Any], dict[str, Any]]:
    import torch

    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = state
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(keys.astype(np.int64))
    return tensors, {"numpy": [kind, int(pos), int(has_gauss), float(gauss)],
                     "python": _to_json(random.getstate())}


def _to_json(value):
    return [_to_json(v) for v in value] if isinstance(value, (tuple, list)) else value


def _set_rng_state(tensors: dict, meta: dict) -> None:
    import torch

    torch.set_rng_state(tensors["rng.torch"])
    cuda = sorted(k for k in tensors if k.startswith("rng.cuda."))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
    kind, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state((kind, tensors["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = meta["python"]
    random.setstate((version, tuple(internal), gauss_next))


def _split_optimizer(optimizer) -> tuple[dict, dict]:
    """Optimizer state_dict -> (named tensors, JSON-able rest)."""
    import torch

    state = optimizer.state_dict()
    tensors, plain = {}, {}
    for index, slots in state["state"].items():
        for name, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{name}"] = value
            else:
                plain[f"{index}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "plain": plain}


def _join_optimizer(tensors: dict, meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for key, value in meta["plain"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(path: Path, trainer, early_stopping, epoch: int, step: int) -> None:
    """`epoch`, `step`: the position reached (step 0 = epoch finished)."""
    from safetensors.torch import save

    tensors = {f"model.{k}": v for k, v in trainer.model.state_dict().items()}
    optim_tensors, optim_meta = _split_optimizer(trainer.optimizer)
    tensors.update(optim_tensors)
    stopping = early_stopping.state_dict()
    for key, value in (stopping.pop("best_state") or {}).items():
        tensors[f"best.{key}"] = value
    if step:
        tensors["epoch.step_losses"] = trainer.step_losses
    rng_tensors, rng_meta = _rng_state()
    tensors.update(rng_tensors)
    ranks = getattr(trainer, "rank_states", None) or []  # DDP: every rank's (tensors, meta), see RankStates
    for rank, (rank_tensors, _) in enumerate(ranks[1:], start=1):
        tensors.update({f"rank{rank}.{key}": value for key, value in rank_tensors.items()})
    meta = {"format": CHECKPOINT_FORMAT, "layerwise_version": __version__, "epoch": epoch, "step": step,
            "world_size": len(ranks) or 1, "ranks": [rank_meta for _, rank_meta in ranks],
            "skipped": trainer.skipped, "optimizer": optim_meta, "rng": rng_meta,
            "scheduler": trainer.scheduler.state_dict() if trainer.scheduler is not None else None,
            "early_stopping": stopping, "history": trainer.history, "stop_training": trainer.stop_training}
    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    artifacts.atomic_write_bytes(path, save(cpu, metadata={"state": json.dumps(meta, allow_nan=True)}))


def load_checkpoint(path: Path) -> tuple[dict, dict]:
    """(tensors, meta) with a clear error for a missing, truncated or foreign file."""
    from safetensors import safe_open

    if not path.is_file():
        raise LayerwiseError(f"{path}: no checkpoint to resume from")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})["state"])
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:  # safetensors/json raise several types for damaged files
        raise LayerwiseError(f"{path}: checkpoint is corrupt or truncated ({type(exc).__name__})") from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise LayerwiseError(f"{path}: not a layerwise checkpoint (format {meta.get('format')!r})")
    return tensors, meta


def restore(trainer, early_stopping, tensors: dict, meta: dict) -> tuple[int, int]:
    """Put the trainer back where the checkpoint left it; returns (start_epoch, start_step)."""
    device = next(trainer.model.parameters()).device
    try:
        trainer.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        trainer.optimizer.load_state_dict(_join_optimizer(tensors, meta["optimizer"]))
        if trainer.scheduler is not None and meta["scheduler"] is not None:
            trainer.scheduler.load_state_dict(meta["scheduler"])
        best = {k[5:]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
        early_stopping.load_state_dict({**meta["early_stopping"], "best_state": best or None})
    except (RuntimeError, KeyError, ValueError) as exc:
        raise LayerwiseError(f"checkpoint does not match this run's network or optimizer ({str(exc)[:120]})") from None
    trainer.history = meta["history"]
    trainer.stop_training = meta.get("stop_training", False)
    trainer.skipped = meta.get("skipped", 0)
    _set_rng_state(tensors, meta["rng"])
    epoch, step = meta["epoch"], meta["step"]
    if step:
        trainer.step_losses = tensors["epoch.step_losses"].to(device)
        return epoch, step
    return epoch + 1, 0
