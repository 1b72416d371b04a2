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
    "iris-periodic": ({"source": "builtin:iris"}, {"hidden": [8], "embedding": "periodic", "dropout": 0.1}),
    "wine-typed-layers": ({"source": "builtin:wine"},
                          {"layers": [{"type": "periodic", "features": 5, "frequencies": 4, "size": 3, "lr_scale": 0.5},
                                      {"type": "dense", "units": 6, "activation": "tanh"}, {"type": "batch_norm"},
                                      {"type": "dropout", "rate": 0.1}, {"type": "dense", "units": 4},
                                      {"type": "activation", "activation": "mish"}]}),
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


@pytest.mark.parametrize("name", ["iris-relu", "iris-periodic"])
def test_predict_values_imports_no_torch(runs, name):
    run = runs[name]
    code = ("import sys, json; from layerwise.evaluate import predict_values; "
            f"print(json.dumps(predict_values({str(run.dir)!r}, '6.7,3.0,5.2,2.3'))); "
            "print([m for m in ('torch', 'pandas', 'sklearn', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    shown, heavy = out.stdout.strip().splitlines()
    assert heavy == "[]"  # one row needs none of them (each costs ~0.3-1 s of imports)
    row = pd.DataFrame([[6.7, 3.0, 5.2, 2.3]], columns=list(layerwise.load_source("builtin:iris").X.columns))
    assert json.loads(shown)["prediction"] == run.predict(row)[0]


def test_plain_rows_are_transformed_as_a_dataframe_is():
    """Plain values (predict --values, JSON rows) skip pandas; the DataFrame path is the reference:
    the same features and the same unseen-category warning, for numbers, gaps and categories."""
    import warnings

    from layerwise.data.preprocess import Preprocessor

    train = pd.DataFrame({"size": [1.0, 2.5, np.nan, 4.0, 8.0], "count": [3, 1, 4, 1, 5],
                          "colour": ["red", "blue", None, "red", "3.0"], "flag": [True, False, True, True, False]})
    for smooth_clip in (False, True):
        preprocessor = Preprocessor.fit(train, "table", scaling="robust" if smooth_clip else "standard",
                                        smooth_clip=smooth_clip)
        rows = [[2.0, 7, "red", True], [None, 2, "green", False], [np.nan, 0, None, True],
                [1e6, -3, 3.0, False], [0.5, 1, "green", np.True_], [np.float32(2.5), np.int64(4), np.str_("blue"), 1]]
        columns = list(train.columns)
        with warnings.catch_warnings(record=True) as plain_warnings:
            warnings.simplefilter("always")
            plain = preprocessor.transform(np.asarray(rows, dtype=object), where="rows")
        with warnings.catch_warnings(record=True) as frame_warnings:
            warnings.simplefilter("always")
            reference = preprocessor.transform(pd.DataFrame(rows, columns=columns), where="rows")
        np.testing.assert_array_equal(plain, reference)
        assert [str(w.message) for w in plain_warnings] == [str(w.message) for w in frame_warnings]
        assert len(plain_warnings) == 1 and "2 row(s)" in str(plain_warnings[0].message)
    with pytest.raises(layerwise.LayerwiseError, match="column 'size' row 1: 'big' is not a number"):
        preprocessor.transform(np.asarray([["big", 1, "red", True]], dtype=object), where="rows")
    np.testing.assert_array_equal(  # a number written as text: pandas' conversion, as before
        preprocessor.transform(np.asarray([["2.0", 7, "red", True]], dtype=object)), plain[:1])
