"""`predict --values` runs dense networks in NumPy: the outputs agree with the torch model to
float32 precision, for every layer kind a dense network has, and the command imports no torch."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import layerwise
from layerwise.light_predict import load_light

CASES = {
    "iris-relu": ({"source": "builtin:iris"}, {"hidden": [16, 8]}),
    "wine-bn-gelu-dropout": ({"source": "builtin:wine"},
                             {"hidden": [12], "activation": "gelu", "batch_norm": True, "dropout": 0.2}),
    "cancer-binary-tanh-nobias": ({"source": "builtin:breast_cancer"},
                                  {"hidden": [8], "activation": "tanh", "bias": False}),
    "apples-two-targets-elu": ({"source": "builtin:apples_oranges"}, {"hidden": [5], "activation": "elu"}),
    "digits-images-softplus": ({"source": "builtin:digits"}, {"hidden": [10], "activation": "softplus"}),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for name, (data, network) in CASES.items():
        config = {"data": data, "network": network, "training": {"epochs": 3, "threads": 1}}
        out[name] = layerwise.train(config, out=tmp_path_factory.mktemp(name) / "run", quiet=True)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_outputs_match_the_torch_model(runs, name):
    run = runs[name]
    source = CASES[name][0]["source"]
    X = layerwise.load_source(source).X[:40]
    light = load_light(run.dir)
    assert light is not None
    torch_outputs = layerwise.load(run.dir).outputs(X)
    np.testing.assert_allclose(light.outputs(X), torch_outputs, rtol=1e-5, atol=1e-6)
    assert str(light.module) == str(layerwise.load(run.dir).module)  # torch, built on demand


def test_predict_values_imports_no_torch(runs):
    run = runs["iris-relu"]
    code = ("import sys, json; from layerwise.evaluate import predict_values; "
            f"print(json.dumps(predict_values({str(run.dir)!r}, '6.7,3.0,5.2,2.3'))); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    shown, torch_loaded = out.stdout.strip().splitlines()
    assert torch_loaded == "False"
    row = pd.DataFrame([[6.7, 3.0, 5.2, 2.3]], columns=list(layerwise.load_source("builtin:iris").X.columns))
    assert json.loads(shown)["prediction"] == run.predict(row)[0]
