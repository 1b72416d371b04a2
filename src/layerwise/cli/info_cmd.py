"""`layerwise summary` and `layerwise datasets`: look before you train."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("summary")(summary)
    app.command("datasets")(datasets)
    app.command("download")(download)


DOWNLOADS = ("mnist", "fashion-mnist", "mnist1d")


def download(
    name: str = typer.Argument(..., help="mnist, fashion-mnist or mnist1d"),
    directory: Path = typer.Argument(..., help="Folder for the four IDX files (then use --data mnist:DIR), "
                                               "or for mnist1d.npz (then --data DIR/mnist1d.npz)."),
) -> None:
    """Fetch MNIST or Fashion-MNIST IDX files (needs a network; training itself never downloads),
    or write MNIST-1D as DIR/mnist1d.npz (generated here by the mnist1d package, no network)."""
    if name not in DOWNLOADS:  # checked here: the IDX downloader's own list lacks mnist1d
        from ..errors import LayerwiseError
        from ..suggest import did_you_mean

        raise LayerwiseError(f"unknown download '{name}'{did_you_mean(name, DOWNLOADS)}; "
                             f"expected one of {', '.join(DOWNLOADS)}")
    if name == "mnist1d":
        from ..data.mnist1d import write_npz

        print(f"ready: --data {write_npz(directory)}")
        return
    from ..data.download import download as fetch

    print(f"ready: --data mnist:{fetch(name, directory)}")


def summary(target: Path = typer.Argument(..., help="A config YAML or a run directory.")) -> None:
    """Print the network like print(model), then every layer's output shape and parameters."""
    from rich.console import Console
    from rich.table import Table

    from ..summary import summarise_network

    text, rows, total = summarise_network(target)
    console = Console(highlight=False)
    console.print(text)
    table = Table(title="layers (output shape per sample)")
    for column in ("layer", "type", "output shape", "parameters"):
        table.add_column(column, justify="right" if column == "parameters" else "left")
    for name, kind, shape, count in rows:
        table.add_row(name, kind, shape, f"{count:,}")
    table.add_row("total", "", "", f"{total:,}", style="bold")
    console.print(table)


def datasets() -> None:
    """List the built-in datasets (use them as --data builtin:NAME)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..data.builtin import describe_builtins

    table = Table(title="built-in datasets (--data builtin:NAME)")
    for column in ("name", "rows", "features", "task", "description"):
        table.add_column(column, justify="right" if column in ("rows", "features") else "left")
    for row in describe_builtins():
        table.add_row(row["name"], f"{row['rows']:,}", str(row["features"]), row["task"],
                      escape(row["description"]))  # rich would read "layerwise[mnist1d]" as a style tag and drop it
    Console(highlight=False).print(table)
