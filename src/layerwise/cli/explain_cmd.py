"""`layerwise explain` and `layerwise draw`: argument parsing only; the work is in layerwise.explain.

Nothing heavy is imported at module level (the CLI must start fast): NumPy, rich and matplotlib
load inside the commands. Mistakes raise LayerwiseError; the main app prints it and exits 2.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

# Widest layer `explain` prints (every neuron gets a row, every weight a line); `draw` shows fewer.
PRINT_MAX_NEURONS = 32
DRAW_MAX_NEURONS = 16

NET_HELP = "A YAML network file (layers/activation/weights) or a trained run directory."


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def explain_command(
    net: str = typer.Argument(..., help=NET_HELP),
    input: Optional[str] = typer.Option(None, "--input", "-i", help="Input values, e.g. 1,2 (raw feature values for a run)."),
    input_row: Optional[int] = typer.Option(None, "--input-row", help="Use this row (0-based) of --data as the input."),
    data: Optional[str] = typer.Option(None, "--data", help="Data source for --input-row, e.g. builtin:iris."),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="Wanted output: a class index or name, or numbers."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate α of the one update W ← W − α∂E/∂W (default 0.1)."),
    loss: Optional[str] = typer.Option(None, "--loss", help="mse | l1 | huber | ce | bce (default from the task; mse for files)."),
    decimals: Optional[int] = typer.Option(None, "--decimals", help="Round activations to N decimals like a hand calculation."),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text (tables), json or markdown."),
    max_neurons: int = typer.Option(PRINT_MAX_NEURONS, "--max-neurons", help="Refuse layers wider than this."),
) -> None:
    """Work one example through a small network: every weighted sum, activation, δ, gradient and update."""
    from ..explain.api import explain
    from ..explain.netfile import load_network

    if target is None and input_row is None and (loss is not None or lr is not None):
        from ..errors import LayerwiseError  # they were ignored: no target, no loss, no update

        raise LayerwiseError(f"{'--loss' if loss is not None else '--lr'} needs --target: without a wanted output, "
                             "explain works the forward pass only")
    network = load_network(net)
    check_printable(network.sizes, max_neurons)
    trace = explain(network, input, target=target, lr=0.1 if lr is None else lr, loss=loss, decimals=decimals,
                    row=input_row, data=data)
    show(trace, format)


def check_printable(sizes: list[int], max_neurons: int) -> None:
    from ..errors import LayerwiseError

    for index, size in enumerate(sizes):
        if size > max_neurons:
            where = "the input layer" if index == 0 else f"layer {index}"
            raise LayerwiseError(
                f"network too large to print: {where} has {size} neurons (more than {max_neurons});"
                f" pass --max-neurons {size} to print it anyway"
            )


def show(trace, format: Format) -> None:
    from ..explain import render

    if format == Format.text:
        from rich.console import Console

        # Tables are as wide as their longest worked line; never crop them to the terminal (or to
        # 80 columns when piped): a long line wraps, a cropped one loses numbers.
        Console(highlight=False, width=max(Console().width, 240)).print(render.render_text(trace))
    elif format == Format.json:
        typer.echo(render.render_json(trace), nl=False)
    else:
        typer.echo(render.render_markdown(trace), nl=False)


def draw_command(
    net: str = typer.Argument(..., help=NET_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Image to write (.png, .svg, .pdf)."),
    max_neurons: int = typer.Option(DRAW_MAX_NEURONS, "--max-neurons", help="Neurons drawn per layer; the rest become '⋮'."),
    values: Optional[bool] = typer.Option(None, "--values/--no-values", help="Write weights on edges (default: when small)."),
) -> None:
    """Draw the network as the seeds picture it: neurons in columns, edges coloured by weight."""
    from ..explain import draw
    from .paths import output_file

    written = draw(net, output_file(output, "-o", make_parents=True), max_neurons=max_neurons, values=values)
    typer.echo(f"wrote {written}")


def register(app: "typer.Typer") -> None:
    """Add `explain` and `draw` to the main app."""
    app.command("explain")(explain_command)
    app.command("draw")(draw_command)
