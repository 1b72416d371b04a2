"""Draw a dense network as the seeds picture it: neurons as circles in columns, weighted edges.

Edge colour is the weight's sign (blue positive, red negative) and its width grows with |w|.
Wide layers show their first neurons, a '⋮', and their last neuron, and say "showing 16 of 784".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import LayerwiseError
from .network import DenseNet, neuron_names
from .numbers import num

POSITIVE, NEGATIVE = "#1f77b4", "#d62728"  # matplotlib's blue and red
MAX_LABELLED_EDGES = 30  # above this many drawn edges, weight values would overlap: leave them off
RADIUS = 0.22  # neuron circle radius, in units of the vertical gap between neurons
COLUMN_GAP = 2.6  # horizontal distance between layers, in the same units
LABEL_PLACES = 2  # decimals of the weights written on edges
FORMATS = {".png", ".svg", ".pdf", ".jpg", ".jpeg"}


def shown_neurons(size: int, max_neurons: int) -> list[int | None]:
    """Indices to draw for a layer of `size`: all, or the first max−1, None (for '⋮'), the last."""
    if size <= max_neurons:
        return list(range(size))
    return list(range(max_neurons - 1)) + [None, size - 1]


def column_positions(slots: int, tallest: int) -> np.ndarray:
    """y of each slot, centred on 0, one unit apart (top slot first)."""
    del tallest  # columns are centred, so the tallest only sets the figure height
    return (slots - 1) / 2.0 - np.arange(slots)


def draw_network(net: DenseNet, output_path, max_neurons: int = 16, values: bool | None = None) -> Path:
    """Write the drawing to `output_path` (.png, .svg or .pdf) and return the path."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    path = Path(output_path)
    if path.suffix.lower() not in FORMATS:
        raise LayerwiseError(f"{path}: unknown image type '{path.suffix}'; use .png, .svg or .pdf")
    if max_neurons < 2:
        raise LayerwiseError(f"--max-neurons must be at least 2 to draw a layer; got {max_neurons}")
    columns = [shown_neurons(size, max_neurons) for size in net.sizes]
    tallest = max(len(column) for column in columns)
    edges = sum(len([i for i in a if i is not None]) * len([j for j in b if j is not None])
                for a, b in zip(columns, columns[1:]))
    label_values = edges <= MAX_LABELLED_EDGES if values is None else values
    figure, axes = plt.subplots(figsize=(1.5 + 2.6 * len(columns), 1.8 + 0.75 * tallest))
    ys = [column_positions(len(column), tallest) for column in columns]
    _draw_edges(axes, net, columns, ys, label_values)
    _draw_neurons(axes, net, columns, ys, label_values)
    _decorate(axes, net, columns, tallest)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path


def _draw_edges(axes, net: DenseNet, columns, ys, label_values: bool) -> None:
    for layer_index, layer in enumerate(net.layers):
        sources, targets = columns[layer_index], columns[layer_index + 1]
        strongest = np.abs(layer.weight).max() or 1.0
        crowded = len(sources) * len(targets) > 200  # many edges: thinner and fainter
        for t_slot, i in enumerate(targets):
            for s_slot, j in enumerate(sources):
                if i is None or j is None:
                    continue
                w = layer.weight[i, j]
                x0, x1 = layer_index * COLUMN_GAP, (layer_index + 1) * COLUMN_GAP
                y0, y1 = ys[layer_index][s_slot], ys[layer_index + 1][t_slot]
                axes.plot([x0, x1], [y0, y1], color=POSITIVE if w >= 0 else NEGATIVE, zorder=1,
                          linewidth=(0.3 if crowded else 0.6) + 3.0 * abs(w) / strongest,
                          alpha=0.35 if crowded else 0.8, solid_capstyle="round")
                if label_values:
                    _edge_label(axes, num(w, LABEL_PLACES), (x0, y0), (x1, y1), t_slot, len(targets))


