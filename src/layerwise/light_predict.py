"""`layerwise predict RUN --values ...` without torch: the run's dense network in NumPy.

One row through a small MLP is microseconds of arithmetic, but importing torch to do it costs
~1 s (most of the command). For networks made only of what `Architecture` describes (Linear
layers, the named activations, batch norm in eval mode, dropout as the identity, a flatten), and
for typed layer lists of flat layers (periodic embeddings, dense, activation, dropout, batch norm:
preset auto's network on a table),
the forward pass is written out here in float64 from the stored float32 weights, with the
activations of the explain engine (checked against torch autograd). Its outputs agree with the
torch model to float32 precision (tests/test_light_predict.py); any other network returns None
and the caller uses the torch predictor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# model.json "network" keys this forward pass understands; anything else means another kind of network
DENSE_KEYS = {"input_size", "hidden", "activations", "output_size", "output_activation", "bias",
              "dropout", "batch_norm", "flatten"}
TYPED_KEYS = {"layers", "input_shape"}  # set only by typed `layers:` networks
BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which build_model uses
# typed layers this forward pass runs on flat rows (preset auto's network is periodic + dense
# blocks); conv, pooling, residual blocks and shaped inputs go to the torch predictor
FLAT_LAYERS = {"dense": "fc", "periodic": "embed", "activation": "act", "dropout": "drop", "batch_norm": "bn"}


def _predictor_class():
    from .predictor import Predictor

    class LightPredictor(Predictor):
        """A `Predictor` (same preprocessing, labels, columns) whose forward pass is NumPy; the
        torch module is built only if something asks for `.module`."""

        def __init__(self, meta: dict[str, Any], state: dict[str, np.ndarray]):
            # Predictor.__init__ takes a built module; these are the attributes it sets
            from .data.preprocess import Preprocessor
            from .data.targets import TargetEncoder

            self.state, self.members = state, member_states(meta, state)
            self.preprocessor = Preprocessor.from_dict(meta["preprocessing"])
            self.encoder = TargetEncoder.from_meta(meta, meta["network"]["output_size"])
            self.meta = meta

        @property
        def module(self):
            from .predictor import _torch_module

            return _torch_module(self.meta, self.state)

        def outputs(self, X, where: str = "input") -> np.ndarray:
            """As `Predictor.outputs`: logits (float32, like the torch model's) for
            classification, values in the targets' own units (float64) for regression."""
            network, features = self.meta["network"], self.transform(X, where)
            forward = typed_forward if network.get("layers") is not None else dense_forward
            outputs = mean_prediction(self.task, [forward(network, state, features) for state in self.members])
            return self.encoder.values(outputs) if self.task == "regression" else outputs

    return LightPredictor


def member_states(meta: dict, state: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """The state of each network: the run's own, or each member's of an independent ensemble
    (ensemble.ensemble_module keeps member i under "members.i.")."""
    size = int(meta.get("ensemble", 1))
    if size == 1:
        return [state]
    prefixes = [f"members.{i}." for i in range(size)]
    return [{key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)} for prefix in prefixes]


def mean_prediction(task: str, outputs: list[np.ndarray]) -> np.ndarray:
    """layers/ensemble.mean_prediction in NumPy, float64: the members' outputs -> outputs whose
    head gives their mean value (regression) or mean probability (classification)."""
    if len(outputs) == 1:
        return outputs[0]
    stacked = np.stack(outputs).astype(np.float64)  # (K, n, k)
    if task == "regression":
        return stacked.mean(axis=0)
    log_k = np.log(len(outputs))
    if task == "binary":  # log-sigmoid = -log(1 + e^-x): no log(0), no overflow
        return _logsumexp(-np.logaddexp(0.0, -stacked)) - _logsumexp(-np.logaddexp(0.0, stacked))
    top = stacked.max(axis=-1, keepdims=True)
    log_softmax = stacked - top - np.log(np.exp(stacked - top).sum(axis=-1, keepdims=True))
    return _logsumexp(log_softmax) - log_k


def _logsumexp(values: np.ndarray) -> np.ndarray:
    """log(sum(exp(values))) over the first axis."""
    top = values.max(axis=0)
    return top + np.log(np.exp(values - top).sum(axis=0))


def dense_forward(network: dict, state: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """The network's outputs for preprocessed rows, in float64, returned as float32."""
    from .explain.engine import activate

    a = features.astype(np.float64).reshape(len(features), -1)
    activations = [*network["activations"], network["output_activation"]]
    for i, activation in enumerate(activations, start=1):
        a = _linear(a, state, f"fc{i}")
        if i < len(activations) and network["batch_norm"]:
            a = _batch_norm(a, state, f"bn{i}")
        a = activate(activation, a)
    return a.astype(np.float32)


def typed_forward(network: dict, state: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """As dense_forward, for a typed layer list of FLAT_LAYERS (module names as layers/sequence.py
    gives them), then the output layer."""
    from .explain.engine import activate

    a = features.astype(np.float64).reshape(len(features), -1)
    names = _module_names(network["layers"])
    for layer, name in zip(network["layers"], names):
        kind = layer["type"]
        if kind == "dense":
            a = activate(layer.get("activation") or "identity", _linear(a, state, name))
        elif kind == "periodic":
            a = _periodic(a, state, name, float(layer.get("lr_scale", 1.0)))
        elif kind == "activation":
            a = activate(layer["activation"], a)
        elif kind == "batch_norm":
            a = _batch_norm(a, state, name)
    output = _output_name(network["layers"])
    return activate(network["output_activation"], _linear(a, state, output)).astype(np.float32)


def _output_name(layers: list[dict]) -> str:
    """The output layer build_model adds after the typed layers: the next weight layer's name."""
    return f"fc{sum(layer['type'] == 'dense' for layer in layers) + 1}"


def _linear(a: np.ndarray, state: dict, name: str) -> np.ndarray:
    a = a @ state[f"{name}.weight"].astype(np.float64).T
    return a + state[f"{name}.bias"] if f"{name}.bias" in state else a


def _batch_norm(a: np.ndarray, state: dict, name: str) -> np.ndarray:
    mean, var = state[f"{name}.running_mean"], state[f"{name}.running_var"]
    a = (a - mean) / np.sqrt(var.astype(np.float64) + BATCH_NORM_EPS)
    return a * state[f"{name}.weight"] + state[f"{name}.bias"]


def _periodic(a: np.ndarray, state: dict, name: str, c: float) -> np.ndarray:
    """layers/modules.PeriodicEmbedding.forward, in NumPy."""
    frequency, phase = state[f"{name}.frequency"], state[f"{name}.phase"]  # (E, 1, K)
    weight, bias = state[f"{name}.weight"], state[f"{name}.bias"]  # (E, K, O), (E, 1, O)
    embedded = frequency.shape[0]
    column = a[:, :embedded].T[:, :, None]  # (E, N, 1)
    waves = np.cos(2 * np.pi * c * frequency * column + c * phase)  # (E, N, K)
    mixed = c * (waves @ weight.astype(np.float64) + bias)  # (E, N, O)
    block = np.concatenate([column, mixed], axis=-1).transpose(1, 0, 2).reshape(len(a), -1)
    return np.concatenate([block, a[:, embedded:]], axis=1)


def _module_names(layers: list[dict]) -> list[str]:
    """layers/sequence.module_names for FLAT_LAYERS (the first name of each), without importing
    the layer registry: weight layers are numbered fc1, fc2, ...; others take the number before."""
    taken: set[str] = set()
    number, names = 0, []
    for layer in layers:
        number += layer["type"] == "dense"
        base = f"{FLAT_LAYERS[layer['type']]}{number}"
        name, copy = base, 2
        while name in taken:
            name, copy = f"{base}_{copy}", copy + 1
        taken.add(name)
        if layer["type"] == "dense" and (layer.get("activation") or "identity") != "identity":
            taken.add(f"act{number}")  # the dense layer's own activation module
        names.append(name)
    return names


def _typed_keys(network: dict) -> set[str] | None:
    """The state-dict keys a typed flat network has, or None when a layer needs torch."""
    layers = network["layers"]
    if network.get("input_shape") is not None or any(layer.get("type") not in FLAT_LAYERS for layer in layers):
        return None
    keys: set[str] = set()
    for layer, name in zip(layers, _module_names(layers)):
        kind = layer["type"]
        if kind == "dense":
            keys |= {f"{name}.weight"} | ({f"{name}.bias"} if layer.get("bias", True) else set())
        elif kind == "periodic":
            keys |= {f"{name}.{part}" for part in ("frequency", "phase", "weight", "bias")}
        elif kind == "batch_norm":
            keys |= {f"{name}.{part}" for part in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")}
    output = _output_name(layers)
    return keys | {f"{output}.weight"} | ({f"{output}.bias"} if network["bias"] else set())


def load_light(run_dir: str | Path):
    """The NumPy predictor of a finished dense run, or None when the network needs torch."""
    from .artifacts import load_model_files
    from .errors import LayerwiseError

    meta, state = load_model_files(run_dir, framework="np")
    network = meta.get("network")
    if meta.get("ensemble", 1) != 1 and meta.get("ensemble_kind", "independent") != "independent":
        return None  # one network shared by members (TabM, ensemble.py)
    if not isinstance(network, dict) or not DENSE_KEYS <= set(network) <= DENSE_KEYS | TYPED_KEYS:
        return None
    try:
        typed = network.get("layers") is not None
        expected = _typed_keys(network) if typed else _expected_keys(network)
        if expected is None or any(set(member) != expected for member in member_states(meta, state)):
            return None  # not the layout this forward pass knows; the torch predictor decides
        return _predictor_class()(meta, state)
    except (KeyError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerwiseError(f"{run_dir}: model files do not match each other ({first[:200]})") from None


def _expected_keys(network: dict) -> set[str]:
    layers = len(network["hidden"]) + 1
    keys = {f"fc{i}.weight" for i in range(1, layers + 1)}
    if network["bias"]:
        keys |= {f"fc{i}.bias" for i in range(1, layers + 1)}
    if network["batch_norm"]:
        keys |= {f"bn{i}.{name}" for i in range(1, layers)
                 for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")}
    return keys
