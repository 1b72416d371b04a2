"""The modules of a shared-weight ensemble (`training.ensemble_kind: tabm | tabm-mini`, TabM:
Gorishniy et al., "TabM: Advancing Tabular Deep Learning with Parameter-Efficient Ensembling",
ICLR 2025; modules follow the `tabm` package's `LinearBatchEnsemble`, `ElementwiseAffine` and
`LinearEnsemble`). K members share one network's weights and differ only by small per-member
parameters; rows travel as (batch, K, features) from the first member-wise module on.

  MemberScale          x * r_i                          (tabm-mini: the members' only difference
                                                         before their heads; r = random signs)
  BatchEnsembleLinear  ((x * r_i) W^T) * s_i + b_i      (tabm: every hidden dense layer; W shared,
                                                         r of the first layer random signs, others
                                                         and every s ones, b_i start equal)
  MemberHeads          x W_i^T + b_i                    (both kinds: one output layer per member)

`SharedEnsemble` is the network's own `nn.Sequential` of typed layers (same names: fc1, act1, ...)
with those modules swapped in; every other layer (activations, dropout, batch/layer norm,
residual blocks) is shared and sees the K members' rows as more rows of the batch. Layers before
the first dense layer (e.g. periodic embeddings) run once for all members, as TabM shares its
embeddings. Unlike the `tabm` package, the first adapter draws one random sign per input column
(the package can draw one per categorical feature's one-hot block, and draws from a normal
distribution after numeric embeddings).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn


class MemberScale(nn.Module):
    member_wise = True  # takes and gives (batch, K, features)

    def __init__(self, members: int, features: int):
        super().__init__()
        self.weight = nn.Parameter(random_signs(members, features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight

    def extra_repr(self) -> str:
        return f"members={self.weight.shape[0]}, features={self.weight.shape[1]}"


class BatchEnsembleLinear(nn.Module):
    member_wise = True

    def __init__(self, linear: nn.Linear, members: int, first: bool):
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach().clone())  # shared: the network's own init
        n_out, n_in = linear.weight.shape
        self.r = nn.Parameter(random_signs(members, n_in) if first else torch.ones(members, n_in))
        self.s = nn.Parameter(torch.ones(members, n_out))
        if linear.bias is not None:  # every member starts from the shared layer's bias
            self.bias = nn.Parameter(linear.bias.detach().expand(members, n_out).clone())
        else:
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.matmul(x * self.r, self.weight.t())
        return x * self.s if self.bias is None else torch.addcmul(self.bias, x, self.s)

    def extra_repr(self) -> str:
        return f"in_features={self.r.shape[1]}, out_features={self.s.shape[1]}, members={self.r.shape[0]}"


class MemberHeads(nn.Module):
    """K output layers; member i's weight is an (out, in) matrix like nn.Linear's. Each is drawn
    as torch draws an nn.Linear (uniform within 1/sqrt(in), TabM's init): independent heads."""

    member_wise = True

    def __init__(self, linear: nn.Linear, members: int):
        super().__init__()
        n_out, n_in = linear.weight.shape
        bound = n_in ** -0.5
        self.weight = nn.Parameter(torch.empty(members, n_out, n_in).uniform_(-bound, bound))
        if linear.bias is not None:
            self.bias = nn.Parameter(torch.empty(members, n_out).uniform_(-bound, bound))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, K, in) -> (B, K, out)
        x = torch.matmul(x.transpose(0, 1), self.weight.transpose(1, 2)).transpose(0, 1)
        return x if self.bias is None else x + self.bias

    def extra_repr(self) -> str:
        members, n_out, n_in = self.weight.shape
        return f"in_features={n_in}, out_features={n_out}, members={members}"


def random_signs(*shape: int) -> torch.Tensor:
    return torch.bernoulli(torch.full(shape, 0.5)) * 2 - 1


class SharedEnsemble(nn.Sequential):
    """forward(x) -> (n, k) outputs whose head (head.py) gives the mean of the members'
    predictions (ensemble.combine); member_outputs(x) -> (K, n, k), one row block per member."""

    def __init__(self, layers: "OrderedDict[str, nn.Module]", members: int, task: str, kind: str):
        super().__init__(layers)
        self.size, self.task, self.kind = members, task, kind
        self.first = next(i for i, m in enumerate(self) if getattr(m, "member_wise", False))

    def member_outputs(self, x: torch.Tensor) -> torch.Tensor:
        k = self.size
        for index, layer in enumerate(self):
            if index < self.first:  # before the first member-wise layer: one pass for all members
                x = layer(x)
                continue
            if index == self.first:
                x = x.unsqueeze(1).expand(-1, k, *x.shape[1:])
            if getattr(layer, "member_wise", False):
                x = layer(x)
            else:  # shared: the members' rows are more rows (reshape, not a per-member loop)
                x = layer(x.reshape(-1, *x.shape[2:]))
                x = x.reshape(-1, k, *x.shape[1:])
        return x.transpose(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mean_prediction(self.task, self.member_outputs(x))


def mean_prediction(task: str, outputs: torch.Tensor, members=None) -> torch.Tensor:
    """(K, n, k) member outputs -> (n, k) outputs whose head gives the members' mean prediction:
    the mean value (regression), the log of the mean softmax probabilities (multiclass), the
    logit of the mean sigmoid probability (binary). Log-sum-exp: no log(0), no overflow.
    members: optional (K, n) bool, which members' outputs count for each row (a bagged ensemble's
    out-of-fold prediction); every row needs at least one."""
    if members is None:
        members = torch.ones(outputs.shape[:2], dtype=torch.bool, device=outputs.device)
    counted = members.unsqueeze(-1).to(outputs.dtype)  # (K, n, 1)
    log_k = torch.log(counted.sum(dim=0))  # (n, 1)
    if task == "regression":
        return (outputs * counted).sum(dim=0) / counted.sum(dim=0)
    left_out = torch.where(members.unsqueeze(-1), 0.0, -math.inf).to(outputs.dtype)  # log of the 0/1 weight
    if task == "binary":
        log_p = torch.logsumexp(torch.nn.functional.logsigmoid(outputs) + left_out, dim=0) - log_k
        log_q = torch.logsumexp(torch.nn.functional.logsigmoid(-outputs) + left_out, dim=0) - log_k
        return log_p - log_q
    return torch.logsumexp(torch.log_softmax(outputs, dim=-1) + left_out, dim=0) - log_k


def shared_ensemble(network: nn.Sequential, members: int, task: str, kind: str) -> SharedEnsemble:
    """`network` (build_model's, initialised) as a TabM ensemble of `members`: its hidden dense
    layers keep their weights as the shared ones; the adapters and heads are drawn from torch's
    random state (seeded by the caller)."""
    children = list(network.named_children())
    dense = [name for name, module in children if type(module) is nn.Linear]
    output = dense[-1]  # build_model ends with the output layer fcL (and its activation)
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    for name, module in children:
        if name == dense[0] and kind == "tabm-mini":
            layers["adapter"] = MemberScale(members, module.in_features)
        if name == output:
            module = MemberHeads(module, members)
        elif name in dense and kind == "tabm":
            module = BatchEnsembleLinear(module, members, first=name == dense[0])
        layers[name] = module
    return SharedEnsemble(layers, members, task, kind)
