"""The textbook formulas of one forward and backward pass, in NumPy float64, one function a step.

Written to be read next to a worked example: every function is one line of the math.
Shapes are for one example: a layer's weights W are (out, in) like `torch.nn.Linear`, vectors are
1-D. The definitions match torch's exactly (same constants, same branch points) so that the tests
can compare every number with autograd to 1e-10.

Notation (as in the seeds): Z = W·A_prev + b is a layer's weighted sum, A = f(Z) its activation,
δ = ∂E/∂Z its error, and W ← W − α ∂E/∂W the update.
"""

from __future__ import annotations

import math

import numpy as np

from ..activations import ELU_ALPHA, LEAKY_RELU_SLOPE, SELU_ALPHA, SELU_SCALE

# torch.nn.Softplus(beta=1, threshold=20) returns z itself above the threshold; we do the same.
SOFTPLUS_THRESHOLD = 20.0
# torch.nn.HuberLoss default delta.
HUBER_DELTA = 1.0
# torch's BCE clamps log(p) at -100 and its gradient divides by max(p(1 - p), 1e-12).
BCE_LOG_FLOOR = -100.0
BCE_EPSILON = 1e-12

_erf = np.vectorize(math.erf, otypes=[float])


# ---------------------------------------------------------------- forward: Z = W·A + b, A = f(Z)


def weighted_sum(weight: np.ndarray, previous: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Z = W·A_prev + b: each neuron adds up its inputs times its weights (and its bias)."""
    z = weight @ previous  # (out, in) @ (in,) -> (out,)
    return z if bias is None else z + bias


def gaussian_cdf(z: np.ndarray) -> np.ndarray:
    """Φ(z) = ½(1 + erf(z/√2)), used by GELU."""
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z))."""
    with np.errstate(over="ignore"):  # e^(−z) overflows to inf for z < −709; 1/inf = 0 is right
        return 1.0 / (1.0 + np.exp(-z))


def softplus(z: np.ndarray) -> np.ndarray:
    """ln(1 + e^z), and z itself above torch's threshold (where they agree to float precision)."""
    return np.where(z > SOFTPLUS_THRESHOLD, z, np.log1p(np.exp(np.minimum(z, SOFTPLUS_THRESHOLD))))


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """A = f(Z) for the activation called `name`."""
    if name == "sigmoid":
        return sigmoid(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_RELU_SLOPE * z)
    if name == "gelu":
        return z * gaussian_cdf(z)
    if name == "elu":
        return np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
    if name == "softplus":
        return softplus(z)
    if name == "selu":
        return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
    if name == "silu":
        return z * sigmoid(z)
    if name == "mish":
        return z * np.tanh(softplus(z))
    if name == "identity":
        return z.copy()
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(name: str, z: np.ndarray) -> np.ndarray:
    """f'(Z), evaluated at each neuron's weighted sum (0 or 1 at a kink, as torch picks)."""
    if name == "sigmoid":
        a = sigmoid(z)
        return a * (1.0 - a)  # σ'(Z) = A(1 − A)
    if name == "relu":
        return (z > 0).astype(float)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2  # tanh'(Z) = 1 − A²
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_RELU_SLOPE)
    if name == "gelu":
        density = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)  # φ(z)
        return gaussian_cdf(z) + z * density  # (zΦ(z))' = Φ(z) + zφ(z)
    if name == "elu":
        return np.where(z > 0, 1.0, ELU_ALPHA * np.exp(np.minimum(z, 0.0)))
    if name == "softplus":
        return np.where(z > SOFTPLUS_THRESHOLD, 1.0, sigmoid(z))  # softplus' = σ
    if name == "selu":
        return SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))
    if name == "silu":
        s = sigmoid(z)
        return s * (1.0 + z * (1.0 - s))  # (zσ(z))' = σ + zσ(1 − σ)
    if name == "mish":
        t = np.tanh(softplus(z))
        return t + z * sigmoid(z) * (1.0 - t**2)  # (z tanh(sp(z)))' = tanh(sp) + z σ(z)(1 − tanh²(sp))
    if name == "identity":
        return np.ones_like(z)
    raise ValueError(f"unknown activation {name!r}")


