"""`layerwise runs`: list run directories, or compare a few of them in one HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)


def runs(
    dirs: Optional[List[Path]] = typer.Argument(None, help="A folder of runs (default: runs), or with --compare the run directories to compare."),
    sort: str = typer.Option("date", "--sort", help="date (newest first) | metric (best first) | status | data | task | best_epoch | seconds | name."),
    compare_runs: bool = typer.Option(False, "--compare", help="Compare the given run directories: overlaid curves, config differences, scores."),
    out: Path = typer.Option(Path("compare.html"), "--out", "-o", help="Where --compare writes its page."),
) -> None:
    """One line per run directory: status, data, task, monitored metric, best epoch, seconds, date."""
    from ..runs_table import find_runs, format_rows, read_row, sort_rows

    if compare_runs:
        from ..runs_compare import compare
        from .paths import output_file

        print(f"compare: {compare(list(dirs or []), output_file(out, '--out'))}")
        return
    roots = list(dirs or [Path("runs")])
    rows = [read_row(path) for root in roots for path in find_runs(root)]
    if not rows:
        print(f"no run directories under {', '.join(map(str, roots))}")
        return
    print(format_rows(sort_rows(rows, sort), roots[0] if len(roots) == 1 else Path(".")))
