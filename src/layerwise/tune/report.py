"""report.html of a search: Optuna's matplotlib plots (history, importances, slices) as inline PNGs
and the trials table; one self-contained file."""

from __future__ import annotations

import base64
import html
import io
import warnings
from pathlib import Path

from .. import artifacts


def _png(axes) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    figure = np.asarray(axes).ravel()[0].figure
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(study) -> list[tuple[str, str]]:
    """(title, base64 PNG or a note) for each plot; a plot that needs more trials says so."""
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as ovm

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    plots = [("Optimisation history", ovm.plot_optimization_history),
             ("Parameter importances (fANOVA)", ovm.plot_param_importances),
             ("Slices: score against each parameter", ovm.plot_slice)]
    out = []
    for title, plot in plots:
        if plot is ovm.plot_param_importances and len(complete) < 2:
            out.append((title, "note: needs at least 2 complete trials"))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
                out.append((title, _png(plot(study))))
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:  # e.g. every trial has the same values
            out.append((title, f"note: {exc}"))
        finally:
            import matplotlib.pyplot as plt

            plt.close("all")
    return out


def write_tune_report(path: Path, plan, study, rows: list[dict]) -> None:
    sections = []
    for title, image in _plots(study):
        body = (f'<img alt="{html.escape(title)}" src="data:image/png;base64,{image}">'
                if not image.startswith("note: ") else f"<p>{html.escape(image)}</p>")
        sections.append(f"<h2>{html.escape(title)}</h2>\n{body}")
    columns = list(rows[0]) if rows else []
    table = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr>\n" + "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(row[c]))}</td>" for c in columns) + "</tr>" for row in rows)
    best = "no complete trial yet"
    if any(row["state"] == "COMPLETE" for row in rows):
        best = f"best trial {study.best_trial.number}: {plan.metric} {study.best_value:.4f}"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>layerwise tune: {html.escape(plan.study)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccc;padding:2px 6px}}</style></head>
<body><h1>Search {html.escape(plan.study)}</h1>
<p>{html.escape(plan.direction)} {html.escape(plan.metric)}{f" (mean over {plan.folds} folds)" if plan.folds else ""};
storage {html.escape(plan.storage)}; {html.escape(best)}.</p>
{chr(10).join(sections)}
<h2>Trials</h2><table>{table}</table></body></html>
"""
    artifacts.atomic_write_text(path, page)


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)
