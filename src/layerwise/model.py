"""Network spec -> torch module, and the parameter table that `layerwise summary` prints.

The module is a plain `nn.Sequential` with named children, so `print(model)` reads like the seeds'
hand-written classes and the state-dict keys are stable (`fc1.weight` ... `fcL.weight`, see
docs/contracts.md): the saved weights can be read by anything that knows the contract, including
the NumPy explain engine.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

from .activations import torch_activation
from .errors import LayerwiseError
from .spec import NetworkSpec


@dataclass(frozen=True)
class Architecture:
    """A network with every size known: what model.json stores under "network"."""

    input_size: int
    hidden: list[int]
    activations: list[str]  # one per hidden layer
    output_size: int
    output_activation: str = "identity"
    bias: bool = True
    dropout: float = 0.0
    batch_norm: bool = False
    flatten: bool = False

    @property
    def sizes(self) -> list[int]:
        return [self.input_size, *self.hidden, self.output_size]

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, raw: dict) -> "Architecture":
        return cls(**raw)


def resolve_architecture(spec: NetworkSpec, input_size: int, output_size: int) -> Architecture:
    """Fill in the sizes the data decides; explicit sizes in the spec must agree with the data."""
    if input_size < 1:
        raise LayerwiseError(f"the data has {input_size} feature columns; a network needs at least 1 input")
    for name, given, found in (("input_size", spec.input_size, input_size),
                               ("output_size", spec.output_size, output_size)):
        if given is not None and given != found:
            raise LayerwiseError(f"network.{name} is {given} but the data needs {found}")
    return Architecture(
        input_size=input_size,
        hidden=list(spec.hidden),
        activations=spec.activations(),
        output_size=output_size,
        output_activation=spec.output_activation,
        bias=spec.bias,
        dropout=spec.dropout,
        batch_norm=spec.batch_norm,
        flatten=bool(spec.flatten),
    )


def build_model(arch: Architecture, device=None):
    """An `nn.Sequential` of named layers: fc1, bn1, act1, drop1, ..., fcL[, actL].

    device="meta" builds the structure without allocating weights (what `summary` needs)."""
    from torch import nn

    if str(device) != "meta":
        check_fits_in_memory(arch)
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    if arch.flatten:
        layers["flatten"] = nn.Flatten()
    sizes = arch.sizes
    for i, activation in enumerate(arch.activations, start=1):
        layers[f"fc{i}"] = _linear(sizes[i - 1], sizes[i], arch.bias, i, device)
        if arch.batch_norm:
            layers[f"bn{i}"] = nn.BatchNorm1d(sizes[i], device=device)
        layers[f"act{i}"] = torch_activation(activation)
        if arch.dropout > 0:
            layers[f"drop{i}"] = nn.Dropout(arch.dropout)
    last = len(sizes) - 1
    layers[f"fc{last}"] = _linear(sizes[-2], sizes[-1], arch.bias, last, device)
    if arch.output_activation != "identity":
        layers[f"act{last}"] = torch_activation(arch.output_activation)
    return nn.Sequential(layers)


def _linear(n_in: int, n_out: int, bias: bool, index: int, device=None):
    from torch import nn

    try:
        return nn.Linear(n_in, n_out, bias=bias, device=device)
    except (RuntimeError, MemoryError):  # torch's allocator raises RuntimeError when memory runs out
        gigabytes = 4 * n_out * (n_in + 1) / 1e9
        raise LayerwiseError(f"layer {index} ({n_in} -> {n_out} neurons) needs {gigabytes:,.1f} GB of float32 "
                             "weights, more than this machine can allocate") from None


def check_fits_in_memory(arch: Architecture) -> None:
    """Refuse a network whose weights and gradients alone exceed the machine's memory: with
    overcommit, allocating it may succeed and the process is killed later instead."""
    sizes = arch.sizes
    weights = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:]))
    needed, memory = 2 * 4 * weights, _physical_memory_bytes()  # float32 weights + gradients
    if needed > memory:
        raise LayerwiseError(f"network {'-'.join(map(str, sizes))} has {weights:,} parameters: its weights and "
                             f"gradients need {_bytes(needed)}, more than this machine's {_bytes(memory)} of memory")


def _bytes(count: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    return f"{count:,.0f} bytes"


def _physical_memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: let the allocator decide
        return float("inf")


def linear_layers(model) -> list:
    from torch import nn

    return [m for m in model.children() if isinstance(m, nn.Linear)]


def initialise(model, spec: NetworkSpec, arch: Architecture) -> None:
    """Apply the spec's init: torch's default, xavier, kaiming, or explicit values."""
    import torch
    from torch import nn

    linears = linear_layers(model)
    if spec.init != "default":
        for linear, activation in zip(linears, arch.activations + [arch.output_activation]):
            if spec.init == "xavier":
                gain = nn.init.calculate_gain(_gain_name(activation))
                nn.init.xavier_uniform_(linear.weight, gain=gain)
            else:
                nonlinearity = "leaky_relu" if activation == "leaky_relu" else "relu"
                nn.init.kaiming_uniform_(linear.weight, nonlinearity=nonlinearity)
            if linear.bias is not None:
                nn.init.zeros_(linear.bias)
    with torch.no_grad():
        for i, values in enumerate(spec.weights or [], start=1):
            _copy_explicit(linears, i, "weights", values, lambda m: m.weight)
        for i, values in enumerate(spec.biases or [], start=1):
            if not arch.bias:
                raise LayerwiseError("network.biases given but network.bias is false")
            _copy_explicit(linears, i, "biases", values, lambda m: m.bias)


def _gain_name(activation: str) -> str:
    return activation if activation in ("sigmoid", "tanh", "relu", "leaky_relu") else "linear"


def _copy_explicit(linears, index, key, values, attribute) -> None:
    import torch

    if index > len(linears):
        raise LayerwiseError(f"network.{key} has {index} entries but the network has {len(linears)} layers")
    target = attribute(linears[index - 1])
    tensor = torch.as_tensor(values, dtype=target.dtype)
    if tuple(tensor.shape) != tuple(target.shape):
        raise LayerwiseError(
            f"network.{key}[{index - 1}] (layer {index}) has shape {tuple(tensor.shape)}, "
            f"expected {tuple(target.shape)} (out_features, in_features)"
        )
    target.copy_(tensor)


def parameter_rows(model) -> list[tuple[str, str, int]]:
    """(layer name, description, trainable parameter count) for every layer with parameters."""
    rows = []
    for name, module in model.named_children():
        count = sum(p.numel() for p in module.parameters() if p.requires_grad)
        if count:
            shapes = " + ".join("x".join(map(str, p.shape)) for p in module.parameters())
            rows.append((name, f"{type(module).__name__} ({shapes})", count))
    return rows
