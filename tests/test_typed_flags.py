"""CLI flags reach the config as typed values (a nested dict), not as YAML text parsed again;
`--set key=value` stays user text, parsed as YAML."""

from __future__ import annotations

from pathlib import Path

import yaml

from helpers import run_cli
from layerwise.cli.train_cmd import flags_to_overrides
from layerwise.run import as_config


def test_flags_become_a_nested_dict_of_typed_values() -> None:
    nested = flags_to_overrides({"target": ["yes"], "id_column": "null", "lr": 1e3, "hidden": [8, 4],
                                 "activation": ["tanh"], "patience": 3}, no_early_stopping=True)
    assert nested == {"data": {"target": ["yes"], "id_column": "null"},
                      "network": {"hidden": [8, 4], "activation": "tanh"},
                      "training": {"lr": 1000.0, "early_stopping": {"patience": 3, "enabled": False}}}
    config = as_config({}, [nested])
    assert config.data.target == ["yes"] and config.data.id_column == "null"
    assert isinstance(config.training.lr, float) and config.training.lr == 1000.0


def test_set_text_is_yaml_and_flags_win_over_it() -> None:
    config = as_config({}, ["training.lr=1e-3", "training.epochs=7",
                            "network.hidden=[5, 3]", flags_to_overrides({"epochs": 2})])
    assert config.training.lr == 0.001 and config.network.hidden == [5, 3]
    assert config.training.epochs == 2


def test_flag_strings_reach_the_run_config_without_a_yaml_parse(tmp_path: Path, monkeypatch) -> None:
    """Columns named yes/null: a `train` with flags only never parses YAML text for them."""
    import layerwise.safe_yaml as safe_yaml

    table = tmp_path / "t.csv"
    rows = ["null,x,yes"] + [f"r{i},{i % 5 / 5},{i % 2}" for i in range(40)]
    table.write_text("\n".join(rows) + "\n")

    def refuse(text, where):
        raise AssertionError(f"flag value went through YAML text: {where} = {text!r}")

    monkeypatch.setattr(safe_yaml, "parse_value", refuse)
    result = run_cli(["train", "--data", table, "--target", "yes", "--id-column", "null", "--epochs", "1",
                      "--hidden", "4", "--lr", "1e-2", "--out", tmp_path / "run", "--quiet"])
    assert result.code == 0, result.err
    written = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert written["data"]["target"] == ["yes"] and written["data"]["id_column"] == "null"
    assert written["training"]["lr"] == 0.01 and written["training"]["epochs"] == 1