def _edge_label(axes, text: str, start, end, t_slot: int, target_count: int) -> None:
    """Write a weight on its edge, nearer the source; edges into different neurons get different
    offsets along the line so that labels at the crossing do not sit on top of each other."""
    fraction = 0.2 + 0.3 * (t_slot / max(1, target_count - 1)) if target_count > 1 else 0.3
    x = start[0] + fraction * (end[0] - start[0])
    y = start[1] + fraction * (end[1] - start[1])
    axes.text(x, y, text, fontsize=8, ha="center", va="center", zorder=3,
              bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def _draw_neurons(axes, net: DenseNet, columns, ys, label_values: bool) -> None:
    import matplotlib.patches as patches

    for index, column in enumerate(columns):
        names = neuron_names(net, index)
        fill = "#e8f1fa" if index == 0 else ("#fdebd3" if index == len(columns) - 1 else "#eaf5e4")
        bias = None if index == 0 else net.layers[index - 1].bias
        x = index * COLUMN_GAP
        for slot, neuron in enumerate(column):
            y = ys[index][slot]
            if neuron is None:
                axes.text(x, y, "⋮", fontsize=16, ha="center", va="center")
                continue
            axes.add_patch(patches.Circle((x, y), RADIUS, facecolor=fill, edgecolor="#333333", zorder=2))
            axes.text(x, y, names[neuron], fontsize=9 if len(names[neuron]) < 5 else 7,
                      ha="center", va="center", zorder=4)
            if bias is not None and label_values:
                axes.text(x, y - RADIUS - 0.06, f"b={num(bias[neuron], LABEL_PLACES)}", fontsize=7,
                          ha="center", va="top", zorder=4, color="#555555")


def _decorate(axes, net: DenseNet, columns, tallest: int) -> None:
    top = (tallest - 1) / 2.0 + 0.7
    last = len(columns) - 1
    for index, column in enumerate(columns):
        kind = "input" if index == 0 else ("output" if index == last else f"hidden {index}")
        label = f"{kind}\n{net.layers[index - 1].activation if index else 'x'}"  # two lines in every column
        axes.text(index * COLUMN_GAP, top, label, fontsize=10, ha="center", va="bottom", fontweight="bold")
        size = net.sizes[index]
        if size > len([n for n in column if n is not None]):
            shown = len([n for n in column if n is not None])
            axes.text(index * COLUMN_GAP, -top, f"showing {shown} of {size}", fontsize=8, ha="center", va="top", color="#555555")
    axes.set_title(f"{net.summary()}\nblue: positive weight, red: negative; width ∝ |w|", fontsize=10)
    axes.set_xlim(-0.6, last * COLUMN_GAP + 0.6)
    axes.set_ylim(-top - 0.5, top + 0.6)
    axes.set_aspect("equal")
    axes.axis("off")


# ---- networks with typed layers (conv, pool, ...): one labelled block per layer ------------------
BLOCK_COLOURS = {"Conv": "#dbe9f6", "Pool": "#e4f2df", "Linear": "#fdebd3", "Norm": "#efe6f5"}


def draw_blocks(rows: list[tuple[str, str, str, int]], output_path, title: str = "") -> Path:
    """Draw layers as labelled blocks, top to bottom: name, type, output shape and parameters.
    `rows` are `summary.layer_rows` (a residual block's own layers are drawn inside its span)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches as patches
    import matplotlib.pyplot as plt

    path = _checked_path(output_path)
    figure, axes = plt.subplots(figsize=(5.2, 0.9 + 0.62 * len(rows)))
    labels = []  # (name text, shape text, the data width they share)
    for index, (name, kind, shape, count) in enumerate(rows):
        inner = "." in name  # inside a residual block: indented
        y, x = -index, 0.35 if inner else 0.0
        colour = next((c for key, c in BLOCK_COLOURS.items() if key in kind), "#eeeeee")
        axes.add_patch(patches.FancyBboxPatch((x, y - 0.25), 3.6 - x, 0.5, boxstyle="round,pad=0.02",
                                              facecolor=colour, edgecolor="#333333"))
        params = f"  {count:,} params" if count else ""
        labels.append((axes.text(x + 0.1, y, f"{name}  {kind}", fontsize=9, va="center", fontweight="bold"),
                       axes.text(3.5, y, f"{shape}{params}", fontsize=8, va="center", ha="right", color="#333333"),
                       3.4 - x))
        if index:
            axes.annotate("", xy=(1.8, y + 0.26), xytext=(1.8, y + 0.74), arrowprops={"arrowstyle": "->", "lw": 0.8})
    axes.set_title(title or f"{len(rows)} layers, output shape per sample", fontsize=10)
    axes.set_xlim(-0.1, 3.7)
    axes.set_ylim(-len(rows) + 0.4, 0.6)
    axes.axis("off")
    _widen_to_fit(figure, axes, labels)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(figure)
    return path


def _widen_to_fit(figure, axes, labels) -> None:
    """Text keeps its size in points while the boxes scale with the figure: widen the figure until
    the longest name and its shape fit side by side (an ensemble's 'members.*.embed0
    PeriodicEmbedding' ran into its own shape text)."""
    renderer = figure.canvas.get_renderer()
    unit = axes.transData.transform((1, 0))[0] - axes.transData.transform((0, 0))[0]  # pixels per data unit
    ratio = max((left.get_window_extent(renderer).width + right.get_window_extent(renderer).width + 0.3 * unit)
                / (room * unit) for left, right, room in labels) if labels else 1.0
    if ratio > 1:
        figure.set_figwidth(figure.get_figwidth() * ratio)


def _checked_path(output_path) -> Path:
    path = Path(output_path)
    if path.suffix.lower() not in FORMATS:
        raise LayerwiseError(f"{path}: unknown image type '{path.suffix}'; use .png, .svg or .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
