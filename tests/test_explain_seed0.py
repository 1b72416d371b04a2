"""Seed 0's hand-worked 2-3-1 sigmoid network, pinned: the numbers and the lines that show them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layerwise.explain import explain
from layerwise.explain.render import render_json, render_markdown, text_string

SEED0_FILE = Path(__file__).resolve().parents[1] / "docs" / "seed0-network.yaml"
SEED0 = {
    "layers": [2, 3, 1], "activation": "sigmoid", "bias": False,
    "weights": [[[0.8, 0.2], [0.4, 0.9], [0.3, 0.1]], [[0.3, 0.5, 0.9]]],
}


def test_the_docs_file_is_seed_0s_network() -> None:
    from layerwise.explain import load_network

    from_file, from_dict = load_network(SEED0_FILE), load_network(SEED0)
    for a, b in zip(from_file.layers, from_dict.layers):
        np.testing.assert_array_equal(a.weight, b.weight)
        assert a.bias is None and a.activation == "sigmoid"


def test_seed0_forward_numbers() -> None:
    trace = explain(SEED0, "1,2", target=0, lr=0.9)
    hidden, output = trace.forward
    np.testing.assert_allclose(hidden.z, [1.2, 2.2, 0.5], atol=1e-12)  # seed: h1, h2, h3
    np.testing.assert_array_equal(np.round(hidden.a, 4), [0.7685, 0.9002, 0.6225])  # S(1.2) … S(0.5)
    assert round(float(output.z[0]), 4) == 1.2409
    assert round(float(trace.output[0]), 5) == 0.77572  # full precision, as the issue states
    assert trace.loss_value == pytest.approx(0.77572**2, abs=1e-5)  # mse with target 0


def test_seed0_with_two_decimals_reproduces_the_hand_calculation() -> None:
    """0.77*0.3 + 0.90*0.5 + 0.62*0.9 = 1.239 and S(1.239) = 0.77539, exactly as seed 0 has it."""
    trace = explain(SEED0, "1,2", target=0, lr=0.9, decimals=2)
    hidden, output = trace.forward
    np.testing.assert_array_equal(hidden.passed_on, [0.77, 0.90, 0.62])
    assert output.z[0] == pytest.approx(1.239, abs=1e-12)
    assert round(float(trace.output[0]), 5) == 0.77539
    assert any("rounded to 2 decimals" in note for note in trace.notes)


def test_seed0_backward_follows_the_seed_3_formulas() -> None:
    """δo = 2(ŷ − y)σ'(Zo), δh = (δo Woᵀ) ⊙ A(1 − A), ∂E/∂Wo = Ahᵀ δo, ∂E/∂Wh = Xᵀ δh,
    and W − α∂E/∂W, computed here directly in the seeds' own layout."""
    trace = explain(SEED0, [1, 2], target=0, lr=0.9)
    out, hid = trace.backward
    a_h, y_hat = trace.forward[0].a, trace.output
    delta_o = 2 * (y_hat - 0) * y_hat * (1 - y_hat)
    delta_h = (delta_o @ np.array([[0.3, 0.5, 0.9]])) * a_h * (1 - a_h)
    np.testing.assert_allclose(out.delta, delta_o, atol=1e-15)
    np.testing.assert_allclose(hid.delta, delta_h, atol=1e-15)
    np.testing.assert_allclose(out.weight_gradient, (a_h[:, None] @ delta_o[None, :]).T, atol=1e-15)
    np.testing.assert_allclose(hid.weight_gradient, (np.array([[1.0], [2.0]]) @ delta_h[None, :]).T, atol=1e-15)
    np.testing.assert_allclose(out.new_weight, [[0.3, 0.5, 0.9]] - 0.9 * out.weight_gradient, atol=1e-15)
    assert round(float(out.delta[0]), 4) == 0.2699


SEED_LINES = ("h1 = 1×0.8 + 2×0.2 = 1.2", "h2 = 1×0.4 + 2×0.9 = 2.2", "h3 = 1×0.3 + 2×0.1 = 0.5",
              "σ(1.2) = 0.7685", "σ(2.2) = 0.9002", "σ(0.5) = 0.6225", "σ(1.2409) = 0.77572")


@pytest.mark.parametrize("view", ["text", "markdown", "json"])
def test_every_view_shows_the_seed_lines(view: str) -> None:
    trace = explain(SEED0, "1,2", target=0, lr=0.9)
    shown = {"text": text_string, "markdown": render_markdown, "json": render_json}[view](trace)
    for line in SEED_LINES:
        assert line in shown, line
    assert "δo = " in shown and "w(h1←x1)" in shown  # the backward pass and every weight


def test_two_decimals_lines_match_seed_0() -> None:
    shown = text_string(explain(SEED0, "1,2", target=0, lr=0.9, decimals=2))
    assert "σ(1.2) = 0.76852 ≈ 0.77" in shown  # seed: S(1.2) = 0.76852 rounded to 0.77
    assert "o = 0.77×0.3 + 0.90×0.5 + 0.62×0.9 = 1.239" in shown
    assert "σ(1.239) = 0.77539" in shown
    assert "rounded to 2 decimals" in shown and "without rounding ŷ = 0.77572" in shown


def test_json_is_plain_data_with_every_number() -> None:
    data = json.loads(render_json(explain(SEED0, "1,2", target=0, lr=0.9)))
    assert data["forward"][0]["z"] == pytest.approx([1.2, 2.2, 0.5])
    assert data["output"] == pytest.approx([0.77572], abs=5e-6)
    assert len(data["backward"]) == 2 and data["backward"][0]["layer"] == 2
    assert np.shape(data["backward"][1]["weight_gradient"]) == (3, 2)
    assert data["worked"]["forward"][0]["rows"][0]["sum"] == "h1 = 1×0.8 + 2×0.2 = 1.2"


def test_without_a_target_only_the_forward_pass_is_worked() -> None:
    trace = explain(SEED0, "1,2")
    assert trace.backward == [] and trace.loss is None
    assert "σ(1.2) = 0.7685" in text_string(trace)


def test_layerwise_explain_is_callable_whatever_was_imported_first() -> None:
    """`import layerwise.explain.api` makes `layerwise.explain` the package; it must still run."""
    import subprocess
    import sys

    code = ("import layerwise.explain.api, layerwise; "
            f"t = layerwise.explain({SEED0!r}, '1,2', target=0, lr=0.9); print(round(float(t.output[0]), 5))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "0.77572", result.stderr


def test_the_core_network_config_form_reads_the_same_network() -> None:
    config = {"network": {"input_size": 2, "hidden": [3], "activation": "sigmoid", "output_activation": "sigmoid",
                          "output_size": 1, "bias": False, "weights": SEED0["weights"]}}
    assert round(float(explain(config, "1,2").output[0]), 5) == 0.77572


def test_missing_weights_get_a_seeded_random_init() -> None:
    from layerwise.explain import load_network

    spec = {"layers": [3, 4, 2], "activation": "tanh", "seed": 5}
    first, again, other = load_network(spec), load_network(spec), load_network({**spec, "seed": 6})
    np.testing.assert_array_equal(first.layers[0].weight, again.layers[0].weight)
    assert not np.array_equal(first.layers[0].weight, other.layers[0].weight)
    assert np.abs(first.layers[0].weight).max() <= 1 / np.sqrt(3) and first.layers[1].bias.shape == (2,)
