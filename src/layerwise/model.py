"""Network spec -> torch module, and the parameter table that `layerwise summary` prints.

The module is a plain `nn.Sequential` with named children, so `print(model)` reads like the seeds'
hand-written classes and the state-dict keys are stable (`fc1.weight` ... `fcL.weight`, see
docs/contracts.md): the saved weights can be read by anything that knows the contract, including
the NumPy explain engine.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

from .activations import torch_activation
from .errors import LayerwiseError
from .spec import NetworkSpec


@dataclass(frozen=True)
class Architecture:
    """A network with every size known: what model.json stores under "network".

    A `hidden:` network is stored as it always was (hidden/activations/dropout/batch_norm); a
    `layers:` network adds its typed layers (every default filled in) and the shape its first
    layer reads, and leaves hidden/activations empty."""

    input_size: int  # values per sample as the preprocessing gives them (a flat row)
    hidden: list[int]
    activations: list[str]  # one per hidden layer
    output_size: int
    output_activation: str = "identity"
    bias: bool = True
    dropout: float = 0.0
    batch_norm: bool = False
    flatten: bool = False
    layers: Optional[list[dict]] = None  # network.layers, resolved; None: the hidden shorthand
    input_shape: Optional[list[int]] = None  # e.g. [1, 40] or [1, 8, 8]; None: a flat vector

    @property
    def sizes(self) -> list[int]:
        return [self.input_size, *self.hidden, self.output_size]

    def layer_specs(self, init: str = "default") -> list:
        """The hidden layers as typed layer specs (`init` fills in the shorthand's init)."""
        from .layers.sequence import expand_hidden, parse_layers

        if self.layers is not None:
            return parse_layers(self.layers)
        return expand_hidden(self.hidden, self.activations, self.bias, self.batch_norm, self.dropout, init)

    def to_dict(self) -> dict:
        raw = {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}
        return {k: v for k, v in raw.items() if v is not None or k not in ("layers", "input_shape")}

    @classmethod
    def from_dict(cls, raw: dict) -> "Architecture":
        return cls(**raw)


def resolve_architecture(spec: NetworkSpec, input_size: int, output_size: int,
                         sample_shape: Optional[tuple[int, ...]] = None,
                         numeric_features: Optional[int] = None) -> Architecture:
    """Fill in the sizes the data decides and check every layer's shape (resolve.py checks that
    explicit sizes in the spec agree with the data first). `sample_shape` is one preprocessed
    sample's shape, e.g. (8, 8) for 8x8 images (default: a flat row of `input_size` values).
    `numeric_features`: how many leading inputs are numbers, the ones `network.embedding` embeds
    (default: all; 0: the network has no embedding)."""
    common = dict(input_size=input_size, output_size=output_size, output_activation=spec.output_activation,
                  bias=spec.bias, flatten=bool(spec.flatten))
    embedding = spec.layers is None and spec.embedding != "none" and numeric_features != 0
    if spec.layers is None and not embedding:  # stored as the shorthand, as it always was
        return Architecture(hidden=list(spec.hidden), activations=spec.activations(), dropout=spec.dropout,
                            batch_norm=spec.batch_norm, **common)
    specs = spec.layer_specs()
    if embedding and numeric_features is not None:  # the shorthand's embedding: numeric inputs only
        specs[0] = specs[0].model_copy(update={"features": numeric_features})
    shape = first_layer_shape(specs, tuple(sample_shape or (input_size,)), bool(spec.flatten))
    check_shapes(specs, shape)
    return Architecture(hidden=[], activations=[], layers=[s.model_dump(mode="json") for s in specs],
                        input_shape=list(shape) if len(shape) > 1 else None, **common)


def first_layer_shape(specs: list, sample: tuple[int, ...], flatten: bool) -> tuple[int, ...]:
    """What the first layer reads: a flat vector for dense-style networks; for conv/pool, a table
    row or a flattened sample as one channel (1, L), (H, W) images as (1, H, W)."""
    from .layers.sequence import needed_rank

    flat = (math.prod(sample),)
    rank = needed_rank(specs)
    if rank is None:
        return flat
    sample = flat if flatten else sample
    if len(sample) == rank:
        return sample
    if len(sample) == rank - 1:
        return (1, *sample)
    first = next(i for i, s in enumerate(specs) if needed_rank([s]) == rank)
    want = "(channels, length)" if rank == 2 else "(channels, height, width) images"
    raise LayerwiseError(f"network.layers[{first}]: {specs[first].type} needs {want} but the data gives "
                         f"samples of shape {sample}")


def check_shapes(specs: list, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Every layer's output shape, checked; returns the last one (what the output layer reads)."""
    from .layers import ShapeError
    from .layers.sequence import output_shapes

    try:
        last = output_shapes(specs, shape)[-1] if specs else shape
    except ShapeError as error:
        raise LayerwiseError(f"network.{error.path}: {error.message}") from None
    if len(last) != 1:
        raise LayerwiseError(f"network.layers[{len(specs) - 1}]: gives shape {last} but the output layer (dense, "
                             "added from the task) needs a flat input; end with {type: flatten} or "
                             "{type: global_avg_pool}")
    return last


def build_model(arch: Architecture, device=None):
    """An `nn.Sequential` of named layers: fc1, bn1, act1, drop1, ..., fcL[, actL] for `hidden:`
    networks; [unflatten,] conv1, act1, ..., fcL for `layers:` ones (see layers/sequence.py).

    device="meta" builds the structure without allocating weights (what `summary` needs)."""
    import contextlib

    import torch
    from torch import nn

    from .layers.sequence import build_layers, count_weighted

    if str(device) != "meta":
        check_fits_in_memory(arch)
    layers: "OrderedDict[str, nn.Module]" = OrderedDict()
    if arch.flatten and arch.input_shape is None:
        layers["flatten"] = nn.Flatten()
    if arch.input_shape is not None:  # rows travel flat; the network restores (C, L) or (C, H, W)
        layers["unflatten"] = nn.Unflatten(1, tuple(arch.input_shape))
    specs = arch.layer_specs()
    shape = tuple(arch.input_shape or (arch.input_size,))
    with torch.device(device) if device is not None else contextlib.nullcontext():
        layers.update(build_layers(specs, shape))
    last = count_weighted(specs) + 1
    layers[f"fc{last}"] = _linear(check_shapes(specs, shape)[0], arch.output_size, arch.bias, last, device)
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
    if arch.layers is None:
        weights, name = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:])), "-".join(map(str, sizes))
    else:
        weights, name = sum(p.numel() for p in build_model(arch, device="meta").parameters()), "of network.layers"
    needed, memory = 2 * 4 * weights, _physical_memory_bytes()  # float32 weights + gradients
    if needed > memory:
        raise LayerwiseError(f"network {name} has {weights:,} parameters: its weights and "
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

    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def initialise(model, spec: NetworkSpec, arch: Architecture) -> None:
    """Apply each weight layer's init (torch's default, xavier or kaiming), then explicit values."""
    import torch
    from torch import nn

    from .layers.sequence import count_weighted, init_plan

    specs = arch.layer_specs(init=spec.init)
    plan = init_plan(specs) + [(f"fc{count_weighted(specs) + 1}", spec.init, arch.output_activation)]
    for path, init, activation in plan:  # in build order, as the seeds' numbers depend on it
        if init == "default":
            continue
        layer = model.get_submodule(path)
        if init == "xavier":
            nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(_gain_name(activation)))
        else:
            nonlinearity = "leaky_relu" if activation == "leaky_relu" else "relu"
            nn.init.kaiming_uniform_(layer.weight, nonlinearity=nonlinearity)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    if spec.weights is None and spec.biases is None:
        return
    linears = linear_layers(model)  # their count and shapes: checked by resolve.check_explicit_values
    with torch.no_grad():
        for values, linear in zip(spec.weights or [], linears):
            linear.weight.copy_(torch.as_tensor(values, dtype=linear.weight.dtype))
        for values, linear in zip(spec.biases or [], linears):
            linear.bias.copy_(torch.as_tensor(values, dtype=linear.bias.dtype))


