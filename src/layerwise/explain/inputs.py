"""Turn what the user typed (input, target, loss name) into checked float64 arrays."""

from __future__ import annotations

import numpy as np

from ..errors import LayerwiseError
from .network import DenseNet

LOSSES = ("mse", "l1", "huber", "ce", "bce")
LOSS_ALIASES = {"cross_entropy": "ce", "crossentropy": "ce", "bce_with_logits": "bce"}


def parse_numbers(value, what: str) -> np.ndarray:
    """'1,2' or [1, 2] or an array -> a 1-D float64 array."""
    if isinstance(value, str):
        parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        try:
            return np.array([float(part) for part in parts], dtype=float)
        except ValueError:
            raise LayerwiseError(f"{what}: expected comma-separated numbers like 1,2; got {value!r}")
    try:
        return np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise LayerwiseError(f"{what}: expected a list of numbers; got {value!r}")


def check_input(net: DenseNet, x) -> np.ndarray:
    values = parse_numbers(x, "input")
    if values.size != net.sizes[0]:
        raise LayerwiseError(
            f"input has {values.size} values but the network's input layer has {net.sizes[0]} neurons"
        )
    if not np.all(np.isfinite(values)):
        raise LayerwiseError("input: every value must be a finite number")
    return values


def default_loss(net: DenseNet) -> str:
    """ce for a multiclass run, bce for a binary one, mse otherwise (and for weights files)."""
    return {"multiclass": "ce", "binary": "bce"}.get(net.task or "", "mse")


def choose_loss(net: DenseNet, loss: str | None) -> str:
    """The engine's loss name; bce becomes bce_logits when the output layer is linear."""
    name = LOSS_ALIASES.get(loss, loss) if loss else default_loss(net)
    if name not in LOSSES:
        raise LayerwiseError(f"unknown loss '{loss}'; expected one of {', '.join(LOSSES)}")
    output_activation = net.layers[-1].activation
    if name == "bce":
        if output_activation == "identity":
            return "bce_logits"  # torch.nn.BCEWithLogitsLoss: σ is part of the loss
        if output_activation != "sigmoid":
            raise LayerwiseError(
                f"loss bce needs a sigmoid output (probabilities) or identity (logits); the output layer uses {output_activation}"
            )
    if name == "ce" and net.sizes[-1] < 2:
        raise LayerwiseError("loss ce needs at least 2 output neurons (one per class); the output layer has 1")
    return name


def encode_target(net: DenseNet, loss: str, target) -> tuple[np.ndarray, str]:
    """y as the loss wants it (one-hot for ce) and the target as the user gave it."""
    size = net.sizes[-1]
    label = _label(target)
    if loss == "ce":
        index = _class_index(net, label, size)
        name = str(net.classes[index]) if net.classes and len(net.classes) == size else None
        return np.eye(size)[index], str(index) if name is None else f"{name} (class {index})"
    values = _class_values(net, label) if net.classes else None
    if values is None:
        values = parse_numbers(target, "target")
    if values.size != size:
        raise LayerwiseError(f"target has {values.size} values but the output layer has {size} neurons")
    if loss.startswith("bce") and np.any((values < 0) | (values > 1)):
        raise LayerwiseError(f"target {label} is outside the task: bce targets are between 0 and 1")
    return values, label


def _label(target) -> str:
    if isinstance(target, (list, tuple, np.ndarray)):
        return ",".join(f"{float(v):g}" for v in np.asarray(target).reshape(-1))
    return str(target).strip()


def _class_index(net: DenseNet, label: str, size: int) -> int:
    """A class name from the run's classes, or an index 0 … size−1."""
    if net.classes and label in [str(c) for c in net.classes]:
        return [str(c) for c in net.classes].index(label)
    try:
        index = float(label)
    except ValueError:
        known = f"; classes are {', '.join(map(str, net.classes))}" if net.classes else ""
        raise LayerwiseError(f"target {label!r} is not a class index 0…{size - 1}{known}")
    if not index.is_integer() or not 0 <= index < size:
        raise LayerwiseError(f"target {label} is outside the task: class index must be 0…{size - 1} ({size} output neurons)")
    return int(index)


def _class_values(net: DenseNet, label: str) -> np.ndarray | None:
    """For a binary run: the target given by class name -> its 0/1 value."""
    names = [str(c) for c in net.classes or []]
    if label in names and net.sizes[-1] == 1 and len(names) == 2:
        return np.array([float(names.index(label))])
    return None
