"""The layer types of `network.layers` (see registry.py for how to add one).

Importing this package registers the built-in types; a new type's module must be imported here
too, before spec.py builds the `network.layers` union from the registry.
"""

from . import basic, conv, embedding, residual  # noqa: F401  (registers the built-in layer types)
from .basic import INITS
from .registry import LayerSpec, LayerType, Shape, ShapeError, layer_type, layer_types, layer_union, register

__all__ = ["INITS", "LayerSpec", "LayerType", "Shape", "ShapeError", "layer_type", "layer_types",
           "layer_union", "register"]
