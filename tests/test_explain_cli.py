"""`layerwise explain` / `layerwise draw` through the real entry point and through register()."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from layerwise.cli.explain_cmd import register

SEED0_FILE = str(Path(__file__).resolve().parents[1] / "docs" / "seed0-network.yaml")
SEED0_ARGS = ["explain", SEED0_FILE, "--input", "1,2", "--target", "0", "--lr", "0.9"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layerwise", *args], capture_output=True, text=True, timeout=60)


def test_text_output_of_the_seed0_command() -> None:
    result = run_cli(*SEED0_ARGS)
    assert result.returncode == 0, result.stderr
    for line in ("h1 = 1×0.8 + 2×0.2 = 1.2", "σ(1.2) = 0.7685", "σ(1.2409) = 0.77572", "Backward pass",
                 "w(h3←x2)", "0.1 − 0.9×0.1142 = -0.0028"):
        assert line in result.stdout, line


def test_decimals_two_says_it_rounds_and_gives_0_77539() -> None:
    result = run_cli(*SEED0_ARGS, "--decimals", "2")
    assert result.returncode == 0, result.stderr
    assert "σ(1.239) = 0.77539" in result.stdout and "rounded to 2 decimals" in result.stdout


def test_json_and_markdown_formats() -> None:
    data = json.loads(run_cli(*SEED0_ARGS, "--format", "json").stdout)
    assert round(data["output"][0], 5) == 0.77572 and data["loss"] == "mse" and data["learning_rate"] == 0.9
    markdown = run_cli(*SEED0_ARGS, "--format", "markdown").stdout
    assert "| h1 | h1 = 1×0.8 + 2×0.2 = 1.2 | σ(1.2) = 0.7685 |" in markdown


def test_register_adds_both_commands_to_an_app(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    result = runner.invoke(app, [*SEED0_ARGS, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert abs(json.loads(result.stdout)["forward"][0]["z"][0] - 1.2) < 1e-12
    image = tmp_path / "net.png"
    result = runner.invoke(app, ["draw", SEED0_FILE, "-o", str(image)])
    assert result.exit_code == 0, result.output
    assert image.stat().st_size > 0


def test_cli_module_does_not_import_heavy_libraries() -> None:
    code = ("import sys, layerwise.cli.explain_cmd; "
            "print([m for m in ('torch', 'numpy', 'pandas', 'matplotlib') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
