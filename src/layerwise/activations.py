"""Activation names shared by the torch model and the NumPy explain engine."""

# Every activation a dense layer may use. `identity` is the no-op used for output layers.
ACTIVATIONS = ("sigmoid", "relu", "tanh", "leaky_relu", "gelu", "elu", "softplus", "selu", "silu", "mish",
               "identity")

# Fixed constants so that the NumPy engine (explain/) and torch agree to the last digit.
LEAKY_RELU_SLOPE = 0.01  # torch.nn.LeakyReLU default negative_slope
ELU_ALPHA = 1.0  # torch.nn.ELU default alpha
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946  # torch.nn.SELU's
# GELU uses the exact erf form (torch.nn.GELU(approximate="none")); softplus uses beta=1.


def check_activation(name: str, where: str) -> str:
    from .errors import LayerwiseError

    if name not in ACTIVATIONS:
        raise LayerwiseError(
            f"{where}: unknown activation '{name}'; expected one of {', '.join(ACTIVATIONS)}"
        )
    return name


def torch_activation(name: str):
    """A fresh torch module for `name` (imports torch, so call it only when building a model)."""
    from torch import nn

    return {
        "sigmoid": nn.Sigmoid,
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_RELU_SLOPE),
        "gelu": nn.GELU,
        "elu": lambda: nn.ELU(ELU_ALPHA),
        "softplus": nn.Softplus,
        "selu": nn.SELU,
        "silu": nn.SiLU,
        "mish": nn.Mish,
        "identity": nn.Identity,
    }[name]()
