"""The self-contained report.html of a run: what was trained on what, how training went, how
good the model is next to a trivial baseline, where it errs and which columns it relies on.

Written after the model and summary.json are safe; the figures are in report_plots.py and the
judgements (per-class scores, curves, baseline, permutation importance) in diagnostics.py.
"""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path
from typing import Any, Optional

from . import artifacts
from .report_plots import (calibration_png, confusion_png, curves_png, loss_png, pr_png,
                           predicted_vs_actual_png, residuals_png, roc_png)


def model_text(model) -> tuple[str, list[tuple[str, str, int]]]:
    from .model import parameter_rows

    return str(model), parameter_rows(model)


def write_report(run_dir: Path, prepared, predictor, history: list[dict], summary: dict,
                 config: Optional[dict] = None) -> None:
    """`config`: the resolved config as written to config.yaml (hyperparameters for the header)."""
    from .diagnostics import judge

    title = f"{prepared.name}: {prepared.task}"
    images = {"loss curve": loss_png(history, f"Loss per epoch - {title}")}
    artifacts.atomic_write_bytes(run_dir / artifacts.LOSS_PLOT, images["loss curve"])
    images.update(_curve_images(history, summary.get("monitor", "val_loss")))
    scored = summary.get("test") or summary.get("val") or summary.get("train")
    if prepared.task != "regression" and scored:
        which = "test" if summary.get("test") else ("validation" if summary.get("val") else "train")
        images["confusion matrix"] = confusion_png(scored["confusion"], prepared.encoder.classes,
                                                   f"Confusion matrix ({which} split)")
        artifacts.atomic_write_bytes(run_dir / artifacts.CONFUSION_PLOT, images["confusion matrix"])
    judgement = judge(predictor, prepared, bagged=summary.get("ensemble_kind") == "bagging")
    if judgement is not None:
        images.update(_judgement_images(judgement))
    page = render_html(title, predictor, prepared, history, summary, images, judgement, config or {})
    artifacts.atomic_write_text(run_dir / artifacts.REPORT, page)


def _curve_images(history: list[dict], monitor: str) -> dict[str, bytes]:
    """The monitored metric (or, when that is a loss, the first other validation metric) and the LR."""
    if not history:
        return {}
    columns = [k for k in history[0] if isinstance(history[0][k], float)]
    metric = monitor if monitor in columns and "loss" not in monitor else next(
        (k for k in columns if k.startswith("val_") and "loss" not in k), None)
    images = {}
    if metric is not None:
        keys = [k for k in (metric.replace("val_", "train_", 1), metric) if k in columns]
        images["metric curve"] = curves_png(history, keys, f"{metric} per epoch", metric.removeprefix("val_"))
    if len({row["lr"] for row in history}) > 1:  # a constant rate is said in words (one figure less to draw)
        images["learning rate"] = curves_png(history, ["lr"], "Learning rate per epoch", "learning rate")
    return images


def _judgement_images(judgement) -> dict[str, bytes]:
    split, curves = judgement.holdout.split, judgement.curves
    if "roc" in curves:
        return {"ROC curve": roc_png(*curves["roc"], split), "precision-recall curve": pr_png(*curves["pr"], split),
                "calibration plot": calibration_png(*curves["calibration"], split)}
    if "actual" in curves:
        return {"predicted vs actual": predicted_vs_actual_png(curves["actual"], curves["predicted"], split),
                "residuals": residuals_png(curves["actual"], curves["predicted"], split)}
    return {}


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)  # right-aligned, like a ledger
    return f"<td{' class=num' if numeric else ''}>{html.escape(_fmt(value))}</td>"


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        # 4 decimals, unless that would hide the value (a learning rate of 1e-5 is not 0.0000)
        small_or_huge = value != 0 and (abs(value) < 1e-4 or abs(value) >= 1e7)
        return f"{value:.3e}" if small_or_huge else f"{value:.4f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


_SPLITS = (("test", "test"), ("val", "validation"), ("train", "train"))


