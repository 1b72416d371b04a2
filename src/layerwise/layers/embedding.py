"""Periodic numeric embeddings: each input feature becomes a few learned features of itself.

A plain MLP fits smooth functions of each input easily but sharp or periodic ones slowly; feeding
it cos(2*pi*w*x + b) of every feature at several learned frequencies w fixes that cheaply
(Gorishniy et al., "On Embeddings for Numerical Features in Tabular Deep Learning", NeurIPS 2022).
This is RealMLP's "PBLD" variant (Holzmueller et al., NeurIPS 2024): per feature, `frequencies`
cosines with a learned phase, a per-feature linear map to `size - 1` values, and the raw feature
itself kept beside them ("densenet"), so (features,) -> (features * size,). `features` embeds
only the first that many inputs (the preprocessing puts numeric columns first; one-hot and
missing-value indicators are 0/1, for which a cosine adds nothing) and passes the rest through.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from .registry import LayerSpec, LayerType, Shape, ShapeError, register


class Periodic(LayerSpec):
    type: Literal["periodic"] = "periodic"
    frequencies: int = Field(16, gt=0, le=1024)  # cosines per feature
    size: int = Field(4, ge=2, le=1024)  # values per feature out: the feature + size-1 learned ones
    sigma: float = Field(0.1, gt=0.0)  # std of the initial frequencies (inputs are scaled to ~unit range)
    features: Optional[int] = Field(None, ge=0)  # embed the first this many inputs; null: all
    # its parameters' learning rate, relative to the net's. RealMLP scales its embeddings' rate by 0.1
    # of a base rate of 0.04, i.e. 0.004; preset auto's base rate is 0.002, so 1 is the closer match
    # (and measured +0.26 points over 0.1 on benchmarks/quality.py, most on the held-out tables)
    lr_scale: float = Field(1.0, gt=0.0, le=100.0)


def _shape(spec: Periodic, shape: Shape) -> Shape:
    from .basic import needs_flat

    needs_flat("periodic", shape)
    embedded = _embedded(spec, shape)
    return (embedded * spec.size + shape[0] - embedded,)


def _embedded(spec: Periodic, shape: Shape) -> int:
    if spec.features is None:
        return shape[0]
    if spec.features > shape[0]:
        raise ShapeError(f"periodic embeds features: {spec.features} but the input has only {shape[0]}")
    return spec.features


def _build(spec: Periodic, shape: Shape):
    from .modules import PeriodicEmbedding

    return PeriodicEmbedding(_embedded(spec, shape), spec.frequencies, spec.size, spec.sigma, spec.lr_scale)


register(LayerType(Periodic, _shape, _build, prefix="embed"))
