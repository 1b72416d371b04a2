"""`training.ensemble: K` (`--ensemble K`): K members trained at once on the `--repeat` engine
(training/copies.py: stacked parameters, one vmapped step; members differ only in their seed,
which sets their initial weights and the order they see the rows in), saved as ONE model.

The saved module is `Ensemble`: it holds the K networks (state-dict names `members.<i>.<name>`,
so model.safetensors stays one file) and its forward pass returns outputs that the one prediction
head (head.py) reads exactly as it reads a single network's:

  regression  the mean of the members' (standardised) values; un-scaling is affine, so this is
              the mean of their predictions in the targets' units too
  multiclass  log of the mean of the members' softmax probabilities: softmax of it is that mean
  binary      logit of the mean of the members' sigmoid probabilities

so Predictor, evaluate, serve and the ONNX/TorchScript export (the average is inside the graph)
treat an ensemble as one model. The averages use log-sum-exp: no log(0), no overflow.
"""

from __future__ import annotations

import math

from .errors import LayerwiseError


def ensemble_module(members: list, task: str):
    import torch
    from torch import nn

    class Ensemble(nn.Module):
        """forward(x) -> (n, k) outputs whose head gives the mean of the members' predictions."""

        def __init__(self):
            super().__init__()
            self.members = nn.ModuleList(members)
            self.task, self.size = task, len(members)

        def forward(self, x):
            outputs = torch.stack([member(x) for member in self.members])  # (K, n, k)
            return combine(self.task, outputs)

    return Ensemble()


def combine(task: str, outputs):
    """(K, n, k) member outputs -> (n, k) outputs of their mean prediction (see the module doc)."""
    import torch

    log_k = math.log(outputs.shape[0])
    if task == "regression":
        return outputs.mean(dim=0)
    if task == "binary":
        log_p = torch.logsumexp(torch.nn.functional.logsigmoid(outputs), dim=0) - log_k
        log_q = torch.logsumexp(torch.nn.functional.logsigmoid(-outputs), dim=0) - log_k
        return log_p - log_q
    return torch.logsumexp(torch.log_softmax(outputs, dim=-1), dim=0) - log_k


def size_of(meta: dict) -> int:
    """K from a model card (1 for a single network: format-version-1 cards have no key)."""
    size = meta.get("ensemble", 1)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"ensemble should be a positive integer, not {size!r}")
    return size


def build(meta: dict, build_one):
    """The module a model card describes: one network, or an Ensemble of `size_of(meta)`."""
    size = size_of(meta)
    return build_one() if size == 1 else ensemble_module([build_one() for _ in range(size)], meta["task"])


def check(config, repeat: int = 1, group=None) -> None:
    """What an ensemble cannot be combined with, as one line naming training.ensemble."""
    if config.training.ensemble == 1:
        return
    if repeat > 1:
        raise LayerwiseError("training.ensemble cannot be combined with --repeat")
    if group is not None:
        raise LayerwiseError("training.ensemble cannot be combined with several processes (--nproc-per-node/torchrun)")