def _metric_table(summary: dict, judgement) -> str:
    """One row per split (test, validation, train) and one for a trivial baseline on the judged split."""
    splits = [(name, summary[key]) for key, name in _SPLITS if summary.get(key)]
    names = list(dict.fromkeys(k for _, scores in splits for k in scores if k not in ("confusion", "rows")))
    rows = [[split, *(scores.get(name, "") for name in names), scores.get("rows", "")] for split, scores in splits]
    if judgement is not None and judgement.baseline:
        what = "mean of train targets" if summary.get("task") == "regression" else "majority class"
        rows.append([f"baseline: {what} ({judgement.holdout.split})",
                     *(judgement.baseline.get(name, "") for name in names), len(judgement.holdout.y)])
    return _scroll(_table(["split", *names, "rows"], rows), "metrics")


def render_html(title: str, predictor, prepared, history: list[dict], summary: dict, images: dict[str, bytes],
                judgement, config: dict) -> str:
    text, rows = model_text(predictor.module)
    total = sum(count for _, _, count in rows)
    columns = list(history[0]) if history else []
    sections = [
        f"<h1>layerwise run — {html.escape(title)}</h1>",
        f"<section id=run>{_header(prepared, summary, config)}</section>",
        "<section id=metrics><h2>Metrics</h2>", _metric_table(summary, judgement), "</section>",
        "<section id=curves><h2>Training curves</h2>",
        *(_img(images[name], name) for name in ("loss curve", "metric curve", "learning rate") if name in images),
        "" if "learning rate" in images or not history else
        f"<p id=lr>learning rate constant at {_fmt(history[0]['lr'])} (no schedule)</p>",
        "</section>",
    ]
    if judgement is not None:
        sections += _judgement_sections(judgement, images)
    if "confusion matrix" in images:
        sections += ["<section id=confusion><h2>Confusion matrix</h2>", _img(images["confusion matrix"], "confusion matrix"),
                     "</section>"]
    sections += [
        f"<section id=features><h2>Features and preprocessing</h2>{_features(prepared.preprocessor, config)}</section>",
        "<section id=model><h2>Model</h2>", f"<pre>{html.escape(text)}</pre>",
        _scroll(_table(["layer", "parameters", "count"], [list(r) for r in rows] + [["total", "", total]]), "parameters"),
        "</section><section id=epochs><h2>Per-epoch metrics</h2>",
        _scroll(_table(columns, [[row.get(c, "") for c in columns] for row in history]), "per-epoch", tall=True),
        "</section>",
    ]
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(sections)}</body></html>\n")


def _header(prepared, summary: dict, config: dict) -> str:
    data = config.get("data", {}) or {}
    source = data.get("source") or prepared.name
    facts = [("data", source), ("task", f"{prepared.task} ({prepared.loss} loss)"),
             ("rows", _rows_line(summary)),
             ("features", f"{len(prepared.preprocessor.input_columns):,} columns -> {prepared.preprocessor.n_features:,} network inputs"),
             ("outcome", summary.get("outcome", f"best epoch {summary['best_epoch']} of {summary['epochs_run']}")),
             ("timing", f"{summary['seconds']:.2f} s in all, {summary['train_seconds']:.2f} s training "
                        f"({summary['epochs_run']} epochs) on {summary['device']}"),
             ("written", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))]
    table = _table(["", ""], [list(f) for f in facts]).replace("<thead><tr><th></th><th></th></tr></thead>", "")
    settings = [[f"{section}.{key}", _short(value)] for section in ("network", "training")
                for key, value in _flat(config.get(section) or {}) if value is not None]
    extra = [[key, _short(config[key])] for key in ("task", "loss") if key in config]
    hyper = _scroll(_table(["hyperparameter", "value"], extra + settings), "hyperparameters") if settings else ""
    return f"{table}<details open><summary>Hyperparameters</summary>{hyper}</details>"


def _flat(mapping: dict, prefix: str = ""):
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _short(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) if len(value) <= 12 else f"{len(value)} values"
    return value


