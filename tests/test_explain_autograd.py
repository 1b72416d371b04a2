"""The NumPy engine against torch autograd (float64) and central finite differences.

Every activation × every loss, on seeded random networks (1–3 hidden layers, random widths, with
and without bias): each Z and A, each weight and bias gradient and each updated weight must agree
with torch to 1e-10.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
from torch import nn

from layerwise.activations import ACTIVATIONS, torch_activation
from layerwise.explain.api import explain
from layerwise.explain import engine
from layerwise.explain.network import DenseLayer, DenseNet
from layerwise.explain.passes import forward_pass

TOLERANCE = 1e-10
NETS_PER_CASE = 4
# The output activations each loss is tested with: ce reads logits, bce a probability or logits.
OUTPUTS_FOR_LOSS = {
    "mse": ACTIVATIONS, "l1": ACTIVATIONS, "huber": ACTIVATIONS,
    "ce": ("identity", "tanh", "relu"), "bce": ("sigmoid", "identity"),
}


def random_net(rng: np.random.Generator, hidden_activation: str, output_activation: str, min_out: int = 1) -> DenseNet:
    hidden = list(rng.integers(1, 6, size=rng.integers(1, 4)))
    sizes = [int(rng.integers(1, 5)), *map(int, hidden), int(rng.integers(min_out, 5))]
    use_bias = bool(rng.integers(0, 2))
    layers = []
    for i in range(len(sizes) - 1):
        weight = rng.normal(0, 1.0, size=(sizes[i + 1], sizes[i]))
        bias = rng.normal(0, 0.5, size=sizes[i + 1]) if use_bias else None
        activation = output_activation if i == len(sizes) - 2 else hidden_activation
        layers.append(DenseLayer(weight, bias, activation))
    return DenseNet(layers)


def random_target(rng: np.random.Generator, loss: str, size: int):
    if loss == "ce":
        return int(rng.integers(0, size))
    if loss == "bce":
        return rng.uniform(0, 1, size=size).round(int(rng.integers(0, 3)))  # hard 0/1 and soft labels
    return rng.normal(0, 1, size=size)


def torch_loss(loss: str, output: torch.Tensor, target) -> torch.Tensor:
    if loss == "ce":
        return nn.CrossEntropyLoss()(output.unsqueeze(0), torch.tensor([target]))
    y = torch.tensor(np.asarray(target, dtype=float))
    return {
        "mse": nn.MSELoss(), "l1": nn.L1Loss(), "huber": nn.HuberLoss(delta=1.0),
        "bce": nn.BCELoss(), "bce_logits": nn.BCEWithLogitsLoss(),
    }[loss](output, y)


def torch_pass(net: DenseNet, x: np.ndarray, loss: str, target, lr: float) -> dict:
    """The same network in torch float64: forward values, gradients and W − lr·grad."""
    values = torch.tensor(x)
    params, zs, activations = [], [], []
    for layer in net.layers:
        weight = torch.tensor(layer.weight, requires_grad=True)
        bias = None if layer.bias is None else torch.tensor(layer.bias, requires_grad=True)
        z = nn.functional.linear(values, weight, bias)
        values = torch_activation(layer.activation)(z)
        params.append((weight, bias))
        zs.append(z.detach().numpy())
        activations.append(values.detach().numpy())
    error = torch_loss(loss, values, target)
    error.backward()
    return {
        "z": zs, "a": activations, "loss": error.item(),
        "grad_w": [w.grad.numpy() for w, _ in params],
        "grad_b": [None if b is None else b.grad.numpy() for _, b in params],
        "new_w": [(w - lr * w.grad).detach().numpy() for w, _ in params],
    }


def assert_close(ours, theirs, what: str) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE, err_msg=what)


def check_against_torch(net: DenseNet, x: np.ndarray, loss: str, target, lr: float) -> None:
    trace = explain(net, x, target=target, lr=lr, loss=loss)
    reference = torch_pass(net, x, trace.loss, target, lr)
    assert abs(trace.loss_value - reference["loss"]) < TOLERANCE
    for layer, z, a in zip(trace.forward, reference["z"], reference["a"]):
        assert_close(layer.z, z, f"Z of layer {layer.index}")
        assert_close(layer.a, a, f"A of layer {layer.index}")
    for layer in trace.backward:
        i = layer.index - 1
        assert_close(layer.weight_gradient, reference["grad_w"][i], f"∂E/∂W of layer {layer.index}")
        assert_close(layer.new_weight, reference["new_w"][i], f"updated W of layer {layer.index}")
        if net.layers[i].bias is not None:
            assert_close(layer.bias_gradient, reference["grad_b"][i], f"∂E/∂b of layer {layer.index}")
            assert_close(layer.new_bias, net.layers[i].bias - lr * reference["grad_b"][i], f"updated b {layer.index}")


@pytest.mark.parametrize("loss", list(OUTPUTS_FOR_LOSS))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_number_matches_torch_autograd(activation: str, loss: str) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{activation}/{loss}".encode()))  # stable across runs
    outputs = OUTPUTS_FOR_LOSS[loss]
    for case in range(NETS_PER_CASE):
        net = random_net(rng, activation, outputs[case % len(outputs)], min_out=2 if loss == "ce" else 1)
        x = rng.normal(0, 1.5, size=net.sizes[0])
        check_against_torch(net, x, loss, random_target(rng, loss, net.sizes[-1]), lr=float(rng.uniform(0.01, 1)))


def test_mixed_activations_per_layer_match_torch() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        net = random_net(rng, "identity", "identity", min_out=2)
        for layer in net.layers:
            layer.activation = str(rng.choice(ACTIVATIONS))
        net.layers[-1].activation = "identity"
        x = rng.normal(size=net.sizes[0])
        check_against_torch(net, x, "ce", int(rng.integers(0, net.sizes[-1])), lr=0.3)


def test_softplus_above_its_threshold_matches_torch() -> None:
    """torch's softplus returns z itself above 20; log1p(e^z) would differ by ~1e-9 there."""
    net = DenseNet([DenseLayer(np.array([[30.0], [-30.0]]), np.array([0.5, 0.0]), "softplus"),
                    DenseLayer(np.array([[0.1, 0.2]]), None, "identity")])
    check_against_torch(net, np.array([1.0]), "mse", [0.3], lr=0.5)


