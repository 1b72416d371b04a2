"""A list of layer specs as one network: defaults filled in, shapes checked, modules named and built.

Module names keep the contract of docs/contracts.md: weight layers are numbered in order (fc1,
conv2, ...) and every other layer takes the number of the weight layer before it (act1, bn1,
drop1, pool2), so the `hidden:` shorthand builds exactly the modules, and state-dict keys, that it
always has.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Optional

from .registry import LayerSpec, Shape, ShapeError, layer_type


def with_defaults(specs: list[LayerSpec], activation: str, init: str, bias: bool) -> list[LayerSpec]:
    """Copies of `specs` with every weight layer's activation/init/bias filled in from the network."""
    filled = []
    for spec in specs:
        changes = {}
        if layer_type(spec.type).weighted:
            changes = {"activation": spec.activation or activation, "init": spec.init or init,
                       "bias": bias if spec.bias is None else spec.bias}
        if spec.type == "residual":
            changes = {"layers": with_defaults(spec.layers, activation, init, bias)}
        filled.append(spec.model_copy(update=changes))
    return filled


def parse_layers(raw: list[dict]) -> list[LayerSpec]:
    """Layer dicts (as model.json stores them) -> typed specs."""
    from .registry import parse_layer_list

    return parse_layer_list(raw)


def expand_hidden(hidden: list[int], activations: list[str], bias: bool = True, batch_norm: bool = False,
                  dropout: float = 0.0, init: str = "default") -> list[LayerSpec]:
    """The `hidden: [h, ...]` shorthand as typed layers: dense(h), [batch_norm], activation,
    [dropout] per size -- the modules, in the order, that the shorthand has always built."""
    from .basic import Activation, BatchNorm, Dense, Dropout

    expanded: list[LayerSpec] = []
    for units, activation in zip(hidden, activations):
        expanded.append(Dense(units=units, activation="identity", init=init, bias=bias))
        expanded += [BatchNorm()] if batch_norm else []
        expanded.append(Activation(activation=activation))
        expanded += [Dropout(rate=dropout)] if dropout > 0 else []
    return expanded


def output_shapes(specs: list[LayerSpec], shape: Shape) -> list[Shape]:
    """The shape after each layer; a ShapeError's path names the layer ("layers[2]")."""
    shapes = []
    for index, spec in enumerate(specs):
        try:
            shape = tuple(layer_type(spec.type).output_shape(spec, shape))
        except ShapeError as error:
            inner = f".{error.path}" if error.path else ""
            raise ShapeError(error.message, f"layers[{index}]{inner}") from None
        shapes.append(shape)
    return shapes


def needed_rank(specs: list[LayerSpec]) -> Optional[int]:
    """The input rank the first shape-sensitive layer needs (2: conv1d/pool1d, 3: conv2d/pool2d);
    None for networks of dense-style layers only, which take a flat vector."""
    for spec in specs:
        rank = layer_type(spec.type).input_rank
        if rank is None and spec.type == "residual":
            rank = needed_rank(spec.layers)
        if rank is not None:
            return rank
        if spec.type in ("dense", "flatten"):  # reached before any conv: the input is read flat
            return None
    return None


def module_names(specs: list[LayerSpec], first_number: int = 0) -> list[list[str]]:
    """Names of the modules each spec builds: [["fc1", "act1"], ["bn1"], ...]."""
    taken: set[str] = set()
    number, names = first_number, []

    def unique(base: str) -> str:
        name, copy = base, 2
        while name in taken:
            name, copy = f"{base}_{copy}", copy + 1
        taken.add(name)
        return name

    for spec in specs:
        kind = layer_type(spec.type)
        if kind.weighted:
            number += 1
            own = [unique(f"{kind.prefix}{number}")]
            if spec.activation not in (None, "identity"):
                own.append(unique(f"act{number}"))
        else:
            own = [unique(f"{kind.prefix}{number}")]
        names.append(own)
    return names


def build_layers(specs: list[LayerSpec], shape: Shape, first_number: int = 0) -> "OrderedDict":
    """name -> torch module for every layer, built in order (the order fixes torch's random init)."""
    from ..activations import torch_activation

    modules: "OrderedDict" = OrderedDict()
    shapes = [tuple(shape), *output_shapes(specs, shape)]
    for spec, names, in_shape in zip(specs, module_names(specs, first_number), shapes):
        modules[names[0]] = layer_type(spec.type).build(spec, in_shape)
        if len(names) > 1:
            modules[names[1]] = torch_activation(spec.activation)
    return modules


def walk(specs: list[LayerSpec]):
    """Every spec, residual blocks' own layers included, in order."""
    for spec in specs:
        yield spec
        if spec.type == "residual":
            yield from walk(spec.layers)


def count_weighted(specs: list[LayerSpec]) -> int:
    return sum(1 for spec in specs if layer_type(spec.type).weighted)


def init_plan(specs: list[LayerSpec], prefix: str = "", first_number: int = 0) -> list[tuple[str, str, str]]:
    """(module path, init, activation that follows it) for every weight layer, in build order.

    The activation is the layer's own, or, when that is identity, the first activation layer after
    it (the `hidden:` shorthand puts batch norm between a dense layer and its activation)."""
    plan = []
    for index, (spec, names) in enumerate(zip(specs, module_names(specs, first_number))):
        if spec.type == "residual":
            plan += init_plan(spec.layers, f"{prefix}{names[0]}.body.")
        if not layer_type(spec.type).weighted:
            continue
        follows = spec.activation or "identity"
        for later in specs[index + 1:] if follows == "identity" else ():
            if layer_type(later.type).weighted:
                break
            if later.type == "activation":
                follows = later.activation
                break
        plan.append((f"{prefix}{names[0]}", spec.init or "default", follows))
    return plan
