"""Read a network for `explain`/`draw`: a YAML weights file, a dict, or a trained run directory.

The weights file (textbook form) — seed 0's network:

    layers: [2, 3, 1]          # widths from input to output
    activation: sigmoid        # one name, or one per non-input layer
    output_activation: null    # optional; default: `activation` applies to the output too
    bias: false                # default true
    weights:                   # one (out_features, in_features) matrix per layer, like nn.Linear
      - [[0.8, 0.2], [0.4, 0.9], [0.3, 0.1]]
      - [[0.3, 0.5, 0.9]]
    biases: null               # one vector per layer; zeros if bias is on and weights are given
    seed: 0                    # random init (torch.nn.Linear's U(±1/√in)) when weights are missing

The core's `network:` config form is accepted too (a `seed` added), read as `train` reads it: the
spec's own NetworkSpec, then the resolve step's size and explicit-weight checks. Its typed `layers:`
list works when every layer is dense; conv, pool and other layers cannot be worked by hand here
(one-line error; `layerwise draw` draws them as blocks). Every mistake raises LayerwiseError naming the layer and shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..activations import check_activation
from ..errors import LayerwiseError
from .network import DenseLayer, DenseNet, dense_activations

TEXTBOOK_KEYS = {"layers", "activation", "output_activation", "bias", "weights", "biases", "seed"}


def load_network(net, where: str = "network") -> DenseNet:
    """A DenseNet from a DenseNet, a dict, a YAML file path or a run directory path."""
    if isinstance(net, DenseNet):
        return net
    if isinstance(net, dict):
        return network_from_dict(net, where)
    path = Path(net)
    if path.is_dir():
        from .rundir import load_run_dir

        return load_run_dir(path)
    if not path.is_file():
        raise LayerwiseError(f"{path}: no such network file or run directory")
    return network_from_dict(_read_yaml(path), str(path))


def _read_yaml(path: Path) -> dict:
    from ..safe_yaml import read

    data = read(path)
    if not isinstance(data, dict):
        raise LayerwiseError(f"{path}: expected a mapping with 'layers:' or 'network:'")
    return data


def typed_layers(net) -> list | None:
    """The typed `layers:` list (of dicts) of a config file, dict or run directory, else None."""
    data = net
    if isinstance(net, (str, Path)):
        path = Path(net)
        try:
            if path.is_dir():
                from ..artifacts import read_model_card

                data = read_model_card(path).get("network") or {}
            elif path.is_file():
                data = _read_yaml(path)
        except LayerwiseError:
            return None  # load_network reports what is wrong with it
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("network"), dict):
        data = data["network"]
    layers = data.get("layers")
    return layers if isinstance(layers, list) and any(isinstance(layer, dict) for layer in layers) else None


def beyond_dense(net) -> bool:
    """True for a network with typed layers other than dense (conv, pool, ...)."""
    layers = typed_layers(net)
    return layers is not None and any(not isinstance(l, dict) or l.get("type") != "dense" for l in layers)


def network_from_dict(data: dict, where: str = "network") -> DenseNet:
    """Dispatch on the form: `layers:` (textbook), `network:` (a whole config) or bare network."""
    if typed_layers(data) is not None:
        return _config_network(data.get("network", data), f"{where}: network" if "network" in data else where)
    if "layers" in data:
        return _textbook_network(data, where)
    if "network" in data and isinstance(data["network"], dict):
        return _config_network(data["network"], f"{where}: network")
    if "hidden" in data or "input_size" in data:
        return _config_network(data, where)
    raise LayerwiseError(f"{where}: expected 'layers: [in, hidden…, out]' or a 'network:' section")


def _check_keys(data: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise LayerwiseError(f"{where}: unknown key '{unknown[0]}'; expected {', '.join(sorted(allowed))}")


def _textbook_network(data: dict, where: str) -> DenseNet:
    _check_keys(data, TEXTBOOK_KEYS, where)
    sizes = _sizes(data["layers"], where)
    count = len(sizes) - 1
    activations = _activation_list(data.get("activation", "sigmoid"), count, where)
    if data.get("output_activation") is not None:
        activations[-1] = check_activation(str(data["output_activation"]), f"{where}: output_activation")
    return _assemble(data, sizes, activations, where)


def _config_network(data: dict, where: str) -> DenseNet:
    """The core's `network:` section, read as `train` reads it: validated by the spec's own
    NetworkSpec, its sizes and explicit weights checked by the resolve step's own checks."""
    from ..model import resolve_architecture
    from ..resolve import check_explicit_values
    from ..spec import RunConfig

    raw = {key: value for key, value in data.items() if key != "seed"}  # seed: explain's random init
    file = where.removesuffix(": network")  # the spec's messages name network.KEY themselves
    spec = RunConfig.from_dict({"network": raw}, where=file).network
    if spec.batch_norm:
        raise LayerwiseError(f"{where}: batch_norm networks cannot be explained yet; set batch_norm: false")
    hidden, activations = list(spec.hidden), spec.activations()
    if spec.layers is not None:
        hidden, activations = dense_activations([layer.model_dump() for layer in spec.layers], spec.activation, where)
    beyond = sorted(spec.layer_kinds() - {"dense", "activation", "dropout"})
    if beyond:  # e.g. network.embedding: periodic puts a periodic layer before the first dense one
        raise LayerwiseError(f"{where}: {beyond[0]} layers cannot be explained yet (explain works dense layers; "
                             "`layerwise summary` lists this network)")
    first, last = _ends_from_weights(spec.weights)
    input_size, output_size = spec.input_size or first, spec.output_size or last
    if input_size is None or output_size is None:
        raise LayerwiseError(f"{where}: give input_size and output_size (or weights) to explain this network")
    try:
        check_explicit_values(spec, resolve_architecture(spec, input_size, output_size))
    except LayerwiseError as error:
        raise LayerwiseError(f"{file}: {error}") from None
    sizes = _sizes([input_size, *hidden, output_size], where)
    output = check_activation(spec.output_activation, f"{where}: output_activation")
    settings = {"bias": spec.bias, "weights": spec.weights, "biases": spec.biases, "seed": data.get("seed", 0)}
    net = _assemble(settings, sizes, activations + [output], where)
    if spec.dropout:
        net.notes.append("dropout is not applied: explain shows the evaluation-mode pass")
    return net


