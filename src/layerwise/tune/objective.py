"""One trial: the trial's config, training through the normal engine, pruning per epoch.

A trial is a pure function of (the tune config, --seed, the trial number, the sampled values):
its training seed is seed + number and its splits use the study's fixed split seed, so every trial
is scored on the same validation rows (or the same folds).
"""

from __future__ import annotations

import math
from typing import Any

from ..training.callbacks import Callback
from .space import apply


def training_seed(seed: int, number: int) -> int:
    return (seed + number) % 2 ** 32


def sampler_seed(seed: int, number: int) -> int:
    # distinct from the training seeds, and from trial to trial
    return (seed * 1_000_003 + number + 1) % 2 ** 32


def trial_raw_config(plan, number: int, values: dict[str, Any]) -> dict:
    """The config dict trial `number` trains with (also what best.yaml holds for the best one)."""
    seeds = {"training.seed": training_seed(plan.seed, number), "data.split_seed": plan.split_seed}
    return apply(apply(plan.base_raw, seeds), values)


class PruningCallback(Callback):
    """Reports the monitored validation metric to the Optuna trial after each epoch and stops the
    loop when the pruner says so (the objective then raises TrialPruned)."""

    def __init__(self, trial, metric: str, step_offset: int = 0):
        self.trial, self.metric, self.step_offset = trial, metric, step_offset
        self.pruned_at = None

    def on_epoch_end(self, trainer, epoch, logs):
        value = logs.get(self.metric)
        if value is None or not math.isfinite(value):
            return
        self.trial.report(float(value), self.step_offset + epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            trainer.stop_training = True


def run_trial(plan, trial, dataset) -> float:
    """Train trial `trial` and return its score (the monitored metric at the restored epoch, or
    its mean over the folds); raises optuna.TrialPruned when pruned or when training diverged."""
    import optuna

    from ..cv import cross_validate, value_at_best_epoch
    from ..run import fit
    from ..spec import RunConfig
    from ..training.loop import TrainingDiverged

    values = {dim.key: dim.suggest(trial) for dim in plan.space}
    config = RunConfig.from_dict(trial_raw_config(plan, trial.number, values), where=f"trial {trial.number}")
    if "ensemble" not in config.training.model_fields_set:
        config.training.ensemble = 1  # a trial scores one network: preset auto's bagging would triple each trial
    trial.set_user_attr("training_seed", config.training.seed)
    pruners: list[PruningCallback] = []

    def fold_callbacks(fold: int) -> list:
        pruners.append(PruningCallback(trial, plan.metric, (fold - 1) * plan.max_epochs))
        return [pruners[-1]]

    def stop_if_pruned(*_: Any) -> None:
        if pruners and pruners[-1].pruned_at is not None:
            raise optuna.TrialPruned(f"pruned at epoch {pruners[-1].pruned_at}")

    try:
        if plan.folds:
            result = cross_validate(config, plan.folds, data=dataset, metric=plan.metric,
                                    fold_callbacks=fold_callbacks, on_fold=stop_if_pruned)
            score = result.mean
            best_epoch = round(sum(row["best_epoch"] for row in result.folds) / len(result.folds))
            trial.set_user_attr("fold_scores", [round(s, 6) for s in result.scores])
        else:
            run = fit(config, data=dataset, callbacks=fold_callbacks(1))
            stop_if_pruned()
            score, best_epoch = value_at_best_epoch(run, plan.metric), run.summary["best_epoch"]
    except TrainingDiverged as exc:
        # a setting that diverges is a legitimate (bad) result, not a crash: it counts as finished
        trial.set_user_attr("diverged", str(exc))
        raise optuna.TrialPruned("training diverged") from None
    trial.set_user_attr("best_epoch", int(best_epoch))
    if not math.isfinite(score):
        trial.set_user_attr("diverged", f"{plan.metric} is {score}")
        raise optuna.TrialPruned(f"{plan.metric} is not finite")
    return float(score)

