"""Conv networks end to end: train a tiny one for two epochs, then predict, export (ONNX in
onnxruntime and TorchScript, checked against layerwise's own predictor), summarise, explain
(refused in one line) and draw; and MNIST-1D generated offline by the `mnist1d` package."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import layerwise
from helpers import assert_user_error, run_cli

PARITY = 1e-5  # max |exported - layerwise| on probabilities (the bar)
CONV1D = [{"type": "conv1d", "out_channels": 4, "kernel_size": 5, "stride": 2, "padding": 2},
          {"type": "batch_norm"},
          {"type": "residual", "layers": [{"type": "conv1d", "out_channels": 4, "kernel_size": 3, "padding": 1}]},
          {"type": "maxpool1d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "units": 8}]


def _signals(rows: int, length: int = 24, seed: int = 0):
    """Class 1 has a bump in its first half, class 0 in its second, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    x = rng.normal(0, 0.3, (rows, length)).astype(np.float32)
    centre = np.where(y == 1, rng.integers(2, length // 2 - 2, rows), rng.integers(length // 2 + 2, length - 2, rows))
    for i, c in enumerate(centre):
        x[i, c - 2:c + 3] += 2.0
    return x, np.where(y == 1, "left", "right")


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    x, y = _signals(240)
    config = {"network": {"layers": CONV1D}, "data": {"val_split": 0.25, "test_split": 0.25},
              "training": {"epochs": 2, "lr": 0.01, "batch_size": 32, "seed": 0, "device": "cpu"}}
    return layerwise.train(config, data=(x, y), out=tmp_path_factory.mktemp("conv") / "run", quiet=True)


def test_a_conv_run_directory_rebuilds_the_same_network(conv_run) -> None:
    x, _ = _signals(50, seed=1)
    loaded = layerwise.load(conv_run.dir)
    assert loaded.architecture.input_shape == [1, 24]
    np.testing.assert_array_equal(loaded.predict_proba(x), conv_run.predictor.predict_proba(x))
    assert set(loaded.predict(x)) <= {"left", "right"}


@pytest.mark.parametrize("format", ["onnx", "torchscript"])
def test_conv_exports_match_the_predictor(conv_run, tmp_path, format) -> None:
    from layerwise.export import export, run_onnx, run_torchscript

    if format == "onnx" and importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime not installed (layerwise[export])")
    x, _ = _signals(64, seed=2)
    path = export(conv_run.dir, tmp_path / f"model.{'onnx' if format == 'onnx' else 'pt'}", format=format)
    got = run_onnx(path, [x])[0] if format == "onnx" else run_torchscript(path, conv_run.predictor, [x])[0]
    want = conv_run.predictor.predict_proba(x)
    assert np.max(np.abs(got - want)) <= PARITY


def test_summary_lists_every_layer_with_its_output_shape(conv_run) -> None:
    result = run_cli(["summary", conv_run.dir])
    assert result.code == 0, result.err
    rows = {line.split("│")[1].strip(): line for line in result.out.splitlines() if line.count("│") >= 4}
    # 24 -> conv k5 s2 p2 -> 12 -> residual keeps (4, 12) -> pool 2 -> 6 -> flatten 24 -> dense 8 -> 1 logit
    for name, shape, params in [("conv1", "(4, 12)", "24"), ("bn1", "(4, 12)", "8"), ("res1", "(4, 12)", "52"),
                                ("res1.conv1", "(4, 12)", "52"), ("pool1", "(4, 6)", "0"), ("flatten1", "(24,)", "0"),
                                ("fc2", "(8,)", "200"), ("fc3", "(1,)", "9")]:
        assert shape in rows[name] and rows[name].rstrip("│ ").endswith(params), rows[name]
    module = layerwise.load(conv_run.dir).module
    assert f"{sum(p.numel() for p in module.parameters()):,}" in result.out.splitlines()[-2]


def test_explain_refuses_a_conv_net_in_one_line_and_draw_draws_blocks(conv_run, tmp_path) -> None:
    assert_user_error(run_cli(["explain", str(conv_run.dir), "--input", "1,2"]), "layers[0] is 'conv1d'", "dense layers only")
    result = run_cli(["draw", str(conv_run.dir), "-o", str(tmp_path / "net.png")])
    assert result.code == 0, result.err
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_digits_train_as_images_from_the_cli(tmp_path) -> None:
    (tmp_path / "cnn.yaml").write_text(
        "data: {source: builtin:digits}\n"
        "network:\n  layers:\n    - {type: conv2d, out_channels: 4, kernel_size: 3, bias: false}\n"
        "    - {type: avgpool2d, kernel_size: 2}\n    - {type: global_avg_pool}\n"
        "training: {epochs: 1, device: cpu}\n")
    result = run_cli(["train", tmp_path / "cnn.yaml", "--out", tmp_path / "run", "--quiet"])
    assert result.code == 0, result.err
    predictor = layerwise.load(tmp_path / "run")
    assert predictor.architecture.input_shape == [1, 8, 8]  # 8x8 images keep their shape
    assert predictor.module.conv1.bias is None and predictor.module.fc2.bias is not None  # per-layer bias
    again = run_cli(["train", tmp_path / "run" / "config.yaml", "--out", tmp_path / "again", "--quiet"])
    assert again.code == 0, again.err  # the resolved config.yaml reproduces the run, weight for weight
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (tmp_path / "run" / "model.safetensors").read_bytes()
    if importlib.util.find_spec("onnxruntime") is not None:
        from layerwise.export import export, max_difference

        assert max_difference(predictor, export(tmp_path / "run", tmp_path / "digits.onnx")) <= PARITY


def test_npz_images_with_channels_reach_conv2d_as_they_are(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (60, 2, 6, 5), dtype=np.uint8)  # (N, C, H, W) bytes
    np.savez(tmp_path / "pics.npz", x=x, y=rng.integers(0, 3, 60))
    config = {"data": {"source": str(tmp_path / "pics.npz")}, "training": {"epochs": 1, "device": "cpu"},
              "network": {"layers": [{"type": "conv2d", "out_channels": 3, "kernel_size": [3, 2]}, {"type": "flatten"}]}}
    run = layerwise.train(config, out=tmp_path / "run", quiet=True)
    assert run.predictor.architecture.input_shape == [2, 6, 5]
    assert tuple(run.predictor.module.conv1.weight.shape) == (3, 2, 3, 2)
    expected = run.predictor.module(torch_input(x[:4]) / 255.0)
    np.testing.assert_allclose(run.predictor.outputs(x[:4]), expected.detach().numpy(), rtol=1e-6)


def torch_input(x):
    import torch

    return torch.from_numpy(x.reshape(len(x), -1).astype(np.float32))


def test_a_dense_layer_on_an_image_without_flatten_is_refused(tmp_path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "data: {source: builtin:digits}\nnetwork:\n  layers:\n    - {type: conv2d, out_channels: 4, kernel_size: 3}\n"
        "    - {type: dense, units: 8}\n")
    assert_user_error(run_cli(["train", tmp_path / "bad.yaml", "--out", tmp_path / "run"]),
                      "network.layers[1]: dense needs a flat input but gets shape (4, 6, 6)")
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(importlib.util.find_spec("mnist1d") is None, reason="needs layerwise[mnist1d]")
def test_mnist1d_is_generated_offline_and_cached(tmp_path, monkeypatch) -> None:
    from mnist1d.data import get_dataset_args, make_dataset

    from layerwise.data.builtin import load_builtin

    monkeypatch.setenv("LAYERWISE_CACHE", str(tmp_path))
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    data = load_builtin("mnist1d")
    assert np.array_equal(np.random.get_state()[1], before)  # the caller's generator is left alone
    reference = make_dataset(get_dataset_args())  # the package's own default dataset
    np.testing.assert_allclose(data.X, reference["x"], rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, reference["y_test"])
    assert data.X.shape == (4000, 40) and data.X_test.shape == (1000, 40) and data.kind == "array"
    assert (tmp_path / "mnist1d-default-seed42.npz").is_file()
    np.testing.assert_array_equal(load_builtin("mnist1d").X, data.X)  # read back from the cache
    result = run_cli(["download", "mnist1d", tmp_path / "out"])
    assert result.code == 0 and f"--data {tmp_path / 'out' / 'mnist1d.npz'}" in result.out, result.err
    with np.load(tmp_path / "out" / "mnist1d.npz") as saved:
        np.testing.assert_array_equal(saved["x_test"], data.X_test)
