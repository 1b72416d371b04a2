"""Read a trained run directory's dense layers from its files (docs/contracts.md).

The model card (model.json: widths, activations, task, classes) is read and checked by
`artifacts`, the run directory's owner; model.safetensors holds `fc{i}.weight` (out, in) and
`fc{i}.bias` (out,) for i = 1 … L, read here as NumPy arrays, so explain needs no torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..activations import check_activation
from ..artifacts import WEIGHTS, read_model_card, read_weights
from ..errors import LayerwiseError
from ..model import Architecture
from .network import DenseLayer, DenseNet, dense_activations


def load_run_dir(run_dir: Path) -> DenseNet:
    meta = read_model_card(run_dir)
    if meta.get("ensemble", 1) != 1:  # ensemble.py: K networks averaged, not one chain of layers
        raise LayerwiseError(f"{run_dir}: an ensemble of {meta['ensemble']} networks (training.ensemble); "
                             "explain and draw work on one network: train it with --preset plain (preset auto "
                             "bags small tables and embeds their numeric columns, which explain cannot work by hand)")
    arch = _architecture(meta.get("network"), run_dir)
    if arch.batch_norm:
        raise LayerwiseError(f"{run_dir}: batch_norm networks cannot be explained yet (model.json network.batch_norm is true)")
    tensors = _read_tensors(run_dir, meta)
    activations = list(arch.activations)
    if arch.layers is not None:  # typed layers (checked by the layer registry): explainable when all are dense
        layers = [spec.model_dump() for spec in arch.layer_specs()]
        activations = dense_activations(layers, "relu", f"{run_dir}/model.json network")[1]
    activations += [arch.output_activation]
    layers = []
    for i, activation in enumerate(activations, start=1):
        check_activation(str(activation), f"{run_dir}/model.json: layer {i} activation")
        layers.append(DenseLayer(_weight(tensors, i, run_dir), _bias(tensors, i), str(activation)))
    _check_chain(layers, run_dir)
    net = DenseNet(layers, task=meta.get("task"), classes=meta.get("classes"), source=str(run_dir), run_dir=run_dir)
    if arch.dropout:
        net.notes.append("dropout is not applied: explain shows the evaluation-mode pass")
    return net


def _architecture(network, run_dir: Path) -> Architecture:
    """The card's network as the predictor reads it (model.Architecture; typed layers parsed by the
    layer registry), or one line saying the card is not one this release wrote."""
    from pydantic import ValidationError

    try:
        arch = Architecture.from_dict(network)
        arch.layer_specs()  # typed layers: validated here, before any weight is read
    except (TypeError, ValidationError):
        raise LayerwiseError(f"{run_dir}/model.json: 'network' is not a network this release wrote") from None
    return arch


def _read_tensors(run_dir: Path, meta: dict) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    data = read_weights(run_dir, meta)
    try:
        return load(data)
    except Exception as error:  # safetensors has its own error types for bad headers and sizes
        raise LayerwiseError(f"{run_dir / WEIGHTS}: corrupt or truncated weights file ({type(error).__name__})") from None


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
