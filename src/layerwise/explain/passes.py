"""Chain the engine's steps into one forward pass and one backward pass over a DenseNet."""

from __future__ import annotations

import numpy as np

from . import engine
from .network import DenseNet
from .trace import BackwardLayer, ForwardLayer


def forward_pass(net: DenseNet, x: np.ndarray, decimals: int | None = None) -> list[ForwardLayer]:
    """Z = W·A_prev + b and A = f(Z), layer after layer.

    With `decimals`, each hidden activation is rounded before the next layer uses it, as a hand
    calculation does (seed 0: σ(1.2) = 0.76852 is carried on as 0.77). The output is not rounded.
    """
    layers, values = [], np.asarray(x, dtype=float)
    for index, layer in enumerate(net.layers, start=1):
        z = engine.weighted_sum(layer.weight, values, layer.bias)
        a = engine.activate(layer.activation, z)
        is_output = index == len(net.layers)
        passed_on = a if decimals is None or is_output else np.round(a, decimals)
        layers.append(ForwardLayer(index, layer.activation, values, z, a, passed_on))
        values = passed_on
    return layers


def backward_pass(
    net: DenseNet, forward: list[ForwardLayer], loss: str, y: np.ndarray, learning_rate: float
) -> list[BackwardLayer]:
    """δ from the output layer back to the first, each layer's gradients and updated weights.

    Returned output layer first, in the order the errors are computed.
    """
    result, next_delta = [], None
    for index in range(len(net.layers), 0, -1):
        layer, record = net.layers[index - 1], forward[index - 1]
        derivative = engine.activation_derivative(layer.activation, record.z)
        if next_delta is None:  # the output layer: the error starts at the loss
            error_in = engine.loss_gradient(loss, record.a, y)  # ∂E/∂ŷ
            delta = engine.output_delta(error_in, derivative)
        else:  # a hidden layer: the error comes back through the next layer's weights
            next_weight = net.layers[index].weight
            error_in = next_delta @ next_weight  # ∂E/∂A = δ_next·W_next, shown to the learner
            delta = engine.hidden_delta(next_delta, next_weight, derivative)
        grad_w = engine.weight_gradient(delta, record.inputs)
        grad_b = None if layer.bias is None else engine.bias_gradient(delta)
        new_w = engine.update(layer.weight, grad_w, learning_rate)
        new_b = None if layer.bias is None else engine.update(layer.bias, grad_b, learning_rate)
        result.append(BackwardLayer(index, error_in, derivative, delta, grad_w, grad_b, new_w, new_b))
        next_delta = delta
    return result


def output_probabilities(loss: str, y_hat: np.ndarray) -> np.ndarray | None:
    """What the loss reads the output as: softmax for ce, σ for BCE on logits; else None."""
    if loss == "ce":
        return engine.softmax(y_hat)
    if loss == "bce_logits":
        return engine.sigmoid(y_hat)
    return None
