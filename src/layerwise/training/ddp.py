"""The training side of DDP: sharded batches whose gradient equals the one-process gradient, the
DistributedDataParallel wrapper, and the callbacks that keep every rank's decisions identical.

The process group itself (joining it, launching workers) lives in `layerwise.distributed`.
"""

from __future__ import annotations

from typing import Iterator

from ..distributed import Group
from .batches import ResidentBatches
from .callbacks import Callback


class ShardedBatches:
    """The one-process batches, split across ranks.

    Step s is the same global batch of `batch_size` rows that one process would train on (the
    permutation is a pure function of seed and epoch, so every rank knows it); rank r takes rows
    r, r+W, r+2W, ... of it. Each row carries a scale W * c_i / D, where D is the global batch's
    loss denominator (rows, or the sum of sample/class weights) and c_i the row's own weight, so
    that `sum(scale_i * loss_i)` on each rank, averaged over ranks by DDP, is exactly the
    one-process batch loss and its gradient, also for the last, partial batch. The batch splits
    evenly across the ranks: `resolve` checked it against the batch size as trained.

    held=(start, stop): this rank holds only the feature rows start..stop-1 of a large source
    (read per shard; `whole.X` is those rows, `whole.y` still every row's target), and takes the
    rows of each global batch that fall in its block instead: the same global batches and
    gradients, with per-rank row counts that vary from step to step around batch_size / W.
    """

    def __init__(self, whole: ResidentBatches, group: Group, class_weights=None, held=None):
        self.whole, self.group, self.held = whole, group, held
        self.class_weights = class_weights  # (n_classes,) of a weighted cross-entropy, or None
        self.X, self.y = whole.X, whole.y

    def __len__(self) -> int:
        return len(self.whole)

    def step_rows(self, device):
        return self.whole.step_rows(device)  # global rows per step, as in one process

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[tuple]:
        """(x, y, row scales) of this rank's part of each global step of `epoch`."""
        import torch

        whole, rank, world = self.whole, self.group.rank, self.group.world_size
        order = whole.order(epoch)
        size = whole.batch_size
        for start in range(start_step * size, len(order), size):
            rows = order[start:start + size]  # the global batch
            if self.held is None:
                mine = local = rows[rank::world]
            else:
                mine = rows[(rows >= self.held[0]) & (rows < self.held[1])]
                local = mine - self.held[0]
            if whole.weights is not None:
                numerators, denominator = whole.weights.index_select(0, mine), whole.weights.index_select(0, rows).sum()
            else:
                numerators = torch.ones(len(mine), device=rows.device)
                denominator = (self.class_weights[whole.y.index_select(0, rows)].sum()
                               if self.class_weights is not None else float(len(rows)))
            scales = numerators * (world / denominator)
            yield whole.X.index_select(0, local), whole.y.index_select(0, mine), scales


def loss_class_weights(loss_fn):
    """The per-class weights that enter a loss's mean denominator (weighted cross-entropy only:
    BCE's pos_weight and the regression losses divide by the element count)."""
    import torch

    return loss_fn.weight if isinstance(loss_fn, torch.nn.CrossEntropyLoss) else None


def wrap_model(model, group: Group):
    """DistributedDataParallel around `model`, for the training forward pass only: the trainer
    keeps the plain module for evaluation, checkpoints and saving (no `module.` prefixes)."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [group.local_rank] if group.backend == "nccl" else None
    return DistributedDataParallel(model, device_ids=device_ids)


class AgreeOnStop(Callback):
    """Every rank computes the same metrics, so the same early-stopping decision; take rank 0's
    anyway, so that a last-bit difference can never leave one rank training alone (a hang)."""

    def __init__(self, group: Group):
        self.group = group

    def on_epoch_end(self, trainer, epoch, logs):
        trainer.stop_training = bool(self.group.share(bool(trainer.stop_training)))


class RankStates(Callback):
    """Collect every rank's RNG state (and, mid-epoch, its batch losses) at each point where rank 0
    may write a checkpoint, so that a resume puts every rank back where it was.

    Runs on every rank at the same points (all epoch ends; the steps `checkpoint_every` names),
    because a gather is a collective; rank 0's Checkpointer, called after it, stores the result."""

    def __init__(self, group: Group, every_steps: int = 0):
        self.group, self.every_steps = group, every_steps

    def on_step_end(self, trainer, epoch, step):
        if self.every_steps and step % self.every_steps == 0 and step < len(trainer.batches):
            self._collect(trainer, with_losses=True)

    def on_epoch_end(self, trainer, epoch, logs):
        self._collect(trainer, with_losses=False)

    def _collect(self, trainer, with_losses: bool) -> None:
        from .checkpoint import _rng_state

        tensors, meta = _rng_state()
        if with_losses:
            tensors["epoch.step_losses"] = trainer.step_losses.detach().cpu()
        states = self.group.gather((tensors, meta))
        trainer.rank_states = states if self.group.is_writer else None


def rank_view(tensors: dict, meta: dict, rank: int, world_size: int, path) -> tuple[dict, dict]:
    """The checkpoint as rank `rank` must restore it: its own RNG state and batch losses."""
    from ..errors import LayerwiseError

    saved = meta.get("world_size", 1)
    if saved != world_size:
        raise LayerwiseError(f"{path}: written by {saved} process(es); resume it with the same number "
                             f"(now {world_size}: --nproc-per-node {saved})")
    if rank == 0:
        return tensors, meta
    prefix = f"rank{rank}."
    own = {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}
    return {**tensors, **own}, {**meta, "rng": meta["ranks"][rank]}
