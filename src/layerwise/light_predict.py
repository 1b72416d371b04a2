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
from typing import Any, Optional

import numpy as np

# model.json "network" keys this forward pass understands; anything else means another kind of network
DENSE_KEYS = {"input_size", "hidden", "activations", "output_size", "output_activation", "bias",
              "dropout", "batch_norm", "flatten"}
BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default, which build_model uses


class LightPredictor:
    """The parts of `Predictor` that `evaluate.prediction_table` uses, with a NumPy forward pass."""

    def __init__(self, meta: dict[str, Any], state: dict[str, np.ndarray]):
        from .data.preprocess import Preprocessor
        from .data.targets import TargetEncoder

        self.meta, self.state = meta, state
        network = meta["network"]
        self.preprocessor = Preprocessor.from_dict(meta["preprocessing"])
        self.encoder = TargetEncoder.from_meta(meta, network["output_size"])

    @property
    def task(self) -> str:
        return self.encoder.task

    def outputs(self, X, where: str = "input") -> np.ndarray:
        """As `Predictor.outputs`: logits (float32, like the torch model's) for classification,
        values in the targets' own units (float64) for regression."""
        from .explain.engine import activate

        network, state = self.meta["network"], self.state
        a = self.preprocessor.transform(X, where).astype(np.float64)
        a = a.reshape(len(a), -1)
        activations = [*network["activations"], network["output_activation"]]
        for i, activation in enumerate(activations, start=1):
            a = a @ state[f"fc{i}.weight"].astype(np.float64).T
            if f"fc{i}.bias" in state:
                a = a + state[f"fc{i}.bias"]
            hidden = i < len(activations)
            if hidden and network["batch_norm"]:
                mean, var = state[f"bn{i}.running_mean"], state[f"bn{i}.running_var"]
                a = (a - mean) / np.sqrt(var.astype(np.float64) + BATCH_NORM_EPS)
                a = a * state[f"bn{i}.weight"] + state[f"bn{i}.bias"]
            a = activate(activation, a)
        outputs = a.astype(np.float32)
        return self.encoder.values(outputs) if self.task == "regression" else outputs


def load_light(run_dir: str | Path) -> Optional[LightPredictor]:
    """The NumPy predictor of a finished dense run, or None when the network needs torch."""
    from .artifacts import load_model_files
    from .errors import LayerwiseError

    meta, state = load_model_files(run_dir, framework="np")
    network = meta.get("network")
    if not isinstance(network, dict) or set(network) != DENSE_KEYS:
        return None
    try:
        expected = _expected_keys(network)
        if set(state) != expected:
            raise KeyError("weights file and model.json name different layers")
        return LightPredictor(meta, state)
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
