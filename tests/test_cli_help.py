"""`--help` is readable in an 80-column terminal: nothing truncated, every flag described, and
every `train` flag names its default, which is the config's own default."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


def _commands():
    import typer

    from layerwise.cli.main import _register_commands, app

    _register_commands()
    return typer.main.get_command(app).commands


def test_every_flag_of_every_command_has_a_description() -> None:
    for name, command in _commands().items():
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"layerwise {name} {param.opts[0]} has no description"


@pytest.mark.parametrize("command", ["train", "predict", "explain", "runs", "serve"])
def test_help_fits_80_columns_without_truncation(command) -> None:
    done = subprocess.run([sys.executable, "-m", "layerwise", command, "--help"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout and "╭" not in done.stdout
    assert max(map(len, done.stdout.splitlines())) <= 80
    if command == "train":
        for flag in ("--no-early-stopping", "--epochs", "--momentum", "--dropout", "--seed", "--precision"):
            assert re.search(rf"^  {flag}\b.*\S", done.stdout, re.M), flag


def test_train_flags_state_the_configs_defaults() -> None:
    from layerwise.cli.train_cmd import FLAG_KEYS
    from layerwise.spec import RunConfig

    defaults = RunConfig().to_dict()
    train = _commands()["train"]
    for param in train.params:
        if param.name not in FLAG_KEYS:
            continue
        value = defaults
        for part in FLAG_KEYS[param.name].split("."):
            value = value[part]
        if param.name == "preset":  # its default is $LAYERWISE_PRESET or auto (this suite sets plain)
            assert "auto (default)" in param.help
            continue
        # flags the auto preset fills in state the plain default beside the recipe's choice
        stated = re.search(r"(?:\(default|plain default):? ([^);,]+)", param.help or "")
        if value is None and "Required" in (param.help or ""):
            continue
        assert stated, f"{param.opts[0]}: no default in {param.help!r}"
        said = stated[1].split()[0].rstrip(":")
        if isinstance(value, str):
            assert said == value, f"{param.opts[0]}: help says {said!r}, config has {value!r}"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(said) == value, f"{param.opts[0]}: help says {said!r}, config has {value!r}"


def test_readme_mentions_every_command_and_train_flag() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    commands = _commands()
    for name in commands:
        assert f"layerwise {name}" in readme, f"README does not document `layerwise {name}`"
    for param in commands["train"].params:
        flags = [f for f in param.opts + param.secondary_opts if f.startswith("--") and f != "--help"]
        if flags and not getattr(param, "hidden", False):  # hidden: internal (the DDP launcher's)
            # a --x/--no-x pair counts as mentioned when either half is
            assert any(f in readme for f in flags), f"README does not mention train's {flags[0]}"
