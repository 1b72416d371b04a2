"""One training session: the model (or a group of copies), optimizer, data on the device and the
one loop, wired together from a `RunConfig` and `Prepared` data. A single run, a resumed run, a
DDP rank and `--repeat N` copies all train through here and through `Trainer.fit`."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import task_metrics
from ..model import build_model, initialise
from ..spec import RunConfig
from .batches import ResidentBatches, to_device_tensors
from .callbacks import EarlyStopping, Progress, resolve_monitor
from .loop import Trainer, predict_outputs
from .optim import make_loss, make_optimizer, make_scheduler
from .threads import available_cpus, choose_threads, torch_threads


class TrainingSession:
    def __init__(self, config: RunConfig, prepared, device: str, group=None, copies: int = 0,
                 ensemble: int = 0):
        """group: a `distributed.Group` when this process is one rank of a DDP job (device is then
        the group's), else None. copies: 0 trains one network; N >= 2 trains N copies at once
        (seeds seed, seed+1, ...; `copies.py`). ensemble: K >= 2 trains K members as one model
        of kind `training.ensemble_kind` (ensemble.py; independent members are copies)."""
        import torch

        self.config, self.prepared, self.device, self.group = config, prepared, device, group
        spec = config.training
        shared = ensemble > 1 and not spec.stacked_members()
        self.holdout = None  # bagging: (rows, (K, rows) mask) of the members' own validation rows
        if ensemble > 1 and spec.ensemble_kind == "bagging":
            from .bagging import holdout_mask, member_splits

            self.member_rows = member_splits(prepared, ensemble, config.data.val_split, config.seed_of_splits())
            self.holdout = holdout_mask(self.member_rows)
        self.copies = ensemble if ensemble > 1 and not shared else copies
        copies = self.copies
        if copies:
            self.model = None  # built with the batches below, copy by copy
        elif shared:
            from ..layers.ensemble import shared_ensemble

            network = shared_ensemble(self._network(spec.seed), ensemble, prepared.task, spec.ensemble_kind)
            self.model = network.to(device)
        else:
            self.model = self._network(spec.seed)
        if group is not None and group.rank:
            torch.manual_seed(spec.seed + group.rank)  # same initial weights, own dropout masks
        X, y = to_device_tensors(prepared.features, prepared.targets, device)
        train_rows = torch.from_numpy(prepared.train_idx).to(device)
        if copies:
            self.model, self.batches = self._copies(X, y, train_rows)
        else:
            weights = None if prepared.weights is None else torch.from_numpy(prepared.weights).to(device)
            self.batches = ResidentBatches(X, y, train_rows, spec.batch_size, spec.shuffle, spec.seed, weights=weights)
        weights = prepared.class_weights  # resolved with the config (resolve.py)
        self.loss_fn = make_loss(prepared.loss, None if weights is None else torch.from_numpy(weights).to(device),
                                 spec.label_smoothing if prepared.task != "regression" else 0.0)
        if group is not None:
            self.batches = self._shard(group)
        self.optimizer = make_optimizer(spec, self.model.parameters(), torch.device(device).type)
        self.scheduler, self.schedule_when = make_scheduler(spec, self.optimizer, len(self.batches))
        val = prepared.split("val")
        if self.holdout is not None:  # every row some member held out, judged out of fold
            val = prepared.features[self.holdout[0]], prepared.targets[self.holdout[0]]
        self.val = None if val is None else to_device_tensors(val[0], val[1], device)
        monitor = resolve_monitor(spec, prepared.task, self.val is not None)
        self.early_stopping = EarlyStopping(monitor, spec.early_stopping.patience,
                                            spec.early_stopping.min_delta, spec.early_stopping.enabled)
        trainer_class = Trainer
        if shared:
            from .members import SharedEnsembleTrainer as trainer_class
        elif self.holdout is not None:
            from .members import BaggedTrainer as trainer_class
        elif ensemble > 1:
            from .members import CopiesEnsembleTrainer as trainer_class
        elif copies:
            from .copies import CopiesTrainer as trainer_class
        self.trainer = trainer_class(self.model, self.loss_fn, self.optimizer, self.batches, task=prepared.task,
                                     val=self.val, scheduler=self.scheduler, schedule_when=self.schedule_when,
                                     grad_clip=spec.grad_clip, monitor=monitor, on_nan=spec.on_nan,
                                     precision=spec.precision, callbacks=[self.early_stopping])
        if self.holdout is not None:
            self.trainer.holdout = torch.from_numpy(self.holdout[1]).to(device)
        if group is not None:
            self._join_ranks(group)
        self.start = (1, 0)  # (epoch, step) to start from; moved by `restore`
        if spec.log:  # a missing optional package stops the run before its directory exists
            from .loggers import check_available

            check_available(spec.log)
        self._threads = None  # chosen on first use (`threads`), after the model exists

    @property
    def threads(self) -> int:
        """CPU threads this run trains with; on resume, the count the run started with (results
        depend on it in the last bits)."""
        if self._threads is None:
            spec, recorded = self.config.training, (self.config.resolved or {}).get("threads")
            batch_rows = spec.batch_size or max(len(self.prepared.train_idx), 1)
            if recorded:
                self._threads = int(recorded)
            elif self.group is not None and not spec.threads:  # DDP: this machine's ranks share its CPUs
                self._threads = max(1, available_cpus() // self.group.local_world_size)
            else:
                self._threads = choose_threads(spec.threads, self.model, batch_rows)
        return self._threads

    def _network(self, seed: int):
        import torch

        torch.manual_seed(seed)  # the initial weights are a function of the seed alone
        model = build_model(self.prepared.arch)
        initialise(model, self.config.network, self.prepared.arch)
        return model.to(self.device)

    def _copies(self, X, y, train_rows):
        import torch

        from .copies import CopiesBatches, stacked_module

        spec = self.config.training
        seeds = [spec.seed + i for i in range(self.copies)]
        randomness = "different" if spec.ensemble > 1 else "error"  # an ensemble's dropout: a mask per member
        model = stacked_module([self._network(seed) for seed in seeds], randomness)  # seed by seed, like single runs
        rows = [train_rows] * self.copies if self.holdout is None else \
            [torch.from_numpy(train).to(train_rows.device) for train, _ in self.member_rows]  # bagging: each its own
        batches = CopiesBatches([ResidentBatches(X, y, member_rows, spec.batch_size, spec.shuffle, seed)
                                 for member_rows, seed in zip(rows, seeds)])
        return model, batches

    def member(self, index: int):
        """(network, its own history, its best epoch) of copy `index` after `fit`."""
        from .copies import member_history

        model = build_model(self.prepared.arch)
        model.load_state_dict(self.model.member_state(index))
        history = member_history(self.trainer.history, index)
        return model.to(self.device), history, self.early_stopping.best_epochs[index] or len(history)

    def _shard(self, group):
        from .ddp import ShardedBatches, loss_class_weights

        return ShardedBatches(self.batches, group, loss_class_weights(self.loss_fn), self.prepared.held)

    def _join_ranks(self, group) -> None:
        """DDP: the training forward pass through DistributedDataParallel, rank 0's early-stopping
        decision on every rank, and every rank's state gathered for rank 0's checkpoints."""
        from .ddp import AgreeOnStop, RankStates, wrap_model

        self.trainer.train_model = wrap_model(self.model, group)
        self.trainer.group = group
        self.trainer.val_held = self.prepared.held is not None and self.prepared.val is None
        # what each rank holds of the source's feature rows (summary.json): all, or its shard
        self.rank_rows = group.gather(int(len(self.batches.X)))
        self.trainer.add_callback(AgreeOnStop(group))
        self.trainer.add_callback(RankStates(group, self.config.training.checkpoint_every))

    def restore(self, run_dir: Path) -> None:
        """Continue from the run directory's checkpoint (same data, same config)."""
        from .checkpoint import CHECKPOINT, load_checkpoint, restore

        path = Path(run_dir) / CHECKPOINT
        from .ddp import rank_view

        group = self.group
        found = load_checkpoint(path) if path.exists() and (group is None or group.is_writer) else None
        if group is not None:  # rank 0 reads it and shares it; each rank restores its own part
            found = group.share(found)
        if found is None:  # stopped before the first checkpoint: start over, same seed
            return
        rank, world_size = (group.rank, group.world_size) if group is not None else (0, 1)
        self.start = restore(self.trainer, self.early_stopping, *rank_view(*found, rank, world_size, path))

    def fit(self, run_dir: Path | None, quiet: bool, stream) -> tuple[list[dict], int]:
        """Train to the end; with a run directory, checkpoint as we go and on Ctrl-C."""
        from .checkpoint import Checkpointer, MetricsWriter

        if run_dir is not None:
            self.trainer.add_callback(MetricsWriter(run_dir))
            self.trainer.add_callback(Checkpointer(run_dir, self.early_stopping,
                                                   self.config.training.checkpoint_every))
            if self.config.training.log:
                from .loggers import make_loggers

                for logger in make_loggers(self.config.training.log, run_dir, self.config.to_dict(),
                                           self.config.training.mlflow_uri):
                    self.trainer.add_callback(logger)
        if not quiet:
            self.trainer.add_callback(Progress(self.config.training.epochs, stream))
        with _interrupt_between_steps(self.trainer, enabled=self.group is None), torch_threads(self.threads):
            try:
                history = self.trainer.fit(self.config.training.epochs, *self.start)
            except KeyboardInterrupt:
                if run_dir is not None and self.group is None:  # DDP: ranks may be steps apart
                    self._save_interrupted(run_dir)
                raise
            except RuntimeError as exc:  # gloo/NCCL: a peer died mid-collective
                if self.group is None:
                    raise
                raise self.group.peer_failure(exc) from None
        if not quiet:  # the terminal and a plain log say why training ended and which weights were kept
            print(self.early_stopping.outcome(len(history)), file=stream, flush=True)
        return history, self.early_stopping.best_epoch or len(history)

    def _save_interrupted(self, run_dir: Path) -> None:
        from .checkpoint import CHECKPOINT, save_checkpoint

        trainer = self.trainer
        if trainer.step:  # mid-epoch, at a step boundary
            save_checkpoint(Path(run_dir) / CHECKPOINT, trainer, self.early_stopping,
                            epoch=trainer.epoch + 1, step=trainer.step)

    def evaluate_split(self, which: str, model=None) -> dict[str, Any] | None:
        import torch

        prepared, model = self.prepared, model if model is not None else self.model
        if which == "val" and self.holdout is not None:  # out of fold: an honest score for a bagged ensemble
            return self._out_of_fold()
        explicit = {"val": prepared.val, "test": prepared.test}.get(which)
        if explicit is not None:
            features, _ = to_device_tensors(explicit[0], explicit[1], self.device)
            outputs, targets = self._predict(model, features), explicit[1]
        else:
            rows = {"train": prepared.train_idx, "val": prepared.val_idx, "test": prepared.test_idx}[which]
            if len(rows) == 0:
                return None
            # rows of the resident feature tensor, gathered a chunk at a time: never a copy of the split
            if prepared.held is not None:  # each rank holds a block of rows: gathered in row order
                rows = np.sort(rows)
            local = torch.from_numpy(prepared.local(rows)).to(self.device)
            outputs = self._predict(model, self.batches.X, local, held=prepared.held is not None)
            targets = prepared.targets[rows]
        return self._metrics(outputs, targets)

    def _metrics(self, outputs, targets) -> dict[str, Any]:
        """task_metrics of network outputs (a tensor) against encoded targets, in the targets' own units."""
        prepared = self.prepared
        outputs = outputs.float().cpu().numpy()
        if prepared.task == "regression":
            targets, outputs = prepared.encoder.values(targets), prepared.encoder.values(outputs)
        return task_metrics(prepared.task, np.asarray(targets), outputs, len(prepared.encoder.classes or []) or None)

    def _out_of_fold(self) -> dict[str, Any]:
        """Metrics of each held-out row predicted by the members that did not train on it (the
        stacked members, at the restored best epoch), in the targets' own units."""
        import torch

        from ..layers.ensemble import mean_prediction

        self.model.eval()
        with torch.inference_mode():
            outputs = mean_prediction(self.prepared.task, self.model.forward_shared(self.val[0]), self.trainer.holdout)
        return self._metrics(outputs, self.prepared.targets[self.holdout[0]])

    def parallel(self) -> dict[str, Any]:
        """How many processes trained this run, and how they talked (summary.json, config.yaml)."""
        return self.group.describe() if self.group is not None else {"world_size": 1, "backend": None}

    def _predict(self, model, X, rows=None, held: bool = False):
        """Outputs for X (its `rows`); under DDP each rank computes a slice and all get the whole."""
        return predict_outputs(model, X, rows) if self.group is None else self.group.predict(model, X, rows, held)

    def summarise(self, best_epoch: int, seconds: float, model=None, history=None,
                  member: int | None = None) -> dict[str, Any]:
        """summary.json of the run (or of copy `member`: its `model` and `history`)."""
        history = history if history is not None else self.trainer.history
        return {
            "task": self.prepared.task,
            "test": self.evaluate_split("test", model),
            "val": self.evaluate_split("val", model),
            "train": self.evaluate_split("train", model),
            "best_epoch": best_epoch,
            "epochs_run": len(history),
            "stopped_early": len(history) < self.config.training.epochs,
            "monitor": self.early_stopping.monitor,
            "outcome": self.early_stopping.outcome(len(history), member),
            "train_rows": int(len(self.prepared.train_idx)),
            "val_rows": int(len(self.prepared.val_idx) if self.prepared.val is None else len(self.prepared.val[0]))
            if self.holdout is None else len(self.holdout[0]),
            "test_rows": int(len(self.prepared.test_idx) if self.prepared.test is None else len(self.prepared.test[0])),
            "seconds": round(seconds, 3),
            "train_seconds": round(sum(row["epoch_seconds"] for row in history), 3),
            "device": self.device,
            **self.parallel(),
            **({"rank_rows": self.rank_rows} if self.group is not None else {}),
            "classes": self.prepared.encoder.classes,
        }


@contextlib.contextmanager
def _interrupt_between_steps(trainer, enabled: bool = True):
    """First Ctrl-C: finish the current step, checkpoint, stop. Second Ctrl-C: stop at once.
    Not under DDP: ranks may be a step apart, so each stops at once and the run resumes from its
    last checkpoint."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def request(signum, frame):
        if trainer.interrupt_requested:
            raise KeyboardInterrupt
        trainer.interrupt_requested = True

    previous = signal.signal(signal.SIGINT, request)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
