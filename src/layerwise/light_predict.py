"""`layerwise predict RUN --values ...` without torch: the run's dense network in NumPy.

One row through a small MLP is microseconds of arithmetic, but importing torch to do it costs
~1 s (most of the command). For networks made only of what `Architecture` describes (Linear
layers, the named activations, batch norm in eval mode, dropout as the identity, a flatten),
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
TYPED_KEYS = {"layers", "input_shape"}  # set only by typed `layers:` networks, which need torch
BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which build_model uses


def _predictor_class():
    from .predictor import Predictor

    class LightPredictor(Predictor):
        """A `Predictor` (same preprocessing, labels, columns) whose forward pass is NumPy; the
        torch module is built only if something asks for `.module`."""

        def __init__(self, meta: dict[str, Any], state: dict[str, np.ndarray]):
            # Predictor.__init__ takes a built module; these are the attributes it sets
            from .data.preprocess import Preprocessor
            from .data.targets import TargetEncoder

            self.state = state
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
            outputs = dense_forward(self.meta["network"], self.state, self.transform(X, where))
            return self.encoder.values(outputs) if self.task == "regression" else outputs

    return LightPredictor


def dense_forward(network: dict, state: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """The network's outputs for preprocessed rows, in float64, returned as float32."""
    from .explain.engine import activate

    a = features.astype(np.float64).reshape(len(features), -1)
    activations = [*network["activations"], network["output_activation"]]
    for i, activation in enumerate(activations, start=1):
        a = a @ state[f"fc{i}.weight"].astype(np.float64).T
        if f"fc{i}.bias" in state:
            a = a + state[f"fc{i}.bias"]
        if i < len(activations) and network["batch_norm"]:
            mean, var = state[f"bn{i}.running_mean"], state[f"bn{i}.running_var"]
            a = (a - mean) / np.sqrt(var.astype(np.float64) + BATCH_NORM_EPS)
            a = a * state[f"bn{i}.weight"] + state[f"bn{i}.bias"]
        a = activate(activation, a)
    return a.astype(np.float32)


def load_light(run_dir: str | Path):
    """The NumPy predictor of a finished dense run, or None when the network needs torch."""
    from .artifacts import load_model_files
    from .errors import LayerwiseError

    meta, state = load_model_files(run_dir, framework="np")
    network = meta.get("network")
    if meta.get("ensemble", 1) != 1:  # several networks, or one shared by members (ensemble.py)
        return None
    if not isinstance(network, dict) or not DENSE_KEYS <= set(network) <= DENSE_KEYS | TYPED_KEYS:
        return None
    if any(network.get(key) is not None for key in TYPED_KEYS):  # typed `layers:` networks
        return None
    try:
        if set(state) != _expected_keys(network):
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
