"""The typed network language: `network.layers` builds what torch would build by hand, the
`hidden:` shorthand keeps its modules and numbers, and shape mistakes are one line naming the layer."""

from __future__ import annotations

import numpy as np
import pytest

from layerwise.errors import LayerwiseError
from layerwise.model import build_model, initialise, resolve_architecture
from layerwise.spec import NetworkSpec, RunConfig


def network(raw: dict) -> NetworkSpec:
    return RunConfig.from_dict({"network": raw}).network


def built(raw: dict, input_size: int, output_size: int, sample_shape=None, seed: int = 0):
    import torch

    spec = network(raw)
    arch = resolve_architecture(spec, input_size, output_size, sample_shape)
    torch.manual_seed(seed)
    model = build_model(arch)
    initialise(model, spec, arch)
    return model, arch


def test_hidden_shorthand_builds_the_modules_and_weights_it_always_has() -> None:
    """Reference: the seeds' hand-written layers, built in the same order from the same seed."""
    import torch
    from torch import nn

    model, _ = built({"hidden": [5, 4], "activation": ["tanh", "relu"], "batch_norm": True, "dropout": 0.1}, 3, 2)
    torch.manual_seed(0)
    reference = nn.Sequential()
    reference.add_module("fc1", nn.Linear(3, 5))
    reference.add_module("bn1", nn.BatchNorm1d(5))
    reference.add_module("act1", nn.Tanh())
    reference.add_module("drop1", nn.Dropout(0.1))
    reference.add_module("fc2", nn.Linear(5, 4))
    reference.add_module("bn2", nn.BatchNorm1d(4))
    reference.add_module("act2", nn.ReLU())
    reference.add_module("drop2", nn.Dropout(0.1))
    reference.add_module("fc3", nn.Linear(4, 2))
    assert [name for name, _ in model.named_children()] == [name for name, _ in reference.named_children()]
    assert list(model.state_dict()) == list(reference.state_dict())
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_xavier_gain_follows_the_activation_after_batch_norm() -> None:
    import torch
    from torch import nn

    model, _ = built({"hidden": [6], "activation": "tanh", "batch_norm": True, "init": "xavier"}, 4, 3)
    torch.manual_seed(0)
    first, last = nn.Linear(4, 6), nn.Linear(6, 3)
    nn.init.xavier_uniform_(first.weight, gain=nn.init.calculate_gain("tanh"))
    nn.init.xavier_uniform_(last.weight, gain=1.0)
    assert torch.equal(model.fc1.weight, first.weight) and torch.equal(model.fc2.weight, last.weight)
    assert not model.fc1.bias.any()


