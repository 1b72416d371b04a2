"""Many run directories at a glance (`layerwise runs`) and side by side (`layerwise runs --compare`).

Reads only what each run wrote (status.json, summary.json, config.yaml, metrics.csv) and is
tolerant of runs that are still running or failed: a missing file leaves blanks, never an error.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import LayerwiseError

SORT_KEYS = ("date", "status", "data", "task", "metric", "best_epoch", "seconds", "name")
MAX_DEPTH = 3  # runs/<name>, runs/<sweep>/<copy>, runs/<study>/<sweep>/<copy>


@dataclass
class RunRow:
    path: Path
    status: str = "?"
    data: str = ""
    task: str = ""
    monitor: str = ""
    best: Optional[float] = None  # the monitored metric at the best epoch
    best_epoch: Optional[int] = None
    epochs: Optional[int] = None
    seconds: Optional[float] = None
    date: str = ""  # status.json's last update, ISO 8601


def is_run_dir(path: Path) -> bool:
    # a sweep's parent folder has a status.json too, but no config of its own
    return (path / "config.yaml").is_file() or (path / "model.json").is_file()


def find_runs(root: Path) -> list[Path]:
    """Run directories at or below `root` (a run's own files are not searched further)."""
    root = Path(root)
    if not root.is_dir():
        raise LayerwiseError(f"{root}: no such directory")
    found, level = [], [root]
    for _ in range(MAX_DEPTH + 1):
        following = []
        for directory in level:
            if is_run_dir(directory):
                found.append(directory)
            else:
                following += sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
        level = following
    return found


def _json(path: Path) -> dict:
    import json

    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # unreadable, not JSON, nested too deeply
        return {}
    return value if isinstance(value, dict) else {}


def read_config(run_dir: Path) -> dict:
    from .spec import load_yaml

    try:
        value = load_yaml(run_dir / "config.yaml")
    except (OSError, LayerwiseError):
        return {}
    return value if isinstance(value, dict) else {}


def read_history(run_dir: Path) -> list[dict[str, float]]:
    try:
        with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as handle:
            return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    except OSError:
        return []


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def read_row(run_dir: Path) -> RunRow:
    from .artifacts import read_status  # a `running` run whose process died reads as `crashed`

    status, summary, config = read_status(run_dir), _json(run_dir / "summary.json"), read_config(run_dir)
    training = config.get("training") or {}
    monitor = summary.get("monitor") or (training.get("early_stopping") or {}).get("monitor") or ""
    row = RunRow(run_dir, status=str(status.get("state", "?")), date=str(status.get("updated", "")),
                 data=str((config.get("data") or {}).get("source") or ""), task=str(summary.get("task") or config.get("task") or ""),
                 monitor=monitor, best_epoch=summary.get("best_epoch"), epochs=summary.get("epochs_run"),
                 seconds=summary.get("seconds"))
    history = read_history(run_dir)
    if row.best_epoch and monitor and len(history) >= row.best_epoch:
        row.best = history[row.best_epoch - 1].get(monitor)
    elif history and monitor:  # still running: the best so far
        from .training.callbacks import lower_is_better

        values = [h[monitor] for h in history if not math.isnan(h.get(monitor, math.nan))]
        row.best = (min if lower_is_better(monitor) else max)(values) if values else None
    return row


def sort_rows(rows: list[RunRow], key: str) -> list[RunRow]:
    """Newest first for dates, best first for the metric, otherwise ascending; blanks last."""
    from .training.callbacks import lower_is_better

    if key not in SORT_KEYS:
        from .suggest import unknown_choice

        raise LayerwiseError(unknown_choice("--sort", key, SORT_KEYS))
    if key == "metric":
        def value(row):
            return None if row.best is None or math.isnan(row.best) else (
                row.best if lower_is_better(row.monitor) else -row.best)
    elif key == "name":
        def value(row):
            return str(row.path)
    else:
        def value(row):
            return getattr(row, key) or None
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    return sorted(present, key=value, reverse=key == "date") + missing


def format_rows(rows: list[RunRow], root: Path) -> str:
    headers = ["run", "status", "data", "task", "monitor", "best", "best epoch", "seconds", "date"]
    table = [headers] + [[_relative(r.path, root), r.status, r.data, r.task, r.monitor,
                          "" if r.best is None else f"{r.best:.4f}",
                          "" if r.best_epoch is None else f"{r.best_epoch}/{r.epochs}",
                          "" if r.seconds is None else f"{r.seconds:.1f}", r.date.replace("T", " ")]
                         for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    right = {5, 6, 7}
    return "\n".join("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip() for line in table)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)
