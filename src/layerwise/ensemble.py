"""`training.ensemble: K` (`--ensemble K`): K members trained at once and saved as ONE model, of
one of two kinds (`training.ensemble_kind`):

  independent  K separate networks on the `--repeat` engine (training/copies.py: stacked
               parameters, one vmapped step; members differ in their seed, which sets their
               initial weights and the order they see the rows in). Saved as `Ensemble`, which
               holds the K networks (state-dict names `members.<i>.<name>`).
  tabm         TabM (layers/ensemble.py): one network whose weights the members share, each with
  tabm-mini    its own small adapters and output layer, trained on the mean of the K losses over
               the same batch. Saved as `SharedEnsemble`: the network's own layers (fc1, act1,
               ...), with member-wise parameters where members differ.

Either way the whole ensemble is monitored as one model: the validation metric that picks the
best epoch (and stops early) is that of the members' mean prediction. model.json records
"ensemble": K and "ensemble_kind". Both modules' forward passes return outputs that the one
prediction head (head.py) reads exactly as it reads a single network's:

  regression  the mean of the members' (standardised) values; un-scaling is affine, so this is
              the mean of their predictions in the targets' units too
  multiclass  log of the mean of the members' softmax probabilities: softmax of it is that mean
  binary      logit of the mean of the members' sigmoid probabilities

so Predictor, evaluate, serve and the ONNX/TorchScript export (the average is inside the graph)
treat an ensemble as one model. The averages use log-sum-exp: no log(0), no overflow.
"""

from __future__ import annotations


def ensemble_module(members: list, task: str):
    import torch
    from torch import nn

    class Ensemble(nn.Module):
        """forward(x) -> (n, k) outputs whose head gives the mean of the members' predictions."""

        def __init__(self):
            super().__init__()
            self.members = nn.ModuleList(members)
            self.task, self.size, self.kind = task, len(members), "independent"

        def forward(self, x):
            outputs = torch.stack([member(x) for member in self.members])  # (K, n, k)
            return combine(self.task, outputs)

    return Ensemble()


def combine(task: str, outputs):
    """(K, n, k) member outputs -> (n, k) outputs of their mean prediction (see the module doc)."""
    from .layers.ensemble import mean_prediction

    return mean_prediction(task, outputs)


def size_of(meta: dict) -> int:
    """K from a model card (1 for a single network: format-version-1 cards have no key)."""
    size = meta.get("ensemble", 1)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"ensemble should be a positive integer, not {size!r}")
    return size


KINDS = ("independent", "tabm", "tabm-mini")


def kind_of(meta: dict) -> str:
    """The ensemble kind a model card records (cards written before TabM have none: independent)."""
    kind = meta.get("ensemble_kind", "independent")
    if kind not in KINDS:
        raise ValueError(f"ensemble_kind should be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def build(meta: dict, build_one):
    """The module a model card describes: one network, or an ensemble of `size_of(meta)`."""
    size, kind = size_of(meta), kind_of(meta)
    if size == 1:
        return build_one()
    if kind == "independent":
        return ensemble_module([build_one() for _ in range(size)], meta["task"])
    from .layers.ensemble import shared_ensemble

    return shared_ensemble(build_one(), size, meta["task"], kind)
