"""The layer types a network may list under `network.layers`, and how to add one.

A layer type is a pydantic spec (its YAML keys, with `type: Literal["name"]`), a shape function
(the per-sample output shape for an input shape, or a ShapeError saying what does not fit) and a
builder (a torch module for the spec and its input shape). `register` adds one. spec.py builds the
`network.layers` discriminated union from every registered type when it is imported, so register
new types in a module that `layerwise/layers/__init__.py` imports.

Shapes are per sample, without the batch: (features,) for a flat vector, (C, L) for a signal,
(C, H, W) for an image. Nothing here imports torch: builders import it when they run.

    class Scale(LayerSpec):
        type: Literal["scale"] = "scale"

    register(LayerType(Scale, output_shape=lambda spec, shape: shape,
                       build=lambda spec, shape: ScaleModule(shape), prefix="scale"))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from pydantic import BaseModel, ConfigDict

Shape = tuple[int, ...]
MAX_LAYERS = 1_000  # layers in network.layers or one residual block: more is a mistake (or an attack)


class LayerSpec(BaseModel):
    """Base of every layer spec: unknown keys are errors, like the rest of the config."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)  # finite numbers only
    type: str


class ShapeError(ValueError):
    """A layer that cannot take the shape it is given. `path` locates it inside nested layers
    (e.g. "layers[1]" inside a residual block); the network adds `network.layers[i]`."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.message, self.path = message, path


@dataclass(frozen=True)
class LayerType:
    spec: type  # a LayerSpec subclass whose `type` field is Literal[name] with that default
    output_shape: Callable[[Any, Shape], Shape]  # (spec, input shape) -> output shape, or ShapeError
    build: Callable[[Any, Shape], Any]  # (spec, input shape) -> torch.nn.Module
    prefix: str  # module name: prefix + the number of the weight layer it follows (fc2, act2, pool2)
    weighted: bool = False  # has weights: numbered (fc1, conv2, ...), initialised, takes activation/init/bias
    input_rank: Optional[int] = None  # rank of the shape it needs (2 for conv1d, 3 for conv2d); None: any

    @property
    def name(self) -> str:
        return self.spec.model_fields["type"].default


_TYPES: dict[str, LayerType] = {}


def register(layer_type: LayerType) -> LayerType:
    name = layer_type.name
    if not isinstance(name, str) or not name:
        raise TypeError(f"{layer_type.spec.__name__}: the `type` field needs a default, e.g. Literal['dense'] = 'dense'")
    _TYPES[name] = layer_type
    _ADAPTER.clear()
    return layer_type


def layer_type(name: str) -> LayerType:
    return _TYPES[name]


def layer_types() -> dict[str, LayerType]:
    return dict(_TYPES)


_ADAPTER: dict = {}  # the cached TypeAdapter of list[layer_union()]; cleared by register


def parse_layer_list(raw: list):
    """Validate a list of layer dicts into specs (pydantic ValidationError on a mistake)."""
    if "list" not in _ADAPTER:
        from pydantic import TypeAdapter

        _ADAPTER["list"] = TypeAdapter(list[layer_union()])
    return _ADAPTER["list"].validate_python(raw)


def layer_union():
    """`Annotated[Union[every registered spec], Field(discriminator="type")]` for pydantic."""
    from typing import Annotated

    from pydantic import Field

    specs = tuple(t.spec for t in _TYPES.values())
    return Annotated[Union[specs], Field(discriminator="type")]  # type: ignore[valid-type]


def describe_error(error: dict, prefix: str = "") -> str:
    """One pydantic error as `prefix[2].kernel_size: message`, leaving out the union's tag that
    pydantic puts after a layer's index."""
    key, after_index = prefix, False
    for part in error["loc"]:
        if isinstance(part, int):
            key, after_index = f"{key}[{part}]", True
            continue
        if not (after_index and part in _TYPES):
            key = f"{key}.{part}" if key else str(part)
        after_index = False
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "union_tag_invalid":
        message = f"unknown layer type {error['input'].get('type')!r}; expected one of {', '.join(_TYPES)}"
    elif error["type"] == "union_tag_not_found":
        message = f"each layer needs a 'type', one of {', '.join(_TYPES)}"
    elif error["type"] == "extra_forbidden":
        message = "unknown key for this layer type"
    return f"{key}: {message}" if key else message
