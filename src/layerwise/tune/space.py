"""The search space: `search:` in a tune config, keyed by the dotted names of `--set`.

    search:
      training.lr: {log_uniform: [0.0001, 0.01]}
      network.hidden: {choice: [[16], [64, 32], [128]]}
      network.dropout: {uniform: [0.0, 0.3]}
      training.batch_size: {int: [32, 256], log: true}

Every mistake is found before a trial runs: unknown keys, malformed or empty ranges, and values
the config itself would reject (each range is checked by building the config at both ends, each
choice by building it with that choice).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

from ..errors import LayerwiseError

KINDS = ("log_uniform", "uniform", "int", "choice")
# the data and its splits define what a score means; searching them would compare unlike things
FIXED = ("data.source", "data.target", "data.val", "data.test", "data.val_split", "data.test_split",
         "data.split_seed", "task", "out", "name", "resolved")


@dataclass(frozen=True)
class Dimension:
    key: str  # dotted config key, e.g. training.lr
    kind: str  # one of KINDS
    low: Any = None
    high: Any = None
    log: bool = False
    choices: tuple = ()

    def samples_for_check(self) -> list:
        return list(self.choices) if self.kind == "choice" else [self.low, self.high]

    def suggest(self, trial) -> Any:
        """Ask an Optuna trial for a value; choices that are lists travel as their YAML text,
        since Optuna's categorical values must be plain scalars."""
        if self.kind == "choice":
            labels = [_label(choice) for choice in self.choices]
            picked = trial.suggest_categorical(self.key, labels)
            return self.choices[labels.index(picked)]
        if self.kind == "int":
            return trial.suggest_int(self.key, self.low, self.high, log=self.log)
        return trial.suggest_float(self.key, self.low, self.high, log=self.kind == "log_uniform")

    def decode(self, stored: Any) -> Any:
        """A value as Optuna stored it (trial.params) -> the config value."""
        if self.kind == "choice":
            labels = [_label(choice) for choice in self.choices]
            return self.choices[labels.index(stored)] if stored in labels else stored
        return stored


def _label(choice: Any) -> Any:
    if choice is None or isinstance(choice, (bool, int, float, str)):
        return choice
    import yaml

    return yaml.safe_dump(choice, default_flow_style=True).strip()


def parse_space(raw: Any, where: str) -> list[Dimension]:
    if raw is None:
        raise LayerwiseError(f"{where}: no 'search:' section; name what to tune, e.g. "
                             "search: {training.lr: {log_uniform: [0.0001, 0.01]}}")
    if not isinstance(raw, dict) or not raw:
        raise LayerwiseError(f"{where}: 'search' must be a mapping of dotted keys to ranges")
    return [_dimension(str(key), spec, f"{where}: search {key}") for key, spec in raw.items()]


def _dimension(key: str, spec: Any, where: str) -> Dimension:
    if not isinstance(spec, dict):
        raise LayerwiseError(f"{where}: expected one of {', '.join(KINDS)}, e.g. {{uniform: [0.0, 0.3]}}")
    kinds = [k for k in spec if k in KINDS]
    extra = [k for k in spec if k not in KINDS and k != "log"]
    if len(kinds) != 1 or extra:
        raise LayerwiseError(f"{where}: expected exactly one of {', '.join(KINDS)} (and 'log' for int), "
                             f"got {', '.join(map(str, spec)) or 'nothing'}")
    kind, values = kinds[0], spec[kinds[0]]
    log = spec.get("log", False)
    if "log" in spec and (kind != "int" or not isinstance(log, bool)):
        raise LayerwiseError(f"{where}: 'log: true|false' goes with int ranges only")
    if kind == "choice":
        if not isinstance(values, list) or not values:
            raise LayerwiseError(f"{where}: choice needs a non-empty list of values")
        labels = [_label(v) for v in values]
        if len(set(map(repr, labels))) != len(labels):
            raise LayerwiseError(f"{where}: choice lists the same value twice")
        return Dimension(key, kind, choices=tuple(values))
    if not isinstance(values, list) or len(values) != 2:
        raise LayerwiseError(f"{where}: {kind} needs [low, high]")
    low, high = values
    numbers = (int,) if kind == "int" else (int, float)
    if any(isinstance(v, bool) or not isinstance(v, numbers) or not math.isfinite(v) for v in values):
        raise LayerwiseError(f"{where}: {kind} bounds must be {'integers' if kind == 'int' else 'finite numbers'}, "
                             f"got [{low}, {high}]")
    if low >= high:
        raise LayerwiseError(f"{where}: empty or inverted range [{low}, {high}] (low must be below high)")
    if (kind == "log_uniform" or log) and low <= 0:
        raise LayerwiseError(f"{where}: a log range needs low > 0, got {low}")
    if kind != "int":
        low, high = float(low), float(high)
    return Dimension(key, kind, low, high, bool(log))


def apply(raw: dict, values: dict[str, Any]) -> dict:
    """A copy of the raw config dict with each dotted key set to its value."""
    from ..spec import set_dotted_value

    raw = copy.deepcopy(raw)
    for key, value in values.items():
        set_dotted_value(raw, key, value, where="search")
    return raw


def check_space(raw: dict, space: list[Dimension], where: str) -> None:
    """Build the config at every range end and with every choice; the first rejection is the error."""
    from ..spec import RunConfig

    for dim in space:
        if dim.key in FIXED or dim.key.startswith("resolved."):
            raise LayerwiseError(f"{where}: search {dim.key}: cannot be searched (every trial must see the same "
                                 "data and splits, or the scores do not compare)")
        for value in dim.samples_for_check():
            try:
                RunConfig.from_dict(apply(raw, {dim.key: value}), where=where)
            except LayerwiseError as exc:
                reason = str(exc).removeprefix(f"{where}: ")
                if reason.startswith("unknown key"):
                    from ..suggest import did_you_mean

                    raise LayerwiseError(f"{where}: search {dim.key}: not a config key"
                                         f"{did_you_mean(dim.key, _dotted_keys(RunConfig))} (search keys are the "
                                         "dotted names of --set, e.g. training.lr, network.hidden)") from None
                raise LayerwiseError(f"{where}: search {dim.key}: the value {value!r} is rejected ({reason})") from None


def _dotted_keys(model, prefix: str = "") -> list[str]:
    """Every key a search may name, dotted as --set names it (training.lr), for a 'did you mean'."""
    from pydantic import BaseModel

    keys = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            keys += _dotted_keys(kind, f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys
