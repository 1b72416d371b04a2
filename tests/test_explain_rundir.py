"""explain and draw on a trained run directory (model.json + model.safetensors, docs/contracts.md).

The run directory is written here by hand from the contract (no training: fast and exact), and the
worked forward pass is checked against the core's own predictor on the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layerwise.errors import LayerwiseError
from layerwise.explain import explain, load_network

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def write_run_dir(path: Path, hidden=(5,), activations=("tanh",), batch_norm=False, seed=0) -> Path:
    """A 4-…-3 iris classifier run directory with standardising preprocessing."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    sizes = [4, *hidden, 3]
    tensors = {}
    for i in range(1, len(sizes)):
        tensors[f"fc{i}.weight"] = rng.normal(size=(sizes[i], sizes[i - 1])).astype(np.float32)
        tensors[f"fc{i}.bias"] = rng.normal(size=sizes[i]).astype(np.float32)
    path.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path / "model.safetensors"))
    numeric = [{"name": c, "mean": 5.0, "std": 2.0, "median": 0.0, "indicator": False} for c in IRIS_COLUMNS]
    meta = {
        "format": "layerwise-model", "format_version": 1, "layerwise_version": "0.1.0", "torch_version": "2.13.0",
        "task": "multiclass", "loss": "cross_entropy",
        "network": {"input_size": 4, "hidden": list(hidden), "activations": list(activations), "output_size": 3,
                    "output_activation": "identity", "bias": True, "dropout": 0.0, "batch_norm": batch_norm,
                    "flatten": False},
        "preprocessing": {"kind": "table", "columns": IRIS_COLUMNS, "numeric": numeric, "categorical": []},
        "classes": ["setosa", "versicolor", "virginica"], "targets": ["target"],
    }
    (path / "model.json").write_text(json.dumps(meta))
    return path


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return write_run_dir(tmp_path / "run")


def test_run_dir_layers_follow_the_contract(run_dir: Path) -> None:
    net = load_network(run_dir)
    assert net.sizes == [4, 5, 3] and net.task == "multiclass"
    assert [layer.activation for layer in net.layers] == ["tanh", "identity"]
    assert net.layers[0].weight.dtype == np.float64 and net.layers[0].bias.shape == (5,)


def test_raw_input_is_preprocessed_and_matches_the_core_predictor(run_dir: Path) -> None:
    from layerwise.predictor import load

    trace = explain(run_dir, "5.1,3.5,1.4,0.2", target="setosa")
    np.testing.assert_allclose(trace.x, (np.array([5.1, 3.5, 1.4, 0.2]) - 5.0) / 2.0, atol=1e-6)
    core_logits = load(run_dir).outputs(np.array([[5.1, 3.5, 1.4, 0.2]]))[0]
    np.testing.assert_allclose(trace.output, core_logits, atol=1e-5)  # the core computes in float32
    assert trace.loss == "ce" and trace.target_label == "setosa (class 0)"
    np.testing.assert_allclose(trace.probabilities.sum(), 1.0)


def test_a_data_row_is_the_input_and_its_label_the_target(run_dir: Path) -> None:
    from layerwise.data import load_source

    iris = load_source("builtin:iris")
    trace = explain(run_dir, row=3, data="builtin:iris")
    np.testing.assert_allclose(trace.x, (iris.X.iloc[3].to_numpy(dtype=float) - 5.0) / 2.0, atol=1e-6)
    assert trace.target_label.startswith(str(iris.y[3])) and trace.backward


def test_target_index_and_default_loss_for_runs(run_dir: Path) -> None:
    trace = explain(run_dir, "5.1,3.5,1.4,0.2", target=2)
    assert trace.target.tolist() == [0.0, 0.0, 1.0] and trace.target_label == "virginica (class 2)"


@pytest.mark.parametrize(("change", "message"), [
    ({"batch_norm": True}, "batch_norm"),
])
def test_batch_norm_runs_are_refused(tmp_path: Path, change: dict, message: str) -> None:
    path = write_run_dir(tmp_path / "bn", **change)
    with pytest.raises(LayerwiseError, match=message):
        load_network(path)


def test_bad_run_directories_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LayerwiseError, match="no model.json"):
        load_network(empty)
    broken = write_run_dir(tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(LayerwiseError, match="corrupt"):
        load_network(broken)
    short = write_run_dir(tmp_path / "short")
    meta = json.loads((short / "model.json").read_text())
    meta["network"]["hidden"], meta["network"]["activations"] = [5, 5], ["tanh", "tanh"]
    (short / "model.json").write_text(json.dumps(meta))
    with pytest.raises(LayerwiseError, match="fc3.weight"):
        load_network(short)


def test_the_card_network_is_read_as_the_predictor_reads_it(tmp_path: Path) -> None:
    """model.json's network goes through model.Architecture (typed layers through the layer
    registry): a card this release did not write is one line, never a traceback."""
    odd = write_run_dir(tmp_path / "odd")
    meta = json.loads((odd / "model.json").read_text())
    meta["network"] = {"hidden": 5}
    (odd / "model.json").write_text(json.dumps(meta))
    with pytest.raises(LayerwiseError, match=r"model.json: 'network' is not a network this release wrote"):
        load_network(odd)
    typed = write_run_dir(tmp_path / "typed")
    meta = json.loads((typed / "model.json").read_text())
    meta["network"].update(hidden=[], activations=[], layers=[{"type": "dense", "units": 5, "activation": "tanh"}])
    (typed / "model.json").write_text(json.dumps(meta))
    assert [layer.activation for layer in load_network(typed).layers] == ["tanh", "identity"]
    meta["network"]["layers"] = [{"type": "dense", "units": 0}]  # the registry's own check: units > 0
    (typed / "model.json").write_text(json.dumps(meta))
    with pytest.raises(LayerwiseError, match="is not a network this release wrote"):
        load_network(typed)
