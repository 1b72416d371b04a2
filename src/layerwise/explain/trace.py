"""The structured record of one worked forward and backward pass (what `layerwise.explain` returns).

Arrays are float64 NumPy; `Trace.to_dict()` turns everything into plain lists and numbers, plus
the worked lines ("h1 = 1×0.8 + 2×0.2 = 1.2") that the text and Markdown views print.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .network import DenseNet


@dataclass
class ForwardLayer:
    """One layer of the forward pass: Z = W·A_prev + b, A = f(Z)."""

    index: int  # 1-based, like fc1 … fcL
    activation: str
    inputs: np.ndarray  # (in,) the values this layer received (rounded in --decimals mode)
    z: np.ndarray  # (out,) weighted sums
    a: np.ndarray  # (out,) activations f(z), full precision
    passed_on: np.ndarray  # (out,) what the next layer receives: a, or a rounded to N decimals


@dataclass
class BackwardLayer:
    """One layer of the backward pass, from ∂E/∂A to the updated weights."""

    index: int
    error_in: np.ndarray  # (out,) ∂E/∂A: the loss gradient (output layer) or δ_next·W_next
    derivative: np.ndarray  # (out,) f'(Z)
    delta: np.ndarray  # (out,) δ = ∂E/∂A ⊙ f'(Z)
    weight_gradient: np.ndarray  # (out, in) ∂E/∂W = δ ⊗ A_prev
    bias_gradient: np.ndarray | None  # (out,) ∂E/∂b = δ
    new_weight: np.ndarray  # (out, in) W − α ∂E/∂W
    new_bias: np.ndarray | None  # (out,) b − α ∂E/∂b


@dataclass
class Trace:
    """Every number of one pass of one example through a small dense network."""

    net: DenseNet
    x: np.ndarray  # (in,) the network input
    forward: list[ForwardLayer]
    loss: str | None = None  # mse | l1 | huber | ce | bce | bce_logits; None without a target
    target: np.ndarray | None = None  # (out,) y; one-hot for ce
    target_label: str | None = None  # the target as the user gave it (a class name or index)
    loss_value: float | None = None
    probabilities: np.ndarray | None = None  # softmax (ce) or σ (bce_logits) of the output
    backward: list[BackwardLayer] = field(default_factory=list)  # output layer first
    learning_rate: float = 0.1
    decimals: int | None = None  # hand-calculation rounding of activations passed on
    notes: list[str] = field(default_factory=list)

    @property
    def output(self) -> np.ndarray:
        """ŷ, the output layer's activations."""
        return self.forward[-1].a

    def to_dict(self) -> dict:
        from .words import worked_lines

        return {
            "network": self.net.describe(),
            "input": _plain(self.x),
            "decimals": self.decimals,
            "forward": [_forward_dict(layer) for layer in self.forward],
            "output": _plain(self.output),
            "probabilities": _plain(self.probabilities),
            "loss": self.loss,
            "target": _plain(self.target),
            "target_label": self.target_label,
            "loss_value": self.loss_value,
            "learning_rate": self.learning_rate,
            "backward": [_backward_dict(layer) for layer in self.backward],
            "worked": worked_lines(self),
            "notes": list(self.notes),
        }


def _plain(value):
    """float64 arrays -> nested lists of Python floats (JSON-ready); None stays None."""
    if value is None:
        return None
    return np.asarray(value, dtype=float).tolist()


def _forward_dict(layer: ForwardLayer) -> dict:
    return {
        "layer": layer.index,
        "activation": layer.activation,
        "inputs": _plain(layer.inputs),
        "z": _plain(layer.z),
        "a": _plain(layer.a),
        "passed_on": _plain(layer.passed_on),
    }


def _backward_dict(layer: BackwardLayer) -> dict:
    return {
        "layer": layer.index,
        "dE_dA": _plain(layer.error_in),
        "activation_derivative": _plain(layer.derivative),
        "delta": _plain(layer.delta),
        "weight_gradient": _plain(layer.weight_gradient),
        "bias_gradient": _plain(layer.bias_gradient),
        "new_weight": _plain(layer.new_weight),
        "new_bias": _plain(layer.new_bias),
    }
