"""Read a trained run directory's dense layers straight from its files (docs/contracts.md).

model.json says the widths, activations, task and classes; model.safetensors holds `fc{i}.weight`
(out, in) and `fc{i}.bias` (out,) for i = 1 … L. Reading the contract directly keeps explain
independent of torch and of the predictor's preprocessing code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..activations import check_activation
from ..errors import LayerwiseError
from .network import DenseLayer, DenseNet

FORMAT_VERSION = 1  # model.json format_version this reader understands (docs/contracts.md)


def load_run_dir(run_dir: Path) -> DenseNet:
    meta = read_model_json(run_dir)
    network = meta.get("network") or {}
    if network.get("batch_norm"):
        raise LayerwiseError(f"{run_dir}: batch_norm networks cannot be explained yet (model.json network.batch_norm is true)")
    tensors = _read_tensors(run_dir / "model.safetensors")
    activations = list(network.get("activations") or [])
    if network.get("layers") is not None:  # typed layers: explainable when all are dense
        from .netfile import dense_activations

        activations = dense_activations(network["layers"], "relu", f"{run_dir}/model.json network")[1]
    activations += [network.get("output_activation", "identity")]
    layers = []
    for i, activation in enumerate(activations, start=1):
        check_activation(str(activation), f"{run_dir}/model.json: layer {i} activation")
        layers.append(DenseLayer(_weight(tensors, i, run_dir), _bias(tensors, i), str(activation)))
    _check_chain(layers, run_dir)
    net = DenseNet(layers, task=meta.get("task"), classes=meta.get("classes"), source=str(run_dir), run_dir=run_dir)
    if network.get("dropout"):
        net.notes.append("dropout is not applied: explain shows the evaluation-mode pass")
    return net


def read_model_json(run_dir: Path) -> dict:
    path = run_dir / "model.json"
    if not path.is_file():
        raise LayerwiseError(f"{run_dir}: not a run directory (no model.json)")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise LayerwiseError(f"{path}: not valid JSON (line {error.lineno}: {error.msg})")
    if not isinstance(meta, dict) or meta.get("format") != "layerwise-model":
        raise LayerwiseError(f"{path}: not a layerwise model file (format should be 'layerwise-model')")
    if meta.get("format_version") != FORMAT_VERSION:
        raise LayerwiseError(
            f"{path}: format_version {meta.get('format_version')} is not {FORMAT_VERSION}, the one explain reads"
        )
    return meta


def _read_tensors(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise LayerwiseError(f"{path.parent}: no model.safetensors")
    from safetensors.numpy import load

    try:
        return load(path.read_bytes())
    except Exception as error:  # safetensors has its own error types for bad headers and sizes
        raise LayerwiseError(f"{path}: corrupt or truncated weights file ({type(error).__name__})") from None


def _weight(tensors: dict, i: int, run_dir: Path) -> np.ndarray:
    key = f"fc{i}.weight"
    if key not in tensors:
        raise LayerwiseError(f"{run_dir}/model.safetensors: no '{key}' for layer {i} (model.json lists more layers)")
    return tensors[key].astype(np.float64)


def _bias(tensors: dict, i: int) -> np.ndarray | None:
    key = f"fc{i}.bias"
    return tensors[key].astype(np.float64) if key in tensors else None


def _check_chain(layers: list[DenseLayer], run_dir: Path) -> None:
    for i in range(1, len(layers)):
        if layers[i].in_features != layers[i - 1].out_features:
            raise LayerwiseError(
                f"{run_dir}/model.safetensors: fc{i + 1}.weight has {layers[i].in_features} inputs"
                f" but fc{i}.weight gives {layers[i - 1].out_features} outputs"
            )
