"""Bad input to explain: one-line LayerwiseError naming the layer/shape, and exit 2 from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from layerwise.errors import LayerwiseError
from layerwise.explain import explain, load_network

SEED0 = {
    "layers": [2, 3, 1], "activation": "sigmoid", "bias": False,
    "weights": [[[0.8, 0.2], [0.4, 0.9], [0.3, 0.1]], [[0.3, 0.5, 0.9]]],
}


def with_changes(**changes) -> dict:
    return {**SEED0, **changes}


@pytest.mark.parametrize(("net", "message"), [
    (with_changes(weights=[[[0.8, 0.2], [0.4, 0.9], [0.3, 0.1]], [[0.3, 0.5]]]),
     r"weights\[1\] \(layer 2\) has shape 1×2 but must be 1×3"),
    (with_changes(weights=[[[0.8, 0.2, 0.1], [0.4, 0.9, 0.1]], [[0.3, 0.5, 0.9]]]),
     r"weights\[0\] \(layer 1\) has shape 2×3 but must be 3×2"),
    (with_changes(weights=[[[0.8, 0.2], [0.4]], [[0.3, 0.5, 0.9]]]), r"weights\[0\] \(layer 1\) is not a rectangular"),
    (with_changes(weights=[[[0.8, 0.2], [0.4, 0.9], [0.3, 0.1]]]), r"one matrix per layer \(2 for layers \[2, 3, 1\]\)"),
    (with_changes(activation="sigmoidal"), r"layer 1 activation: unknown activation 'sigmoidal'"),
    (with_changes(activation=["relu"]), r"activation must be one name or a list of 2 names"),
    (with_changes(output_activation="softmax"), r"output_activation: unknown activation 'softmax'"),
    (with_changes(layers=[2, 0, 1]), r"layer 1 width must be a positive integer"),
    (with_changes(biases=[[0.1, 0.2, 0.3], [0.0]]), r"biases given but bias: false"),
    (with_changes(bias=True, biases=[[0.1, 0.2], [0.0]]), r"biases\[0\] \(layer 1\) has 2 values but the layer has 3"),
    (with_changes(wieghts=[]), r"unknown key 'wieghts'"),
    ({"hidden": [3], "weights": None}, r"give input_size and output_size"),
    ({"network": {"input_size": 2, "hidden": [3], "output_size": 1, "batch_norm": True}}, r"batch_norm"),
    ({"nodes": 3}, r"expected 'layers: \[in, hidden…, out\]'"),
    # a config's network section is read by the spec and resolve's checks, as `train` reads it
    ({"network": {"input_size": 2, "hidden": [3], "output_size": 1, "wieghts": []}},
     r"unknown key 'network.wieghts' \(did you mean 'weights'\?\)"),
    ({"network": {"input_size": 2, "hidden": [0], "output_size": 1}}, r"'network.hidden': hidden layer 1 has size 0"),
    ({"network": {"input_size": 2, "hidden": [3], "output_size": 1, "weights": [[[0.1, 0.2]], [[0.3]]]}},
     r"network.weights\[0\] \(layer 1\) has shape \(1, 2\), expected \(3, 2\)"),
    ({"network": {"input_size": 2, "hidden": [3], "output_size": 1, "embedding": "periodic"}},
     r"periodic layers cannot be explained yet"),
])
def test_bad_networks(net: dict, message: str) -> None:
    with pytest.raises(LayerwiseError, match=message) as caught:
        load_network(net)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"input": "1,2,3", "target": 0}, r"input has 3 values but the network's input layer has 2 neurons"),
    ({"input": "1,x", "target": 0}, r"input: expected comma-separated numbers"),
    ({"input": "1,2", "target": "0,1"}, r"target has 2 values but the output layer has 1 neurons"),
    ({"input": "1,2", "target": 2, "loss": "bce"}, r"target 2 is outside the task: bce targets are between 0 and 1"),
    ({"input": "1,2", "target": 0, "loss": "ce"}, r"loss ce needs at least 2 output neurons"),
    ({"input": "1,2", "target": 0, "loss": "hinge"}, r"unknown loss 'hinge'"),
    ({"input": "1,2", "target": 0, "decimals": -1}, r"decimals must be a whole number"),
    ({"target": 0}, r"give either an input"),
    ({"row": 3}, r"--input-row needs --data"),
])
def test_bad_inputs_and_targets(options: dict, message: str) -> None:
    with pytest.raises(LayerwiseError, match=message):
        explain(SEED0, **options)


def test_a_class_index_outside_the_task() -> None:
    three_classes = {"layers": [2, 3], "activation": "identity", "bias": False}
    with pytest.raises(LayerwiseError, match=r"target 3 is outside the task: class index must be 0…2"):
        explain(three_classes, "1,2", target=3, loss="ce")
    with pytest.raises(LayerwiseError, match=r"target 'cat' is not a class index 0…2"):
        explain(three_classes, "1,2", target="cat", loss="ce")


def test_bce_needs_a_sigmoid_or_linear_output() -> None:
    with pytest.raises(LayerwiseError, match=r"loss bce needs a sigmoid output .* uses tanh"):
        explain(with_changes(activation="tanh"), "1,2", target=1, loss="bce")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(LayerwiseError, match=r"no such network file or run directory"):
        load_network(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("layers: [2, 3\nweights: ]")
    with pytest.raises(LayerwiseError, match=r"bad.yaml line \d+: not valid YAML"):
        load_network(bad)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layerwise", *args], capture_output=True, text=True, timeout=60)


SEED0_FILE = str(Path(__file__).resolve().parents[1] / "docs" / "seed0-network.yaml")


@pytest.mark.parametrize(("args", "message"), [
    ([SEED0_FILE, "--input", "1,2,3"], "input has 3 values"),
    ([SEED0_FILE, "--input", "1,2", "--target", "0", "--loss", "ce"], "loss ce needs at least 2 output neurons"),
    ([SEED0_FILE, "--input", "1,2", "--max-neurons", "2"],
     "network too large to print: layer 1 has 3 neurons (more than 2); pass --max-neurons 3"),
    (["missing.yaml", "--input", "1,2"], "missing.yaml: no such network file or run directory"),
])
def test_cli_prints_one_line_and_exits_2(args: list[str], message: str) -> None:
    result = run_cli("explain", *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
