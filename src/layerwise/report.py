"""Plots (loss curve, confusion matrix) and the self-contained report.html of a run."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from . import artifacts


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _png_bytes(fig) -> bytes:
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # labels in scripts the font lacks draw as boxes; no stderr noise
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def loss_png(history: list[dict[str, Any]], title: str) -> bytes:
    """Train and validation loss per epoch, as in the seeds' matplotlib curve."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    epochs = [row["epoch"] for row in history]
    ax.plot(epochs, [row["train_loss"] for row in history], marker="o", markersize=3, label="train loss")
    if history and "val_loss" in history[0]:
        ax.plot(epochs, [row["val_loss"] for row in history], marker="o", markersize=3, label="validation loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    losses = [row[key] for row in history for key in ("train_loss", "val_loss") if key in row]
    finite = [v for v in losses if v == v and abs(v) != float("inf")]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 100:
        ax.set_yscale("log")  # seed 3's loss falls from ~8,000 to ~3: linear would hide the tail
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _png_bytes(fig)


def confusion_png(matrix: list[list[int]], classes: list, title: str) -> bytes:
    plt = _pyplot()
    n = len(classes)
    size = min(2.5 + 0.45 * n, 12)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    labels = ["".join(ch if ch.isprintable() else "?" for ch in str(c)) for c in classes]  # no control characters
    slanted = n > 6 and max(map(len, labels)) > 2  # short labels ("0".."9") fit upright
    ax.set_xticks(range(n), labels, rotation=45 if slanted else 0, ha="right" if slanted else "center")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 20:
        peak = max(max(row) for row in matrix) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, str(count), ha="center", va="center",
                        color="white" if count > peak / 2 else "black", fontsize=8)
    return _png_bytes(fig)


def model_text(model) -> tuple[str, list[tuple[str, str, int]]]:
    from .model import parameter_rows

    return str(model), parameter_rows(model)


def write_report(run_dir: Path, prepared, model, history: list[dict], summary: dict) -> None:
    title = f"{prepared.name}: {prepared.task}"
    images = {"loss": loss_png(history, f"Loss per epoch - {title}")}
    artifacts.atomic_write_bytes(run_dir / "loss.png", images["loss"])
    scored = summary.get("test") or summary.get("val") or summary.get("train")
    if prepared.task != "regression" and scored:
        which = "test" if summary.get("test") else ("validation" if summary.get("val") else "train")
        images["confusion"] = confusion_png(scored["confusion"], prepared.encoder.classes,
                                            f"Confusion matrix ({which} split)")
        artifacts.atomic_write_bytes(run_dir / "confusion.png", images["confusion"])
    artifacts.atomic_write_text(run_dir / "report.html", render_html(title, model, history, summary, images))


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


def _metric_table(summary: dict) -> str:
    """One row per metric, one column per split (test, validation, train)."""
    splits = [(name, summary.get(key)) for key, name in (("test", "test"), ("val", "validation"), ("train", "train"))
              if summary.get(key)]
    names = list(dict.fromkeys(k for _, scores in splits for k in scores if k != "confusion"))
    rows = [[name, *(scores.get(name, "") for _, scores in splits)] for name in names]
    return _table(["metric", *(split for split, _ in splits)], rows)


def render_html(title: str, model, history: list[dict], summary: dict, images: dict[str, bytes]) -> str:
    text, rows = model_text(model)
    total = sum(count for _, _, count in rows)
    columns = list(history[0]) if history else []
    sections = [
        f"<h1>layerwise run — {html.escape(title)}</h1>",
        f"<p>best epoch {summary['best_epoch']} of {summary['epochs_run']}, {summary['train_rows']:,} training rows, "
        f"{summary['seconds']:.2f} s on {html.escape(summary['device'])}</p>",
        "<h2>Metrics</h2>", _metric_table(summary),
        "<h2>Loss curve</h2>", _img(images["loss"], "loss curve"),
    ]
    if "confusion" in images:
        sections += ["<h2>Confusion matrix</h2>", _img(images["confusion"], "confusion matrix")]
    sections += [
        "<h2>Model</h2>", f"<pre>{html.escape(text)}</pre>",
        _table(["layer", "parameters", "count"], [list(r) for r in rows] + [["total", "", total]]),
        "<h2>Per-epoch metrics</h2>",
        f"<div class='scroll'>{_table(columns, [[row.get(c, '') for c in columns] for row in history])}</div>",
        "<h2>Summary</h2>", f"<pre>{html.escape(json.dumps(_without_confusion(summary), indent=2))}</pre>",
    ]
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(sections)}</body></html>\n")


def _without_confusion(summary: dict) -> dict:
    # The matrices are drawn above and kept in summary.json; as JSON they run to a line per count.
    return {k: ({m: v for m, v in value.items() if m != "confusion"} if isinstance(value, dict) else value)
            for k, value in summary.items()}


def _img(data: bytes, alt: str) -> str:
    return f"<img alt='{alt}' src='data:image/png;base64,{base64.b64encode(data).decode('ascii')}'>"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3;position:sticky;top:0}"
        ".scroll{max-height:32em;overflow:auto;display:inline-block}"
        "pre{background:#f7f7f7;padding:.8em;overflow:auto;max-height:40em}img{max-width:100%;height:auto}")
