"""k-fold cross-validation: K trainings through the normal engine, one per fold.

The test part of the data (the source's own, `data.test`, or `data.test_split`) stays held out;
the folds split the remaining rows (train + validation), stratified by class for classification.
Each fold's preprocessing is fitted on that fold's training rows only (`prepare(rows=...)`), so no
statistic of a fold's validation rows leaks into its training.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .errors import LayerwiseError

CLASSIFICATION = ("multiclass", "binary")


def monitored_metric(config, task: str) -> str:
    """The validation column a search optimises: the one that picks the best epoch of a run
    (training.monitor; default val_accuracy for classification, val_r2 for regression)."""
    from .training.callbacks import resolve_monitor

    return resolve_monitor(config.training, task, has_val=True)


def lower_is_better(metric: str) -> bool:
    from .training.callbacks import lower_is_better as loss_like

    return loss_like(metric)


def value_at_best_epoch(run, metric: str) -> float:
    """`metric` of the weights the run kept: its history row at the restored (best) epoch."""
    best = run.summary.get("best_epoch") or len(run.history)
    for row in run.history:
        if row.get("epoch") == best and metric in row:
            return float(row[metric])
    known = sorted(k for k in (run.history[-1] if run.history else {}) if k.startswith("val_"))
    raise LayerwiseError(f"monitored metric '{metric}' is not logged by this run (logged: {', '.join(known)})")


@dataclass
class FoldPlan:
    folds: list[tuple[np.ndarray, np.ndarray]]  # (train rows, validation rows) per fold
    test_idx: np.ndarray
    task: str


@dataclass
class CVResult:
    metric: str
    scores: list[float]  # the monitored metric per fold (at each fold's restored epoch)
    folds: list[dict[str, Any]] = field(default_factory=list)  # per fold: best_epoch + val metrics

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores))


def plan_folds(config, dataset, k: int) -> FoldPlan:
    """The K (train, validation) row sets over everything but the held-out test part."""
    from sklearn.model_selection import KFold, StratifiedKFold

    from .resolve import Modes, check_modes
    from .training.prepare import prepare

    check_modes(config, Modes(folds=k))  # resolve's first step, before the data is split
    whole = prepare(config, dataset, modes=Modes(folds=k))  # the config's own splits: only its test part is kept
    rest = np.sort(np.concatenate([whole.train_idx, whole.val_idx]))
    seed = config.seed_of_splits() % 2 ** 32
    splitter, labels = KFold(k, shuffle=True, random_state=seed), None
    if whole.task in CLASSIFICATION:
        labels = whole.targets.reshape(len(whole.targets), -1)[rest, 0]
        if np.unique(labels, return_counts=True)[1].min() >= k:  # else a class cannot reach every fold
            splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
    folds = [(rest[train], rest[val]) for train, val in splitter.split(rest, labels)]
    return FoldPlan(folds, whole.test_idx, whole.task)


def cross_validate(config, k: int, data=None, metric: Optional[str] = None,
                   fold_callbacks: Optional[Callable[[int], list]] = None,
                   on_fold: Optional[Callable[[int, float], None]] = None) -> CVResult:
    """Train one in-memory model per fold; the score is `metric` (default: the monitored one).

    fold_callbacks(fold) -> extra loop callbacks for that fold (a pruner, say);
    on_fold(fold, score) is called after each fold (to report or stop between folds)."""
    from .run import as_config, fit
    from .training.prepare import load_training_data

    config = as_config(config)
    dataset = load_training_data(config, data)
    plan = plan_folds(config, dataset, k)
    metric = metric or monitored_metric(config, plan.task)
    result = CVResult(metric, [])
    for fold, (train_idx, val_idx) in enumerate(plan.folds, start=1):
        callbacks = fold_callbacks(fold) if fold_callbacks else []
        run = fit(config, data=dataset, callbacks=callbacks, rows=(train_idx, val_idx, plan.test_idx))
        score = value_at_best_epoch(run, metric)
        val = {key: value for key, value in (run.summary.get("val") or {}).items()
               if isinstance(value, float) and f"val_{key}" != metric}
        result.scores.append(score)
        result.folds.append({"fold": fold, "best_epoch": run.summary["best_epoch"], metric: score, **val})
        if on_fold is not None:
            on_fold(fold, score)
    return result


def print_cv(result: CVResult, stream=None) -> None:
    """One line per fold, then the mean and standard deviation of every column."""
    stream = stream or sys.stdout
    columns = [c for c in result.folds[0] if c != "fold"]
    print("fold  " + "  ".join(f"{c:>14}" for c in columns), file=stream)
    for row in result.folds:
        print(f"{row['fold']:>4}  " + "  ".join(_cell(row.get(c)) for c in columns), file=stream)
    for label, reduce in (("mean", np.mean), ("std", np.std)):
        cells = [_cell(float(reduce([row[c] for row in result.folds]))) for c in columns]
        print(f"{label:>4}  " + "  ".join(cells), file=stream)
    print(f"{result.metric}: {result.mean:.4f} ± {result.std:.4f} over {len(result.scores)} folds",
          file=stream, flush=True)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:>14.4f}" if math.isfinite(value) else f"{'nan':>14}"
    return f"{value!s:>14}"
