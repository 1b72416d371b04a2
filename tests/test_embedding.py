"""Periodic numeric embeddings (`{type: periodic}`, `network.embedding: periodic`): the module
computes RealMLP's PBLD formula, its learning-rate scaling is exactly a per-parameter learning
rate under Adam, and a network that starts with one trains, reloads, exports and is refused by
explain in one line."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import layerwise
from helpers import assert_user_error, run_cli


def _module(features=3, frequencies=5, size=4, lr_scale=0.1, seed=0):
    import torch

    from layerwise.layers.modules import PeriodicEmbedding

    torch.manual_seed(seed)
    return PeriodicEmbedding(features, frequencies, size, sigma=0.3, lr_scale=lr_scale)


def test_each_feature_becomes_itself_plus_a_linear_map_of_its_cosines() -> None:
    """Reference: the formula written out feature by feature with plain torch ops."""
    import torch

    module = _module()
    x = torch.randn(7, 3, dtype=torch.float32)
    c = module.lr_scale
    expected = []
    for f in range(3):
        waves = torch.cos(2 * math.pi * (c * module.frequency[f]) * x[:, f:f + 1] + c * module.phase[f])  # (7, K)
        mixed = waves @ (c * module.weight[f]) + c * module.bias[f]  # (7, size-1)
        expected.append(torch.cat([x[:, f:f + 1], mixed], dim=1))
    got = module(x)
    assert got.shape == (7, 12)
    torch.testing.assert_close(got, torch.cat(expected, dim=1), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got[:, ::4], x)  # the raw feature is kept beside its embedding


def test_lr_scale_is_a_per_parameter_learning_rate_under_adam() -> None:
    """Stored-divided-by-c parameters stepped with lr equal effective parameters stepped with c*lr."""
    import torch

    scaled, plain = _module(lr_scale=0.1), _module(lr_scale=1.0, seed=1)
    with torch.no_grad():
        for mine, other in zip(scaled.parameters(), plain.parameters()):
            other.copy_(mine * 0.1)  # the same effective values
    x = torch.randn(16, 3)
    target = torch.randn(16, 12)
    optimizers = [torch.optim.Adam(scaled.parameters(), lr=0.01), torch.optim.Adam(plain.parameters(), lr=0.001)]
    for _ in range(3):
        for module, optimizer in zip((scaled, plain), optimizers):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(module(x), target).backward()
            optimizer.step()
    for mine, other in zip(scaled.parameters(), plain.parameters()):
        torch.testing.assert_close(mine * 0.1, other, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(scaled(x), plain(x), rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    y = np.where(np.sin(3 * x[:, 0]) + x[:, 1] > 0, "up", "down")
    folder = tmp_path_factory.mktemp("embedded")
    table = folder / "table.csv"
    lines = ["a,b,c,d,label"] + [",".join(f"{v:.6f}" for v in row) + f",{label}" for row, label in zip(x, y)]
    table.write_text("\n".join(lines) + "\n")
    config = {"preset": "plain", "data": {"source": str(table), "target": "label"},
              "network": {"hidden": [8], "embedding": "periodic"},
              "training": {"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu"}}
    return layerwise.train(config, out=folder / "run", quiet=True), x


def test_an_embedded_network_reloads_and_reproduces_from_its_config(embedded_run, tmp_path) -> None:
    run, x = embedded_run
    loaded = layerwise.load(run.dir)
    layers = loaded.architecture.layers
    assert [layer["type"] for layer in layers][:2] == ["periodic", "dense"]
    assert tuple(loaded.module.embed0.weight.shape) == (4, 16, 3)  # 4 features, 16 cosines, 3 values each
    np.testing.assert_array_equal(loaded.predict_proba(x), run.predictor.predict_proba(x))
    again = run_cli(["train", run.dir / "config.yaml", "--out", tmp_path / "again", "--quiet"])
    assert again.code == 0, again.err
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (run.dir / "model.safetensors").read_bytes()


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="onnxruntime not installed (layerwise[export])")
def test_an_embedded_network_exports_to_onnx_with_parity(embedded_run, tmp_path) -> None:
    from layerwise.export import export, max_difference

    run, _ = embedded_run
    assert max_difference(layerwise.load(run.dir), export(run.dir, tmp_path / "m.onnx")) <= 1e-5


def test_embedding_mistakes_and_explain_are_one_line(embedded_run, tmp_path) -> None:
    run, _ = embedded_run
    assert_user_error(run_cli(["explain", run.dir, "--input", "0,0,0,0"]), "periodic")
    config = tmp_path / "bad.yaml"
    config.write_text("network:\n  embedding: periodic\n  layers:\n    - {type: dense, units: 4}\n")
    assert_user_error(run_cli(["train", config, "--data", "builtin:iris"]), "{type: periodic}")


def test_the_shorthand_embeds_numeric_columns_only_and_passes_the_rest_through() -> None:
    """Numeric columns come first in the preprocessed row; one-hot and indicator columns (0/1) follow."""
    import torch

    from layerwise.model import build_model, resolve_architecture
    from layerwise.spec import RunConfig

    spec = RunConfig.from_dict({"network": {"hidden": [6], "embedding": "periodic"}}).network
    arch = resolve_architecture(spec, input_size=5, output_size=2, numeric_features=2)
    assert arch.layers[0]["type"] == "periodic" and arch.layers[0]["features"] == 2
    model = build_model(arch)
    assert model.fc1.in_features == 2 * 4 + 3
    x = torch.randn(4, 5)
    out = model.embed0(x)
    torch.testing.assert_close(out[:, 8:], x[:, 2:])  # the 0/1 columns, unchanged
    torch.testing.assert_close(out[:, [0, 4]], x[:, :2])  # each numeric feature leads its block
    dense = resolve_architecture(spec, input_size=5, output_size=2, numeric_features=0)
    assert dense.layers is None and dense.hidden == [6]  # nothing to embed: the plain shorthand