def _ends_from_weights(weights) -> tuple[int | None, int | None]:
    """Input and output widths read off explicit weights (first matrix's columns, last's rows)."""
    if not isinstance(weights, list) or not weights:
        return None, None
    try:
        return len(weights[0][0]), len(weights[-1])
    except (TypeError, IndexError):
        return None, None


def _sizes(layers, where: str) -> list[int]:
    if not isinstance(layers, list) or len(layers) < 2:
        raise LayerwiseError(f"{where}: layers must list at least two widths, e.g. [2, 3, 1]; got {layers!r}")
    for position, size in enumerate(layers):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise LayerwiseError(f"{where}: layer {position} width must be a positive integer; got {size!r}")
    return list(layers)


def _activation_list(activation, count: int, where: str) -> list[str]:
    """One activation name per non-input layer (a single name repeats)."""
    names = [activation] * count if isinstance(activation, str) else activation
    if not isinstance(names, list) or len(names) != count:
        raise LayerwiseError(f"{where}: activation must be one name or a list of {count} names; got {activation!r}")
    return [check_activation(str(name), f"{where}: layer {i + 1} activation") for i, name in enumerate(names)]


def _assemble(data: dict, sizes: list[int], activations: list[str], where: str) -> DenseNet:
    weights, biases = data.get("weights"), data.get("biases")
    use_bias = bool(data.get("bias", True)) or biases is not None
    if biases is not None and data.get("bias") is False:
        raise LayerwiseError(f"{where}: biases given but bias: false")
    _check_count(weights, "weights", "matrix", sizes, where)
    _check_count(biases, "biases", "vector", sizes, where)
    parameters = sum(a * b for a, b in zip(sizes, sizes[1:]))
    if parameters > MAX_PARAMETERS:  # refuse before allocating: explain works small nets by hand
        raise LayerwiseError(f"{where}: network too large to explain ({parameters:,} weights); explain prints every "
                             f"neuron of small networks (see --max-neurons)")
    rng = np.random.default_rng(_seed(data.get("seed", 0), where))
    layers = []
    for i, activation in enumerate(activations):
        shape = (sizes[i + 1], sizes[i])
        weight = _matrix(weights, i, shape, where) if weights is not None else _uniform(rng, shape, sizes[i])
        bias = None
        if use_bias and biases is not None:
            bias = _vector(biases, i, shape[0], where)
        elif use_bias:
            bias = np.zeros(shape[0]) if weights is not None else _uniform(rng, (shape[0],), sizes[i])
        layers.append(DenseLayer(weight, bias, activation))
    return DenseNet(layers, source=where)


MAX_PARAMETERS = 10_000_000


def _seed(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LayerwiseError(f"{where}: seed must be a non-negative integer; got {value!r}")
    return value


def _uniform(rng: np.random.Generator, shape: tuple, fan_in: int) -> np.ndarray:
    """torch.nn.Linear's default init range U(−1/√in, 1/√in) (same range, NumPy's generator)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape)


def _check_count(values, key: str, kind: str, sizes: list[int], where: str) -> None:
    """`weights`/`biases` must hold one entry per non-input layer."""
    needed = len(sizes) - 1
    if values is not None and (not isinstance(values, list) or len(values) != needed):
        got = f"{len(values)} entries" if isinstance(values, list) else repr(values)
        raise LayerwiseError(f"{where}: {key} must list one {kind} per layer ({needed} for layers {sizes}); got {got}")


def _matrix(weights: list, i: int, shape: tuple[int, int], where: str) -> np.ndarray:
    try:
        matrix = np.asarray(weights[i], dtype=float)
    except (TypeError, ValueError):
        raise LayerwiseError(f"{where}: weights[{i}] (layer {i + 1}) is not a rectangular matrix of numbers")
    if matrix.shape != shape:
        got = "×".join(map(str, matrix.shape)) or "a number"
        raise LayerwiseError(
            f"{where}: weights[{i}] (layer {i + 1}) has shape {got} but must be {shape[0]}×{shape[1]}"
            f" (out_features × in_features) to chain {shape[1]} → {shape[0]} neurons"
        )
    return matrix


def _vector(biases: list, i: int, size: int, where: str) -> np.ndarray:
    try:
        vector = np.asarray(biases[i], dtype=float)
    except (TypeError, ValueError):
        raise LayerwiseError(f"{where}: biases[{i}] (layer {i + 1}) is not a list of numbers")
    if vector.shape != (size,):
        raise LayerwiseError(f"{where}: biases[{i}] (layer {i + 1}) has {vector.size} values but the layer has {size} neurons")
    return vector
