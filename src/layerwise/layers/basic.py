"""Layers that work on any shape or on flat vectors: dense, flatten, dropout, batch_norm,
layer_norm and activation."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, field_validator

from ..activations import ACTIVATIONS, torch_activation
from .registry import LayerSpec, LayerType, Shape, ShapeError, register

INITS = ("default", "xavier", "kaiming")  # default: torch's own init of each module


class WeightedSpec(LayerSpec):
    """Keys shared by layers with weights; None takes the network-level value (network.activation,
    network.init, network.bias)."""

    activation: Optional[str] = None  # applied after the layer
    init: Optional[str] = None  # default | xavier | kaiming
    bias: Optional[bool] = None

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, name):
        return name if name is None else known_activation(name)

    @field_validator("init")
    @classmethod
    def _known_init(cls, name):
        if name is not None and name not in INITS:
            raise ValueError(f"unknown init '{name}'; expected one of {', '.join(INITS)}")
        return name


class Dense(WeightedSpec):
    type: Literal["dense"] = "dense"
    units: int = Field(gt=0)  # output features


class Flatten(LayerSpec):
    type: Literal["flatten"] = "flatten"


class Dropout(LayerSpec):
    type: Literal["dropout"] = "dropout"
    rate: float = Field(0.5, ge=0.0, lt=1.0)  # fraction of values zeroed while training


class BatchNorm(LayerSpec):
    type: Literal["batch_norm"] = "batch_norm"  # per feature (flat) or per channel (signals, images)


class LayerNorm(LayerSpec):
    type: Literal["layer_norm"] = "layer_norm"  # over every value of one sample


class Activation(LayerSpec):
    type: Literal["activation"] = "activation"
    activation: str = "relu"

    @field_validator("activation")
    @classmethod
    def _known(cls, name):
        return known_activation(name)


def known_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{name}'; expected one of {', '.join(ACTIVATIONS)}")
    return name


def needs_flat(name: str, shape: Shape) -> None:
    if len(shape) != 1:
        raise ShapeError(f"{name} needs a flat input but gets shape {shape}; "
                         "add {type: flatten} or {type: global_avg_pool} before it")


def _dense_shape(spec: Dense, shape: Shape) -> Shape:
    needs_flat("dense", shape)
    return (spec.units,)


def _dense(spec: Dense, shape: Shape):
    from torch import nn

    return nn.Linear(shape[0], spec.units, bias=spec.bias is not False)


def _batch_norm(spec: BatchNorm, shape: Shape):
    from torch import nn

    if len(shape) == 3:
        return nn.BatchNorm2d(shape[0])
    return nn.BatchNorm1d(shape[0])  # (features,) or (channels, length)


def _batch_norm_shape(spec: BatchNorm, shape: Shape) -> Shape:
    if len(shape) > 3:
        raise ShapeError(f"batch_norm takes flat, (C, L) or (C, H, W) input, not shape {shape}")
    return shape


def _same(spec, shape: Shape) -> Shape:
    return shape


def _flatten(spec, shape: Shape):
    from torch import nn

    return nn.Flatten()


def _dropout(spec: Dropout, shape: Shape):
    from torch import nn

    return nn.Dropout(spec.rate)


def _layer_norm(spec, shape: Shape):
    from torch import nn

    return nn.LayerNorm(list(shape))


register(LayerType(Dense, _dense_shape, _dense, prefix="fc", weighted=True))
register(LayerType(Flatten, lambda spec, shape: (math.prod(shape),), _flatten, prefix="flatten"))
register(LayerType(Dropout, _same, _dropout, prefix="drop"))
register(LayerType(BatchNorm, _batch_norm_shape, _batch_norm, prefix="bn"))
register(LayerType(LayerNorm, _same, _layer_norm, prefix="ln"))
register(LayerType(Activation, _same, lambda spec, shape: torch_activation(spec.activation), prefix="act"))