def _judgement_sections(judgement, images: dict[str, bytes]) -> list[str]:
    split = judgement.holdout.split
    parts = []
    if judgement.per_class:
        rows = [[str(r["class"]), r["precision"], r["recall"], r["f1"], r["support"]] for r in judgement.per_class]
        parts += [f"<section id=per-class><h2>Per-class scores ({split} split)</h2>",
                  _scroll(_table(["class", "precision", "recall", "F1", "support"], rows), "per-class"), "</section>"]
    names = ["ROC curve", "precision-recall curve", "calibration plot"]
    if "ROC curve" in images:
        parts += ["<section id=binary><h2>Ranking and calibration</h2><div class=grid>",
                  *(_img(images[n], n) for n in names), "</div></section>"]
    if "predicted vs actual" in images:
        parts += ["<section id=regression><h2>Predictions against the truth</h2><div class=grid>",
                  _img(images["predicted vs actual"], "predicted vs actual"), _img(images["residuals"], "residuals"),
                  "</div></section>"]
    parts += ["<section id=importance><h2>Permutation importance</h2>",
              f"<p>{html.escape(judgement.importance_note)}</p>"]
    if judgement.importance:
        peak = max((r["drop"] for r in judgement.importance), default=0.0) or 1.0
        rows = "".join(f"<tr><td>{html.escape(r['column'])}</td><td class=num>{_fmt(r['drop'])}</td>"
                       f"<td class=num>{_fmt(r['std'])}</td><td class=bar><span style='width:"
                       f"{max(0.0, r['drop']) / peak * 100:.0f}%'></span></td></tr>" for r in judgement.importance)
        parts.append(_scroll("<table><thead><tr><th>column</th><th>drop</th><th>std</th><th></th></tr></thead>"
                             f"<tbody>{rows}</tbody></table>", "importance"))
    parts.append("</section>")
    return parts


def _rows_line(summary: dict) -> str:
    """The header's row counts; a bagged ensemble's are per member, its validation rows out of fold."""
    if summary.get("ensemble_kind") == "bagging":
        return (f"{summary['train_rows']:,} train per member (each holds out its own validation rows); "
                f"{summary['val_rows']:,} held out by at least one member, scored out of fold; "
                f"{summary['test_rows']:,} test")
    return f"{summary['train_rows']:,} train, {summary['val_rows']:,} validation, {summary['test_rows']:,} test"


def _features(preprocessor, config: dict) -> str:
    state = preprocessor.state
    data = config.get("data") or {}
    if state["kind"] == "image":
        return f"<p>images of shape {tuple(state['shape'])}, pixels divided by {state['scale']:g}</p>"
    read_as = {"date": "date, in years", "decimal": "number, decimal comma", "time": "time, in seconds",
               "unit": "number, unit dropped"}
    rows = [[c["name"], read_as.get(c.get("reading", "number").partition(":")[0].partition("_")[0], "number"),
             f"missing -> {c['median']:.4g}" + (" (+ indicator)" if c["indicator"] else ""),
             c["mean"], c["std"]] for c in state["numeric"]]
    rows += [[c["name"], "category", f"one-hot over {len(c['categories'])} values"
              + (f" + <other> ({c['rare']} rare, and unseen ones)" if c.get("other") else ""), "", ""]
             for c in state.get("categorical", [])]
    # the two numbers each column is scaled by: under data.scaling robust they are the median and the
    # IQR (preset auto's choice), which this table called "mean" and "std"
    centre, scale = ("median", "IQR") if data.get("scaling") == "robust" else ("mean", "std")
    if data.get("standardize") is False:
        how = "numbers enter the network as they are (data.standardize: false)"
    else:
        how = f"each number enters the network as (x − {centre}) / {scale}" + (
            f", then smoothly clipped: x / √(1 + (x/{state['smooth_clip']:g})²)" if state.get("smooth_clip") else "")
    return (f"<p>{html.escape(how)}</p>"
            + _scroll(_table(["column", "kind", "preprocessing", centre, scale], rows), "features"))


def _scroll(table: str, name: str, tall: bool = False) -> str:
    """Wide tables scroll sideways inside their box, so the page itself fits a phone."""
    return f"<div class='scroll{' tall' if tall else ''}' data-table='{name}'>{table}</div>"


def _img(data: bytes, alt: str) -> str:
    return f"<img alt='{alt}' src='data:image/png;base64,{base64.b64encode(data).decode('ascii')}'>"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:960px;margin:1em auto;padding:0 .8em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3;position:sticky;top:0}"
        ".scroll{max-width:100%;overflow-x:auto}.scroll.tall{max-height:32em;overflow:auto}"
        ".grid{display:flex;flex-wrap:wrap;gap:.5em}.grid img{flex:1 1 300px;min-width:0}"
        "td.bar{min-width:8em}td.bar span{display:block;height:.8em;background:#4a7ab5}"
        "pre{background:#f7f7f7;padding:.8em;overflow:auto;max-height:40em}img{max-width:100%;height:auto}"
        "section{margin-bottom:1.5em}")
