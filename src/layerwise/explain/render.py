"""Three views of one trace: rich tables for a terminal, Markdown for notes, JSON for programs.

All three print the same worked lines (words.py); only the layout differs.
"""

from __future__ import annotations

import json

from .numbers import num
from .trace import Trace
from .words import worked_lines

FORWARD_COLUMNS = (("neuron", "neuron"), ("sum", "weighted sum Z"), ("activation", "activation A = f(Z)"))
DELTA_COLUMNS = (("neuron", "neuron"), ("error", "∂E/∂A"), ("derivative", "f'(Z)"), ("delta", "δ = ∂E/∂A × f'(Z)"))
PARAMETER_COLUMNS = (("name", "parameter"), ("value", "value"), ("gradient", "∂E/∂w = δ × input"),
                     ("updated", "after update: w − α∂E/∂w"))


def header_lines(trace: Trace) -> list[str]:
    x = ", ".join(num(v) for v in trace.x)
    lines = [f"{trace.net.summary()}  ({trace.net.source})", f"input x = ({x})"]
    if trace.loss:
        lines[-1] += f"   target y = {trace.target_label}   loss {trace.loss}   learning rate α = {num(trace.learning_rate)}"
    return lines


# ---------------------------------------------------------------- text (rich)


def render_text(trace: Trace):
    """A rich renderable (print it with a rich Console)."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    def table(rows: list[dict], columns) -> Table:
        grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for _, title in columns:
            grid.add_column(title, no_wrap=True)
        for row in rows:
            grid.add_row(*(row[key] for key, _ in columns))
        return grid

    words, parts = worked_lines(trace), []
    parts.append(Text("layerwise explain: " + "\n".join(header_lines(trace)), style="bold"))
    parts += [Text(f"note: {note}", style="yellow") for note in trace.notes]
    parts.append(Text("\nForward pass", style="bold underline"))
    for layer in words["forward"]:
        parts += [Text(f"\n{layer['title']}    {layer['formula']}", style="cyan"), table(layer["rows"], FORWARD_COLUMNS)]
    parts += [Text("Output  " + line, style="bold") for line in words["output"]]
    if words["loss"]:
        parts.append(Text(f"Loss    {words['loss']['formula']}\n        {words['loss']['worked']}", style="bold"))
    if words["backward"]:
        parts.append(Text("\nBackward pass", style="bold underline"))
    for layer in words["backward"]:
        parts.append(Text(f"\n{layer['title']}    {layer['error_formula']};  {layer['delta_formula']}", style="cyan"))
        parts.append(table(layer["rows"], DELTA_COLUMNS))
        parts.append(Text(f"{layer['gradient_formula']};  {layer['update_formula']}", style="cyan"))
        parts.append(table(layer["parameters"], PARAMETER_COLUMNS))
    return Group(*parts)


def text_string(trace: Trace, width: int = 200) -> str:
    """The text view as plain text (no colour), e.g. for tests and docs."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False).print(render_text(trace))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


# ---------------------------------------------------------------- markdown


def _md_table(rows: list[dict], columns) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[key]) for key, _ in columns) + " |" for row in rows]
    return lines + [""]


def render_markdown(trace: Trace) -> str:
    words = worked_lines(trace)
    out = ["## layerwise explain", ""] + [f"- {line}" for line in header_lines(trace)]
    out += [f"- note: {note}" for note in trace.notes] + ["", "### Forward pass", ""]
    for layer in words["forward"]:
        out += [f"**{layer['title']}**: `{layer['formula']}`", ""] + _md_table(layer["rows"], FORWARD_COLUMNS)
    out += [f"**Output**: {line}  " for line in words["output"]]
    if words["loss"]:
        out += [f"**Loss**: `{words['loss']['formula']}`  ", words["loss"]["worked"]]
    if words["backward"]:
        out += ["", "### Backward pass", ""]
    for layer in words["backward"]:
        out += [f"**{layer['title']}**: `{layer['error_formula']}`; `{layer['delta_formula']}`", ""]
        out += _md_table(layer["rows"], DELTA_COLUMNS)
        out += [f"`{layer['gradient_formula']}`; `{layer['update_formula']}`", ""]
        out += _md_table(layer["parameters"], PARAMETER_COLUMNS)
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- json


def render_json(trace: Trace) -> str:
    return json.dumps(trace.to_dict(), indent=2, ensure_ascii=False) + "\n"
