"""A small dense network as plain NumPy arrays, and the names the worked example gives its parts.

Names follow the seeds: inputs x1, x2 …; one hidden layer h1, h2 …; the output o (or o1, o2 …).
With several hidden layers, layer k's neurons are hk.1, hk.2 … and its weights Whk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..activations import check_activation
from ..errors import LayerwiseError


@dataclass
class DenseLayer:
    """One Linear layer and the activation applied after it."""

    weight: np.ndarray  # (out_features, in_features) float64, like torch.nn.Linear.weight
    bias: np.ndarray | None  # (out_features,) float64, or None for a layer without bias
    activation: str  # a name from layerwise.activations.ACTIVATIONS

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]


@dataclass
class DenseNet:
    """Layers in order (the last one is the output layer) plus what a run directory knows."""

    layers: list[DenseLayer]
    task: str | None = None  # multiclass | binary | regression, when known (run directories)
    classes: list[str] | None = None  # original class labels, index = output neuron
    source: str = "network"  # where it came from, for messages
    run_dir: Path | None = None  # set when loaded from a trained run directory
    notes: list[str] = field(default_factory=list)  # e.g. "dropout is not applied"

    @property
    def sizes(self) -> list[int]:
        """[in, h1, …, out], the widths from input to output."""
        return [self.layers[0].in_features] + [layer.out_features for layer in self.layers]

    @property
    def has_bias(self) -> bool:
        return any(layer.bias is not None for layer in self.layers)

    def describe(self) -> dict:
        return {
            "sizes": self.sizes,
            "activations": [layer.activation for layer in self.layers],
            "bias": self.has_bias,
            "weights": [layer.weight.tolist() for layer in self.layers],
            "biases": [None if layer.bias is None else layer.bias.tolist() for layer in self.layers],
            "task": self.task,
            "classes": self.classes,
            "source": self.source,
        }

    def summary(self) -> str:
        """'2-3-1 network, sigmoid, no bias' style one-liner."""
        activations = [layer.activation for layer in self.layers]
        unique = list(dict.fromkeys(activations))
        kinds = unique[0] if len(unique) == 1 else " → ".join(activations)
        bias = "with bias" if self.has_bias else "no bias"
        return f"{'-'.join(map(str, self.sizes))} network, {kinds}, {bias}"


def layer_symbol(net: DenseNet, index: int) -> str:
    """The name of layer `index` (1-based; 0 is the input): x, h or hk, o."""
    hidden_count = len(net.layers) - 1
    if index == 0:
        return "x"
    if index == len(net.layers):
        return "o"
    return "h" if hidden_count == 1 else f"h{index}"


def neuron_names(net: DenseNet, index: int) -> list[str]:
    """Names of the neurons of layer `index` (0 = inputs): x1 x2, h1 h2, h2.1 h2.2, o or o1 o2."""
    symbol = layer_symbol(net, index)
    size = net.sizes[index]
    if symbol == "o" and size == 1:
        return ["o"]
    separator = "." if symbol[1:] else ""  # h2.1 for deep nets, h1 for one hidden layer
    return [f"{symbol}{separator}{j + 1}" for j in range(size)]


def dense_activations(layers: list, default: str, where: str) -> tuple[list[int], list[str]]:
    """(units, activations) of a typed layer list made of dense layers only; anything else is a
    one-line error, since explain works one dense layer at a time."""
    for index, layer in enumerate(layers):
        kind = layer.get("type") if isinstance(layer, dict) else None
        if kind == "periodic":  # preset auto's default on tables: say how to get a net explain can work
            raise LayerwiseError(f"{where}: layers[{index}] is 'periodic' (the numeric embedding preset auto "
                                 "adds); explain works dense layers only: train with --preset plain or "
                                 "--set network.embedding=none for a network it can work by hand")
        if kind != "dense":
            raise LayerwiseError(f"{where}: layers[{index}] is {kind!r}; explain works dense layers only "
                                 "(`layerwise summary` lists this network, `layerwise draw` draws it)")
    units = [layer.get("units") for layer in layers]
    activations = [layer.get("activation") or default for layer in layers]
    return units, [check_activation(str(a), f"{where}: layers[{i}] activation") for i, a in enumerate(activations)]
