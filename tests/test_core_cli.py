"""`layerwise summary` against torch's own print(model) and parameter counts, the cheap-import
promise, and the CLI as a long-lived in-process entry point."""

from __future__ import annotations

import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest

from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HEAVY = ("torch", "pandas", "matplotlib", "sklearn")


def _reference(sizes: list[int]):
    """The seeds' network written out in torch: Linear/ReLU pairs named like layerwise's."""
    from torch import nn

    layers: OrderedDict = OrderedDict()
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        layers[f"fc{i}"] = nn.Linear(n_in, n_out)
        if i < len(sizes) - 1:
            layers[f"act{i}"] = nn.ReLU()
    return nn.Sequential(layers)


@pytest.mark.parametrize(("config", "sizes", "total"), [
    ("mnist_classifier.yaml", [784, 100, 50, 10], "84,060"),  # seed 2's published count
    ("mnist_512.yaml", [784, 512, 512, 10], "669,706"),  # seed 1: the PyTorch basics tutorial
    ("digits.yaml", [64, 256, 128, 10], None),  # sizes come from the data
])
def test_summary_prints_the_model_and_its_parameters(config: str, sizes: list[int], total) -> None:
    result = run_cli(["summary", EXAMPLES / config])
    assert result.code == 0, result.err
    reference = _reference(sizes)
    count = sum(p.numel() for p in reference.parameters())
    if total is not None:
        assert f"{count:,}" == total
    if config != "digits.yaml":  # digits has dropout layers too
        assert str(reference) in result.out
    else:
        assert "(fc1): Linear(in_features=64, out_features=256, bias=True)" in result.out
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        assert f"fc{i}" in result.out and f"{n_in * n_out + n_out:,}" in result.out
    assert f"{count:,}" in result.out.splitlines()[-2]  # the total row


def test_summary_of_a_run_directory(iris_run) -> None:
    import layerwise

    result = run_cli(["summary", iris_run.dir])
    assert result.code == 0, result.err
    module = layerwise.load(iris_run.dir).module
    assert str(module) in result.out
    assert f"{sum(p.numel() for p in module.parameters()):,}" in result.out.splitlines()[-2]  # 4*16+16+16*3+3 = 131


def _imported_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr.split()


def test_import_layerwise_is_cheap() -> None:
    assert _imported_after("import layerwise; layerwise.__version__; layerwise.LayerwiseError") == []


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["predict", "--help"], ["summary", "--help"]])
def test_help_is_cheap(argv: list[str]) -> None:
    code = f"from layerwise.cli.main import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    assert _imported_after(code) == []


def test_the_import_probe_sees_heavy_modules_once_they_are_used() -> None:
    # the control for the two tests above: the same probe sees pandas once it is really needed,
    # while a builtin set is read from the files scikit-learn ships without importing sklearn
    loaded = _imported_after("import layerwise; layerwise.load_source('builtin:iris')")
    assert "pandas" in loaded and "sklearn" not in loaded


def test_main_can_be_called_many_times_without_growing() -> None:
    from layerwise.cli.main import app, main

    def call() -> int:
        try:
            main(["datasets", "--help"])
        except SystemExit:
            pass
        return len(app.registered_commands)

    assert call() == call()
