"""`layerwise runs --compare RUN RUN ... -o compare.html`: curves of several runs overlaid, their
config differences and their scores, in one self-contained page."""

from __future__ import annotations

import html
from pathlib import Path

from . import artifacts
from .errors import LayerwiseError
from .runs_table import _json, is_run_dir, read_config, read_history, read_row

IGNORED_KEYS = ("out",)  # differs for every run by construction


def compare(run_dirs: list[Path], out: Path) -> Path:
    for run_dir in run_dirs:
        if not Path(run_dir).is_dir() or not is_run_dir(Path(run_dir)):
            raise LayerwiseError(f"{run_dir}: not a run directory (no config.yaml or model.json)")
    if len(run_dirs) < 2:
        raise LayerwiseError("--compare needs at least two run directories")
    runs = [Path(r) for r in run_dirs]
    names = _labels(runs)
    histories = [read_history(r) for r in runs]
    rows = [read_row(r) for r in runs]
    monitor = next((r.monitor for r in rows if r.monitor and "loss" not in r.monitor), None) or _first_metric(histories)
    from .report import _fmt, _img, _scroll, _table
    from .report_plots import overlay_png

    sections = [f"<h1>layerwise: {len(runs)} runs compared</h1>",
                "<section id=scores><h2>Scores</h2>", _scores(runs, names, rows, _table, _scroll), "</section>",
                "<section id=curves><h2>Curves</h2>",
                _img(overlay_png(names, histories, "val_loss", "train_loss", "Loss per epoch (dashed: train)"), "loss curves")]
    if monitor:
        sections.append(_img(overlay_png(names, histories, monitor, monitor.replace("val_", "train_", 1),
                                         f"{monitor} per epoch"), "metric curves"))
    sections += ["</section><section id=config><h2>Config differences</h2>",
                 _differences(runs, names, _table, _scroll, _fmt), "</section>"]
    from .report import _CSS

    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>layerwise runs compared</title>"
            f"<style>{_CSS}</style></head><body>{''.join(sections)}</body></html>\n")
    artifacts.atomic_write_text(out, page)
    return out


def _labels(runs: list[Path]) -> list[str]:
    names = [r.name for r in runs]
    if len(set(names)) < len(names):  # copies of a sweep share names: use the parent too
        names = [f"{r.parent.name}/{r.name}" for r in runs]
    return names


def _first_metric(histories: list[list[dict]]) -> str | None:
    for history in histories:
        for key in (history[0] if history else {}):
            if key.startswith("val_") and "loss" not in key:
                return key
    return None


def _scores(runs, names, rows, table, scroll) -> str:
    splits = [(_json(r / "summary.json").get("test") or _json(r / "summary.json").get("val") or {}) for r in runs]
    metrics = list(dict.fromkeys(k for s in splits for k in s if k not in ("confusion", "rows")))
    body = [[name, row.status, row.monitor, row.best, row.best_epoch or "", row.seconds or "",
             *(s.get(m, "") for m in metrics)] for name, row, s in zip(names, rows, splits)]
    return scroll(table(["run", "status", "monitor", "best", "best epoch", "seconds", *metrics], body), "scores")


def _flat(mapping: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif f"{prefix}{key}" not in IGNORED_KEYS:
            flat[f"{prefix}{key}"] = value
    return flat


def _differences(runs, names, table, scroll, fmt) -> str:
    configs = [_flat(read_config(r)) for r in runs]
    keys = sorted(set().union(*configs))
    differing = [k for k in keys if len({repr(c.get(k)) for c in configs}) > 1]
    if not differing:
        return "<p>The runs' configs are identical.</p>"
    rows = [[key, *("" if c.get(key) is None else str(c.get(key)) for c in configs)] for key in differing]
    return scroll(table(["key", *names], rows), "differences")




__all__ = ["compare"]
