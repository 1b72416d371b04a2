"""Every example learns (seeded thresholds), and the seeds' scenarios match plain torch.

Seeds 3 (apples/oranges linear regression) and 4 (sum of three numbers) are written out below as
the tutorials' own torch loops; layerwise must land on the same weights. The MNIST examples run
on synthetic IDX files (no download), with the examples' exact networks and settings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import layerwise
from helpers import assert_complete, make_mnist_dir

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_every_example_is_covered_here() -> None:
    covered = {"digits", "apples_oranges", "sum3", "mnist_classifier", "mnist_512", "digits_cnn", "mnist1d_cnn"}
    assert {p.stem for p in EXAMPLES.glob("*.yaml")} == covered


def test_digits_cnn_example_reads_images_and_learns(tmp_path: Path) -> None:
    # The full 100 epochs are a measurement (its header); three epochs show it learns, seeded.
    run = layerwise.train(EXAMPLES / "digits_cnn.yaml", out=tmp_path / "cnn", quiet=True, overrides=["training.epochs=3"])
    assert run.predictor.architecture.input_shape == [1, 8, 8]
    assert run.summary["test"]["accuracy"] >= 0.8


def test_mnist1d_cnn_example_reads_signals_and_learns(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("mnist1d", reason="needs layerwise[mnist1d]")
    monkeypatch.setenv("LAYERWISE_CACHE", str(tmp_path / "cache"))
    run = layerwise.train(EXAMPLES / "mnist1d_cnn.yaml", out=tmp_path / "m1d", quiet=True,
                          overrides=["training.epochs=3"])
    assert run.predictor.architecture.input_shape == [1, 40]
    assert run.summary["test"]["rows"] == 1000 and run.summary["test"]["accuracy"] >= 0.4  # chance: 0.1


def test_digits_example_reaches_its_documented_accuracy(tmp_path: Path) -> None:
    # examples/digits.yaml documents 0.972 test accuracy with seed 0.
    run = layerwise.train(EXAMPLES / "digits.yaml", out=tmp_path / "digits", quiet=True)
    assert run.summary["test"]["accuracy"] >= 0.96
    assert run.summary["test"]["rows"] == 360  # 20% of 1,797, rounded up
    assert_complete(run.dir, classification=True)


def _torch_reference(model, X, y, epochs: int, batch: int, lr: float, momentum: float):
    """The seeds' loop: for each epoch, batches in order, MSE, SGD step. Also keeps the weights
    of the epoch with the lowest mean training loss, which layerwise restores at the end."""
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = torch.nn.MSELoss()
    best, best_state = float("inf"), None
    for _ in range(epochs):
        total = torch.zeros(())
        for start in range(0, len(X), batch):
            xb, yb = X[start:start + batch], y[start:start + batch]
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
        mean = (total / len(X)).item()
        if mean < best:
            best, best_state = mean, {k: v.clone() for k, v in model.state_dict().items()}
    return best_state


def test_seed3_apples_oranges_matches_the_tutorials_torch_loop() -> None:
    import torch

    from layerwise.data.builtin import load_builtin

    # shuffle off so both loops see the same batches; everything else is the example's.
    run = layerwise.fit(EXAMPLES / "apples_oranges.yaml", overrides=["training.shuffle=false"])
    data = load_builtin("apples_oranges")
    X = torch.tensor(data.X.to_numpy(), dtype=torch.float32)
    y = torch.tensor(data.y, dtype=torch.float32)
    torch.manual_seed(0)
    reference = torch.nn.Linear(3, 2)  # the tutorial's model
    expected = _torch_reference(reference, X, y, epochs=100, batch=3, lr=1e-4, momentum=0.9)
    got = run.predictor.module.state_dict()
    assert got["fc1.weight"].shape == (2, 3)
    torch.testing.assert_close(got["fc1.weight"], expected["weight"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got["fc1.bias"], expected["bias"], rtol=1e-5, atol=1e-6)


def test_seed3_example_as_written_fits_nearly_as_well_as_least_squares() -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error

    from layerwise.data.builtin import load_builtin

    data = load_builtin("apples_oranges")
    ols = mean_squared_error(data.y, LinearRegression().fit(data.X, data.y).predict(data.X))  # 0.483
    run = layerwise.fit(EXAMPLES / "apples_oranges.yaml")
    predicted = run.predict(data.X)
    assert predicted.shape == (15, 2)
    # Raw inputs and lr 1e-4 leave SGD short of the optimum (seed 0 gets 3.1); a broken loop,
    # loss or target order lands in the thousands, like the tutorial's untrained 5762.
    assert mean_squared_error(data.y, predicted) < 10 * ols
    assert run.summary["train"]["r2"] > 0.99


def test_seed4_sum3_matches_the_tutorials_torch_loop_and_learns_the_sum() -> None:
    import torch

    run = layerwise.fit(EXAMPLES / "sum3.yaml")
    X = torch.tensor([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
    y = torch.tensor([[6.0], [9.0], [12.0]])
    torch.manual_seed(15)  # the example's seed
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    expected = _torch_reference(reference, X, y, epochs=100, batch=3, lr=0.01, momentum=0.0)
    got = run.predictor.module.state_dict()
    # Full batch: the rows' order inside the one batch only moves the last float bits.
    for ours, theirs in (("fc1", "0"), ("fc2", "2")):
        for part in ("weight", "bias"):
            torch.testing.assert_close(got[f"{ours}.{part}"], expected[f"{theirs}.{part}"], rtol=1e-4, atol=1e-5)
    # The tutorial's loss ends at 0.101; the example's comment says seed 15 gives 0.085.
    assert run.summary["train"]["mse"] < 0.15
    assert abs(float(run.predict(np.array([[2.0, 3.0, 4.0]]))[0]) - 9.0) < 0.5


@pytest.mark.parametrize(("example", "gz", "hidden"), [("mnist_classifier", True, [100, 50]),
                                                       ("mnist_512", False, [512, 512])])
def test_mnist_examples_learn_synthetic_digits(tmp_path: Path, example: str, gz: bool, hidden: list) -> None:
    make_mnist_dir(tmp_path / "mnist", n_train=600, n_test=200, gz=gz)
    run = layerwise.train(EXAMPLES / f"{example}.yaml", out=tmp_path / "run", quiet=True,
                          overrides=[f"data.source=mnist:{tmp_path / 'mnist'}"])
    # 10 balanced classes: guessing gives ~0.10; the bars are easy, 3 epochs get >0.9.
    assert run.summary["test"]["accuracy"] >= 0.9
    assert run.summary["test"]["rows"] == 200  # the IDX test files, not a split of train
    meta = json.loads((run.dir / "model.json").read_text())
    assert meta["network"]["input_size"] == 784 and meta["network"]["hidden"] == hidden
    assert meta["classes"] == list(range(10))
    assert_complete(run.dir, classification=True)
