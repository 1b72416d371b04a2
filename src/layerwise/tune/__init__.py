"""`layerwise tune`: hyperparameter search with Optuna over a config's `search:` section.

    from layerwise.tune import tune
    result = tune("tune.yaml", trials=20, storage="sqlite:///study.db", study="digits", out="tune-out")

The study lives in the storage, so rerunning the same call after a crash continues it until it
holds exactly `trials` finished trials; `workers` local processes share it. Everything the user
can get wrong is checked (one line, exit 2) before the study is created or a trial runs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..errors import LayerwiseError
from .space import Dimension, check_space, parse_space

__all__ = ["tune", "TunePlan", "TuneResult"]


@dataclass
class TunePlan:
    """Everything a worker needs, as plain values (workers are separate processes)."""

    base_raw: dict  # the config without `search:`, as a dict
    space: list[Dimension]
    trials: int
    storage: str
    study: str
    out: str
    metric: str = "val_accuracy"
    direction: str = "maximize"
    workers: int = 1
    folds: Optional[int] = None
    timeout: Optional[float] = None
    seed: int = 0
    split_seed: int = 0
    max_epochs: int = 1
    quiet: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "TunePlan":
        raw = json.loads(text)
        raw["space"] = [Dimension(**{**d, "choices": tuple(d["choices"])}) for d in raw["space"]]
        return cls(**raw)

    def fingerprint(self) -> str:
        """What makes two commands 'the same study': config, space, objective, seed, folds."""
        same = {"config": self.base_raw, "space": [asdict(d) for d in self.space], "metric": self.metric,
                "seed": self.seed, "folds": self.folds}
        return hashlib.sha256(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class TuneResult:
    out: Path
    best_number: Optional[int]
    best_value: Optional[float]
    best_params: dict[str, Any] = field(default_factory=dict)
    finished: int = 0


def make_plan(config, trials: int, storage: Optional[str], study: Optional[str], out, workers: int = 1,
              folds: Optional[int] = None, timeout: Optional[float] = None, seed: int = 0, quiet: bool = False,
              overrides=()) -> TunePlan:
    """Read and check everything; nothing is written and no study is touched."""
    from ..cv import lower_is_better, monitored_metric
    from ..spec import load_yaml, set_dotted
    from ..training.prepare import load_training_data, prepare

    where = str(config) if isinstance(config, (str, Path)) else "config"
    raw = load_yaml(config) if isinstance(config, (str, Path)) else dict(config or {})
    space = parse_space(raw.pop("search", None), where)
    for item in overrides:
        set_dotted(raw, item)
    raw.pop("out", None)  # trials write nothing; the best model goes to OUT/best
    for name, value, low in (("--trials", trials, 1), ("--workers", workers, 1), ("--folds", folds, 2)):
        if value is not None and value < low:
            raise LayerwiseError(f"{name} {value}: needs at least {low}")
    if timeout is not None and timeout <= 0:
        raise LayerwiseError(f"--timeout {timeout}: needs a positive number of seconds")
    from .storage import check_url

    if storage is not None:
        check_url(storage)
    if not 0 <= seed < 2 ** 32:
        raise LayerwiseError(f"--seed {seed}: expected an integer in [0, 2**32)")
    base = _from_dict(raw, where)
    check_space(raw, space, where)
    task = prepare(base, load_training_data(base)).task  # data mistakes surface here, before the study
    if folds:
        from ..cv import plan_folds

        plan_folds(base, load_training_data(base), folds)
    metric = monitored_metric(base, task)
    out = Path(out)
    epochs_high = [d.high if d.kind == "int" else max(d.choices) for d in space
                   if d.key == "training.epochs" and (d.kind == "int" or all(isinstance(c, int) for c in d.choices))]
    return TunePlan(base_raw=raw, space=space, trials=trials, storage=storage or f"sqlite:///{out / 'study.db'}",
                    study=study or (Path(config).stem if isinstance(config, (str, Path)) else "layerwise"),
                    out=str(out), metric=metric, direction="minimize" if lower_is_better(metric) else "maximize",
                    workers=workers, folds=folds, timeout=timeout, seed=seed,
                    split_seed=base.seed_of_splits(),
                    max_epochs=max([base.training.epochs] + epochs_high), quiet=quiet)


def _from_dict(raw: dict, where: str):
    from ..spec import RunConfig

    return RunConfig.from_dict(raw, where=where)


def open_study(plan: TunePlan):
    """Create the study, or load it when it exists and was made by the same command."""
    import optuna

    from .storage import open_storage
    from .study import make_pruner

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(plan.storage)
    study = optuna.create_study(storage=storage, study_name=plan.study, direction=plan.direction,
                                pruner=make_pruner(), load_if_exists=True)
    made_by = study.user_attrs.get("layerwise_fingerprint")
    if made_by is None and not study.trials:
        study.set_user_attr("layerwise_fingerprint", plan.fingerprint())
        study.set_user_attr("layerwise_metric", plan.metric)
        study.set_user_attr("layerwise_trials", plan.trials)
    elif made_by != plan.fingerprint():
        raise LayerwiseError(f"--study {plan.study}: this study in {plan.storage} was made with another config, "
                             "search space, --seed or --folds; name a new --study to start over")
    return study


def tune(config, trials: int = 20, storage: Optional[str] = None, study: Optional[str] = None,
         out="tune-out", workers: int = 1, folds: Optional[int] = None, timeout: Optional[float] = None,
         seed: int = 0, quiet: bool = False, overrides=(), stream=None) -> TuneResult:
    from .outputs import write_outputs
    from .study import work

    stream = stream or sys.stdout
    plan = make_plan(config, trials, storage, study, out, workers, folds, timeout, seed, quiet, overrides)
    created = not Path(plan.out).exists()
    Path(plan.out).mkdir(parents=True, exist_ok=True)
    try:
        handle = open_study(plan)
    except LayerwiseError:
        if created and not any(Path(plan.out).iterdir()):
            Path(plan.out).rmdir()  # nothing half-made: the folder goes when the study could not open
        raise
    if not quiet:
        print(f"study {plan.study} in {plan.storage}: {plan.direction} {plan.metric}"
              f"{f' (mean over {folds} folds)' if folds else ''}, {trials} trials, {workers} worker(s)",
              file=stream, flush=True)
        states = [t.state.name for t in handle.get_trials(deepcopy=False)]
        if states:
            finished = states.count("COMPLETE") + states.count("PRUNED")
            print(f"continuing: {finished} finished so far, {states.count('FAIL')} failed, "
                  f"{states.count('RUNNING')} marked running", file=stream, flush=True)
    if workers == 1:
        work(plan, stream)
    else:
        from .workers import run_workers

        run_workers(plan)
    return write_outputs(plan, handle, stream)