CONV1D = {"layers": [
    {"type": "conv1d", "out_channels": 4, "kernel_size": 5, "stride": 2, "padding": 2},
    {"type": "conv1d", "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1, "activation": "gelu"},
    {"type": "maxpool1d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "dense", "units": 7, "init": "kaiming"},
]}


def test_conv1d_layers_match_the_same_network_written_in_torch() -> None:
    import torch
    from torch import nn

    model, arch = built(CONV1D, 40, 10)
    assert arch.input_shape == [1, 40]  # a table row is one channel of length 40
    torch.manual_seed(0)
    conv1, conv2 = nn.Conv1d(1, 4, 5, stride=2, padding=2), nn.Conv1d(4, 6, 3, stride=2, padding=1)
    dense, out = nn.Linear(6 * 5, 7), nn.Linear(7, 10)  # 40 -> 20 -> 10 -> pooled 5
    nn.init.kaiming_uniform_(dense.weight, nonlinearity="relu")
    nn.init.zeros_(dense.bias)
    reference = nn.Sequential(nn.Unflatten(1, (1, 40)), conv1, nn.ReLU(), conv2, nn.GELU(), nn.MaxPool1d(2),
                              nn.Flatten(), dense, nn.ReLU(), out)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    x = torch.randn(3, 40)
    torch.testing.assert_close(model(x), reference(x), rtol=0, atol=0)
    assert [n for n, _ in model.named_children()][:6] == ["unflatten", "conv1", "act1", "conv2", "act2", "pool2"]


def test_images_keep_their_channels_and_residual_blocks_add() -> None:
    import torch

    raw = {"layers": [{"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},
                      {"type": "residual", "layers": [{"type": "conv2d", "out_channels": 3, "kernel_size": 3,
                                                       "padding": 1, "activation": "identity"}]},
                      {"type": "avgpool2d", "kernel_size": 2}, {"type": "global_avg_pool"}]}
    model, arch = built(raw, 64, 2, sample_shape=(8, 8))
    assert arch.input_shape == [1, 8, 8]
    x = torch.randn(2, 64)
    h = model.act1(model.conv1(x.reshape(2, 1, 8, 8)))
    h = h + model.res1.body.conv1(h)
    expected = model.fc2(torch.nn.functional.avg_pool2d(h, 2).mean(dim=(2, 3)))
    torch.testing.assert_close(model(x), expected)


@pytest.mark.parametrize("raw, sample, message", [
    ({"layers": [{"type": "conv1d", "out_channels": 2, "kernel_size": 9}]}, (6,),
     "network.layers[0]: conv1d kernel_size 9 is larger than its input (6 with padding 0"),
    ({"layers": [{"type": "conv1d", "out_channels": 2, "kernel_size": 3}, {"type": "dense", "units": 4}]}, (6,),
     "network.layers[1]: dense needs a flat input but gets shape (2, 4)"),
    ({"layers": [{"type": "conv1d", "out_channels": 2, "kernel_size": 3}]}, (6,),
     "network.layers[0]: gives shape (2, 4) but the output layer (dense, added from the task) needs a flat input"),
    ({"layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3}]}, (6,),
     "network.layers[0]: conv2d needs (channels, height, width) images but the data gives samples of shape (6,)"),
    ({"layers": [{"type": "conv1d", "out_channels": 2, "kernel_size": 1}, {"type": "maxpool1d", "kernel_size": 8}]},
     (6,), "network.layers[1]: maxpool1d kernel_size 8 is larger"),
    ({"layers": [{"type": "conv1d", "out_channels": 2, "kernel_size": 1},
                 {"type": "residual", "layers": [{"type": "flatten"}, {"type": "dense", "units": 3}]}]},
     (6,), "network.layers[1]: residual block changes the shape from (2, 6) to (3,)"),
    ({"layers": [{"type": "conv1d", "out_channels": 2, "kernel_size": 1},
                 {"type": "residual", "layers": [{"type": "dense", "units": 3}]}]},
     (6,), "network.layers[1].layers[0]: dense needs a flat input"),
])
def test_shape_mistakes_name_the_layer(raw, sample, message) -> None:
    with pytest.raises(LayerwiseError) as caught:
        resolve_architecture(network(raw), int(np.prod(sample)), 3, sample)
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize("raw, message", [
    ({"layers": [{"type": "conv3d"}]}, "network.layers[0]: unknown layer type 'conv3d'"),
    ({"layers": [{"type": "conv1d", "out_channels": 2}]}, "network.layers[0].kernel_size: Field required"),
    ({"layers": [{"type": "dense", "units": 3, "size": 2}]}, "network.layers[0].size: unknown key"),
    ({"layers": [{"units": 3}]}, "network.layers[0]: each layer needs a 'type'"),
    ({"layers": [{"type": "dense", "units": 3}], "hidden": [4]}, "'network': give layers or hidden, not both"),
    ({"layers": [{"type": "dense", "units": 3}], "dropout": 0.5}, "'network': dropout applies to the hidden"),
    ({"layers": [{"type": "activation", "activation": "swish"}]}, "network.layers[0].activation: unknown activation"),
])
def test_config_mistakes_name_the_layer(raw, message) -> None:
    with pytest.raises(LayerwiseError) as caught:
        network(raw)
    assert str(caught.value).startswith(f"config: {message}"), str(caught.value)


def test_layers_config_round_trips_through_yaml_form() -> None:
    config = RunConfig.from_dict({"network": CONV1D})
    again = RunConfig.from_dict(config.to_dict())
    assert again.network == config.network and "hidden" not in config.to_dict()["network"]
    assert "layers" not in RunConfig().to_dict()["network"]  # dense configs read as they always did


def test_a_registered_layer_type_is_usable_in_specs_and_models() -> None:
    """The registry API other layer kinds plug into (builder + shape function)."""
    from typing import Literal

    from layerwise.layers import LayerSpec, LayerType, register
    from layerwise.layers.registry import _TYPES
    from layerwise.layers.sequence import build_layers, output_shapes, parse_layers

    class Double(LayerSpec):
        type: Literal["double_test"] = "double_test"

    def build(spec, shape):
        from torch import nn

        return nn.Upsample(scale_factor=2)

    register(LayerType(Double, lambda spec, shape: (shape[0], shape[1] * 2), build, prefix="up", input_rank=2))
    try:
        specs = parse_layers([{"type": "double_test"}, {"type": "flatten"}])
        assert output_shapes(specs, (3, 5)) == [(3, 10), (30,)]
        assert list(build_layers(specs, (3, 5))) == ["up0", "flatten0"]
    finally:
        del _TYPES["double_test"]


def test_network_flatten_reads_an_image_as_one_channel_signal() -> None:
    conv = {"type": "conv1d", "out_channels": 2, "kernel_size": 3}
    _, shaped = built({"layers": [conv, {"type": "flatten"}]}, 16, 2, sample_shape=(4, 4))
    _, flat = built({"layers": [conv, {"type": "flatten"}], "flatten": True}, 16, 2, sample_shape=(4, 4))
    assert shaped.input_shape == [4, 4]  # (N, C, L) arrays: 4 channels of length 4
    assert flat.input_shape == [1, 16]  # flatten: true -> one channel of 16 values
    _, dense = built({"hidden": [3]}, 16, 2, sample_shape=(4, 4))
    assert dense.input_shape is None and "input_shape" not in dense.to_dict()  # model.json as before


def test_explain_reads_typed_dense_layers_like_the_hidden_shorthand() -> None:
    from layerwise.explain import explain

    weights = [[[0.5, -0.2], [0.1, 0.4], [-0.3, 0.8]], [[0.7, -0.1, 0.2]]]
    common = {"input_size": 2, "output_size": 1, "weights": weights, "biases": [[0.1, 0.0, -0.1], [0.05]]}
    typed = explain({"network": {**common, "layers": [{"type": "dense", "units": 3, "activation": "tanh"}]}}, "1,2")
    shorthand = explain({"network": {**common, "hidden": [3], "activation": "tanh"}}, "1,2")
    np.testing.assert_array_equal(typed.output, shorthand.output)
    with pytest.raises(LayerwiseError, match=r"layers\[1\] is 'dropout'; explain works dense layers only"):
        explain({"network": {**common, "layers": [{"type": "dense", "units": 3}, {"type": "dropout"}]}}, "1,2")