def explicit_value_shapes(arch: Architecture, init: str = "default") -> Optional[list[tuple[int, int]]]:
    """(out_features, in_features) of each dense layer, output layer included, in the order
    network.weights/biases list them; None when the network has other weighted layers (conv)."""
    from .layers.sequence import init_plan

    specs = arch.layer_specs(init=init)
    if {spec.type for spec in specs} <= _WIDTH_KEEPING | {"dense"}:  # a chain of dense layers: no torch needed
        shapes, width = [], arch.input_size
        for spec in specs:
            if spec.type == "dense":
                shapes.append((spec.units, width))
                width = spec.units
        return shapes + [(arch.output_size, width)]
    linears = linear_layers(build_model(arch, device="meta"))  # no weights allocated
    if len(linears) != len(init_plan(specs)) + 1:
        return None
    return [tuple(linear.weight.shape) for linear in linears]


_WIDTH_KEEPING = {"activation", "dropout", "batch_norm", "layer_norm"}  # layers that keep a flat row's width


def _gain_name(activation: str) -> str:
    return activation if activation in ("sigmoid", "tanh", "relu", "leaky_relu") else "linear"


def parameter_rows(model) -> list[tuple[str, str, int]]:
    """(layer name, description, trainable parameter count) for every layer with parameters."""
    rows = []
    for name, module in model.named_children():
        count = sum(p.numel() for p in module.parameters() if p.requires_grad)
        if count:
            shapes = " + ".join("x".join(map(str, p.shape)) for p in module.parameters())
            rows.append((name, f"{type(module).__name__} ({shapes})", count))
    return rows
