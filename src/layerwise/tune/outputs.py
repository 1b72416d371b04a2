"""What a search leaves under --out: trials.csv, best.yaml, best/ (a normal run directory) and
report.html. Written from the study alone, so a rerun after a crash rewrites them whole."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .. import artifacts
from .objective import trial_raw_config

NOT_SAVED = ("number", "state", "value", "seconds")


def trial_rows(plan, study) -> list[dict[str, Any]]:
    import yaml

    rows = []
    for trial in study.get_trials(deepcopy=False):
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() \
            if trial.datetime_complete and trial.datetime_start else None
        row = {"number": trial.number, "state": trial.state.name, "value": trial.value,
               "seconds": None if seconds is None else round(seconds, 3),
               "best_epoch": trial.user_attrs.get("best_epoch")}
        for dim in plan.space:
            value = dim.decode(trial.params[dim.key]) if dim.key in trial.params else None
            row[dim.key] = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip() \
                if isinstance(value, (list, dict)) else value
        rows.append(row)
    return rows


def write_trials_csv(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    columns = list(rows[0]) if rows else list(NOT_SAVED)
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    artifacts.atomic_write_text(path, buffer.getvalue())


def best_config(plan, trial) -> dict:
    values = {dim.key: dim.decode(trial.params[dim.key]) for dim in plan.space if dim.key in trial.params}
    return trial_raw_config(plan, trial.number, values)


def retrain_config(raw: dict, trial) -> dict:
    """The best trial's config, trained on train + validation for the epochs it kept."""
    from .space import apply

    changes: dict[str, Any] = {"training.early_stopping.enabled": False}
    if trial.user_attrs.get("best_epoch"):
        changes["training.epochs"] = int(trial.user_attrs["best_epoch"])
    if not (raw.get("data") or {}).get("val"):  # an explicit validation source stays what it is
        changes["data.val_split"] = 0.0
    return apply(raw, changes)


def _retrain(raw: dict, out: Path, which: str) -> None:
    """Train best/ unless it already holds this very trial, complete (a rerun of a finished study)."""
    import json

    from .. import train

    marker = out / ".best-trial"
    status = out / "best" / "status.json"
    if marker.exists() and marker.read_text() == which and status.exists() and \
            json.loads(status.read_text()).get("state") == "complete":
        return
    marker.unlink(missing_ok=True)
    train(raw, out=out / "best", overwrite=True, quiet=True)
    artifacts.atomic_write_text(marker, which)


def write_outputs(plan, study, stream):
    import yaml

    from . import TuneResult
    from .report import write_tune_report

    out = Path(plan.out)
    rows = trial_rows(plan, study)
    write_trials_csv(out / "trials.csv", rows)
    finished = sum(row["state"] in ("COMPLETE", "PRUNED") for row in rows)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    result = TuneResult(out, None, None, finished=finished)
    if complete:
        best = study.best_trial
        raw = best_config(plan, best)
        header = (f"# layerwise tune: best of {finished} finished trials in study {plan.study}: trial {best.number}, "
                  f"{plan.metric} {best.value:.6g}{f' (mean over {plan.folds} folds)' if plan.folds else ''}\n")
        artifacts.atomic_write_text(out / "best.yaml", header + yaml.safe_dump(raw, sort_keys=False))
        _retrain(retrain_config(raw, best), out, f"{plan.fingerprint()}:{best.number}")
        result.best_number, result.best_value = best.number, best.value
        result.best_params = {dim.key: dim.decode(best.params[dim.key]) for dim in plan.space if dim.key in best.params}
    write_tune_report(out / "report.html", plan, study, rows)
    if not plan.quiet:
        states = {state: sum(row["state"] == state for row in rows) for state in ("COMPLETE", "PRUNED", "FAIL")}
        print(f"study {plan.study}: {finished} finished trials ({states['COMPLETE']} complete, "
              f"{states['PRUNED']} pruned; {states['FAIL']} failed, not counted)"
              + (f"; --timeout reached before {plan.trials}: rerun the same command to continue"
                 if finished < plan.trials else ""), file=stream)
        if result.best_number is not None:
            params = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in result.best_params.items())
            print(f"best: trial {result.best_number}  {plan.metric} {result.best_value:.4f}  {params}", file=stream)
    if result.best_number is not None:
        print(f"best model: {out / 'best'}  (config: {out / 'best.yaml'})", file=stream)
    print(f"report: {out / 'report.html'}", file=stream, flush=True)
    return result