def softmax(z: np.ndarray) -> np.ndarray:
    """p_i = e^(z_i) / Σ_j e^(z_j) (shifted by max z, which changes nothing but avoids overflow)."""
    shifted = np.exp(z - z.max())
    return shifted / shifted.sum()


# ---------------------------------------------------------------- the loss E and ∂E/∂ŷ
# `y_hat` is the network's output A_out; for "ce" and "bce_logits" it is the logits. All losses
# take the mean over the output values, like torch's default reduction="mean" for one example.


def loss(name: str, y_hat: np.ndarray, y: np.ndarray) -> float:
    """E, the error of the output ŷ against the target y."""
    diff = y_hat - y
    if name == "mse":
        return float(np.mean(diff**2))
    if name == "l1":
        return float(np.mean(np.abs(diff)))
    if name == "huber":
        small = np.abs(diff) < HUBER_DELTA
        per_output = np.where(small, 0.5 * diff**2, HUBER_DELTA * (np.abs(diff) - 0.5 * HUBER_DELTA))
        return float(np.mean(per_output))
    if name == "ce":
        return float(np.log(np.sum(np.exp(y_hat - y_hat.max()))) + y_hat.max() - y_hat @ y)
    if name == "bce":
        log_p = np.maximum(np.log(y_hat), BCE_LOG_FLOOR)
        log_not_p = np.maximum(np.log1p(-y_hat), BCE_LOG_FLOOR)
        return float(-np.mean(y * log_p + (1.0 - y) * log_not_p))
    if name == "bce_logits":
        # −[y log σ(z) + (1 − y) log(1 − σ(z))], written the overflow-free way torch does
        return float(np.mean(np.maximum(y_hat, 0) - y_hat * y + np.log1p(np.exp(-np.abs(y_hat)))))
    raise ValueError(f"unknown loss {name!r}")


def loss_gradient(name: str, y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂E/∂ŷ for each output value (n outputs: the mean brings a factor 1/n)."""
    n = y_hat.size
    diff = y_hat - y
    if name == "mse":
        return 2.0 * diff / n
    if name == "l1":
        return np.sign(diff) / n
    if name == "huber":
        return np.clip(diff, -HUBER_DELTA, HUBER_DELTA) / n
    if name == "ce":
        return softmax(y_hat) - y  # y is one-hot; no 1/n: CE is one number per example
    if name == "bce":
        return diff / np.maximum(y_hat * (1.0 - y_hat), BCE_EPSILON) / n
    if name == "bce_logits":
        return (sigmoid(y_hat) - y) / n
    raise ValueError(f"unknown loss {name!r}")


# ---------------------------------------------------------------- backward: δ, gradients, update


def output_delta(loss_grad: np.ndarray, derivative: np.ndarray) -> np.ndarray:
    """δo = ∂E/∂ŷ ⊙ f'(Zo): how the error changes with the output layer's weighted sums."""
    return loss_grad * derivative


def hidden_delta(next_delta: np.ndarray, next_weight: np.ndarray, derivative: np.ndarray) -> np.ndarray:
    """δh = (δ_next W_next) ⊙ f'(Zh): the seeds' (δo Woᵀ) ⊙ σ'(Zh) with W stored as (out, in)."""
    return (next_delta @ next_weight) * derivative  # (out,) @ (out, in) -> (in,)


def weight_gradient(delta: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """∂E/∂W = δ ⊗ A_prev: row i, column j is δ_i × A_prev_j (the seeds' A_prevᵀ δ, transposed)."""
    return np.outer(delta, previous)  # (out,) x (in,) -> (out, in), the shape of W


def bias_gradient(delta: np.ndarray) -> np.ndarray:
    """∂E/∂b = δ: a bias is a weight on an input that is always 1."""
    return delta.copy()


def update(parameter: np.ndarray, gradient: np.ndarray, learning_rate: float) -> np.ndarray:
    """W ← W − α ∂E/∂W: one step of plain gradient descent."""
    return parameter - learning_rate * gradient
