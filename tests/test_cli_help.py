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
        stated = re.search(r"\(default:? ([^);,]+)", param.help or "")
        if value is None and "Required" in (param.help or ""):
            continue
        assert stated, f"{param.opts[0]}: no default in {param.help!r}"
        said = stated[1].split()[0].rstrip(":")
        if isinstance(value, str):
            assert said == value, f"{param.opts[0]}: help says {said!r}, config has {value!r}"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(said) == value, f"{param.opts[0]}: help says {said!r}, config has {value!r}"
