"""Convolution and pooling over signals (C, L) and images (C, H, W).

Output sizes follow torch's formula, floor((n + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1,
and a kernel that does not fit its (padded) input is a ShapeError, not a runtime crash.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, field_validator

from .basic import WeightedSpec
from .registry import LayerSpec, LayerType, Shape, ShapeError, register

Size = Union[int, tuple[int, int]]  # conv2d/pool2d: one number for both sides, or (height, width)


def _positive(value, name: str, minimum: int = 1):
    for number in (value if isinstance(value, tuple) else (value,)):
        if number < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {number}")
    return value


class Conv1d(WeightedSpec):
    type: Literal["conv1d"] = "conv1d"
    out_channels: int = Field(gt=0)
    kernel_size: int = Field(gt=0)
    stride: int = Field(1, gt=0)
    padding: int = Field(0, ge=0)  # zeros added at both ends
    dilation: int = Field(1, gt=0)


class Conv2d(WeightedSpec):
    type: Literal["conv2d"] = "conv2d"
    out_channels: int = Field(gt=0)
    kernel_size: Size
    stride: Size = 1
    padding: Size = 0
    dilation: Size = 1

    @field_validator("kernel_size", "stride", "dilation")
    @classmethod
    def _at_least_one(cls, value, info):
        return _positive(value, info.field_name)

    @field_validator("padding")
    @classmethod
    def _not_negative(cls, value):
        return _positive(value, "padding", 0)


class _Pool(LayerSpec):
    kernel_size: Size
    stride: Optional[Size] = None  # default: kernel_size (windows do not overlap)
    padding: Size = 0

    @field_validator("kernel_size", "stride")
    @classmethod
    def _at_least_one(cls, value, info):
        return value if value is None else _positive(value, info.field_name)

    @field_validator("padding")
    @classmethod
    def _not_negative(cls, value):
        return _positive(value, "padding", 0)


class MaxPool1d(_Pool):
    type: Literal["maxpool1d"] = "maxpool1d"


class MaxPool2d(_Pool):
    type: Literal["maxpool2d"] = "maxpool2d"


class AvgPool1d(_Pool):
    type: Literal["avgpool1d"] = "avgpool1d"


class AvgPool2d(_Pool):
    type: Literal["avgpool2d"] = "avgpool2d"


class GlobalAvgPool(LayerSpec):
    type: Literal["global_avg_pool"] = "global_avg_pool"  # (C, L) or (C, H, W) -> (C,): mean over positions


def _sides(value, rank: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank


def _needs_rank(name: str, shape: Shape, rank: int) -> None:
    if len(shape) != rank:
        want = "(channels, length)" if rank == 2 else "(channels, height, width)"
        raise ShapeError(f"{name} needs input of shape {want} but gets shape {shape}")


def _window_shape(spec, shape: Shape, rank: int, channels: int) -> Shape:
    """Output shape of a sliding window (conv or pool) over the last rank-1 axes."""
    _needs_rank(spec.type, shape, rank)
    sides = rank - 1
    kernel, padding = _sides(spec.kernel_size, sides), _sides(spec.padding, sides)
    stride = _sides(spec.stride if spec.stride is not None else spec.kernel_size, sides)
    dilation = _sides(getattr(spec, "dilation", 1), sides)
    if not isinstance(spec, WeightedSpec) and any(2 * p > k for p, k in zip(padding, kernel)):
        raise ShapeError(f"{spec.type} padding {spec.padding} is more than half its kernel_size {spec.kernel_size}")
    out = []
    for n, k, s, p, d in zip(shape[1:], kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        if span > n + 2 * p:
            extent = "dilated kernel" if d > 1 else "kernel_size"
            raise ShapeError(f"{spec.type} {extent} {span} is larger than its input ({n} with padding {p} "
                             f"on each side; input shape {shape})")
        out.append((n + 2 * p - span) // s + 1)
    return (channels, *out)


def _conv(spec, shape: Shape):
    from torch import nn

    conv = nn.Conv1d if spec.type == "conv1d" else nn.Conv2d
    return conv(shape[0], spec.out_channels, spec.kernel_size, stride=spec.stride, padding=spec.padding,
                dilation=spec.dilation, bias=spec.bias is not False)


def _pool(spec, shape: Shape):
    from torch import nn

    pool = {"maxpool1d": nn.MaxPool1d, "maxpool2d": nn.MaxPool2d,
            "avgpool1d": nn.AvgPool1d, "avgpool2d": nn.AvgPool2d}[spec.type]
    return pool(spec.kernel_size, stride=spec.stride, padding=spec.padding)


def _global_shape(spec, shape: Shape) -> Shape:
    if len(shape) not in (2, 3):
        raise ShapeError(f"global_avg_pool needs (C, L) or (C, H, W) input but gets shape {shape}")
    return (shape[0],)


def _global(spec, shape: Shape):
    from .modules import GlobalAvgPool as Module

    return Module()


register(LayerType(Conv1d, lambda spec, shape: _window_shape(spec, shape, 2, spec.out_channels), _conv,
                   prefix="conv", weighted=True, input_rank=2))
register(LayerType(Conv2d, lambda spec, shape: _window_shape(spec, shape, 3, spec.out_channels), _conv,
                   prefix="conv", weighted=True, input_rank=3))
for _spec, _rank in ((MaxPool1d, 2), (AvgPool1d, 2), (MaxPool2d, 3), (AvgPool2d, 3)):
    register(LayerType(_spec, lambda spec, shape, rank=_rank: _window_shape(spec, shape, rank, shape[0]), _pool,
                       prefix="pool", input_rank=_rank))
register(LayerType(GlobalAvgPool, _global_shape, _global, prefix="gap"))