def _loss_at(net: DenseNet, x: np.ndarray, loss: str, y: np.ndarray) -> float:
    return engine.loss(loss, forward_pass(net, x)[-1].a, y)


@pytest.mark.parametrize("loss", list(OUTPUTS_FOR_LOSS))
def test_gradients_match_central_finite_differences(loss: str) -> None:
    rng = np.random.default_rng(11)
    step = 1e-6
    for activation in ACTIVATIONS:
        output = OUTPUTS_FOR_LOSS[loss][0]
        net = random_net(rng, activation, output, min_out=2 if loss == "ce" else 1)
        x = rng.normal(size=net.sizes[0])
        trace = explain(net, x, target=random_target(rng, loss, net.sizes[-1]), loss=loss)
        for layer in trace.backward:
            dense = net.layers[layer.index - 1]
            checks = [(dense.weight, layer.weight_gradient)]
            if dense.bias is not None:
                checks.append((dense.bias, layer.bias_gradient))
            for parameter, gradient in checks:
                for index in np.ndindex(parameter.shape):
                    numeric = _central_difference(net, x, trace, parameter, index, step)
                    assert abs(numeric - gradient[index]) < 1e-6, (activation, layer.index, index)


def _central_difference(net: DenseNet, x: np.ndarray, trace, parameter: np.ndarray, index, step: float) -> float:
    """(E(p + h) − E(p − h)) / 2h for one entry of a weight matrix or bias vector."""
    saved = parameter[index]
    parameter[index] = saved + step
    above = _loss_at(net, x, trace.loss, trace.target)
    parameter[index] = saved - step
    below = _loss_at(net, x, trace.loss, trace.target)
    parameter[index] = saved
    return (above - below) / (2 * step)
