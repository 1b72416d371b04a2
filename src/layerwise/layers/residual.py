"""A residual block: `x + f(x)` where f is a list of layers that keeps the shape of x."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import field_validator

from .basic import known_activation
from .registry import MAX_LAYERS, LayerSpec, LayerType, Shape, ShapeError, register


class Residual(LayerSpec):
    type: Literal["residual"] = "residual"
    layers: list[Any]  # the block's layers, parsed with the same union as network.layers
    activation: Optional[str] = None  # after the sum; None: identity

    @field_validator("layers", mode="before")
    @classmethod
    def _typed(cls, layers):
        if not isinstance(layers, list) or not layers:
            raise ValueError("a residual block needs a non-empty list of layers")
        if len(layers) > MAX_LAYERS:
            raise ValueError(f"{len(layers):,} layers in a residual block; at most {MAX_LAYERS:,}")
        from pydantic import ValidationError

        from .registry import describe_error, parse_layer_list

        try:
            return parse_layer_list(layers)
        except ValidationError as exc:  # one line naming the inner layer, e.g. "layers[1].kernel_size: ..."
            raise ValueError(describe_error(exc.errors()[0], "layers")) from None

    @field_validator("activation")
    @classmethod
    def _known(cls, name):
        return name if name is None else known_activation(name)


def _shape(spec: Residual, shape: Shape) -> Shape:
    from .sequence import output_shapes

    shapes = output_shapes(spec.layers, shape)
    if shapes[-1] != shape:
        raise ShapeError(f"residual block changes the shape from {shape} to {shapes[-1]}; "
                         "its layers must give back the shape they take, so that x + f(x) adds up")
    return shape


def _build(spec: Residual, shape: Shape):
    from torch import nn

    from ..activations import torch_activation
    from .modules import Residual as Module
    from .sequence import build_layers

    body = nn.Sequential(build_layers(spec.layers, shape))
    return Module(body, torch_activation(spec.activation or "identity"))


register(LayerType(Residual, _shape, _build, prefix="res"))
