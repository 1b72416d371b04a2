"""Fuzz-found inputs once more through `python -m layerwise`, as a user's terminal sees them: the
in-process fuzz cannot see warnings printed to stderr (pytest captures them) or a traceback that
only the real entry point would print."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_user_error, idx_bytes, mixed_table, run_subprocess, synthetic_digits


@pytest.fixture(scope="module")
def fruit_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("e2e")
    mixed_table().to_csv(base / "fruit.csv", index=False)
    done = run_subprocess(["train", "--data", "fruit.csv", "--target", "label", "--hidden", "8", "--epochs", "3",
                           "--out", "run", "-q"], cwd=base)
    assert done.code == 0 and done.err == "", done.err
    return base / "run"


def _write_cases(work: Path) -> None:
    (work / "deep.yaml").write_text("data: " + "[" * 3000 + "]" * 3000)
    table = mixed_table(30)
    table.to_parquet(work / "t.parquet")
    (work / "cut.parquet").write_bytes((work / "t.parquet").read_bytes()[:200])
    np.savez(work / "huge.npz", x=np.array([[1e308, 1.0], [-1e308, 2.0], [0.0, 3.0], [1e300, 4.0]] * 5),
             y=np.array([0, 1] * 10))
    (work / "m").mkdir()
    x, y = synthetic_digits(12, seed=0)
    for stem, array in (("train-images-idx3-ubyte", x[:8]), ("train-labels-idx1-ubyte", y[:8]),
                        ("t10k-images-idx3-ubyte", x[8:]), ("t10k-labels-idx1-ubyte", y[8:])):
        (work / "m" / (stem + ".gz")).write_bytes(gzip.compress(idx_bytes(array)))
    data = (work / "m" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (work / "m" / "t10k-labels-idx1-ubyte.gz").write_bytes(data[:len(data) // 2])
    (work / "net.yaml").write_text("layers: [2, 3, 1]\nactivation: sigmoid\nbias: false\n"
                                   "weights: [[[0.8, 0.2], [0.4, 0.9], [0.3, 0.1]], [[0.3, 0.5, 0.9]]]\n")
    mixed_table(10).assign(label="green").to_csv(work / "green.csv", index=False)


ERRORS = {
    "YAML nested too deeply": (["train", "deep.yaml", "--out", "out"], ["deep.yaml", "nested too deeply"]),
    "truncated Parquet": (["train", "--data", "cut.parquet", "--target", "label", "--out", "out"], ["cut.parquet"]),
    "truncated gzip IDX": (["train", "--data", "mnist:m", "--out", "out"], ["t10k-labels-idx1-ubyte.gz", "cannot read IDX"]),
    "unseen labels": (["evaluate", "{run}", "--data", "green.csv"], ["green.csv", "'green'", "never saw"]),
    "bad flag value": (["train", "--data", "builtin:iris", "--epochs", "many"], ["--epochs"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_fuzz_found_errors_are_one_line_in_a_real_terminal(tmp_path: Path, fruit_run: Path, case: str) -> None:
    _write_cases(tmp_path)
    args, fragments = ERRORS[case]
    assert_user_error(run_subprocess([str(a).replace("{run}", str(fruit_run)) for a in args], cwd=tmp_path), *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [
    ["train", "--data", "huge.npz", "--hidden", "4", "--epochs", "2", "--out", "out", "-q"],  # numbers near 1e308
    ["explain", "net.yaml", "--input", "1,2", "--target", "0", "--lr", "0.9"],  # seed 0's network
])
def test_accepted_inputs_print_nothing_to_stderr(tmp_path: Path, args: list) -> None:
    _write_cases(tmp_path)
    done = run_subprocess(args, cwd=tmp_path)
    assert done.code == 0 and done.err == "", done.err


def test_binary_probabilities_of_extreme_logits_are_exact_and_silent() -> None:
    import warnings

    from layerwise.predictor import probabilities

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = probabilities("binary", np.array([[-1000.0], [0.0], [1000.0]]))
    np.testing.assert_array_equal(proba, [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
