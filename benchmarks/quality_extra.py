"""The extra validation group (`quality_data.EXTRA`): real tables nobody tuned the recipe on,
run two ways.

    python -m benchmarks.quality_extra                    # API: layerwise vs sklearn MLP vs HGB, seed 0
    python -m benchmarks.quality_extra --seeds 0 1 2 --tables auto_mpg movies
    python -m benchmarks.quality_extra --csv /tmp/extra   # as a new user: CSV file + `layerwise train`

The first is `benchmarks.quality` on these tables (same splits, same scoring; rows appended to
benchmarks/quality_extra_results.jsonl). The second writes each table to a CSV file, whole, and
runs `python -m layerwise train --data NAME.csv --target y` with nothing else, recording the exit
code, seconds, warnings and test score: the CLI path (CSV reading, type inference, column
warnings) is what a user meets and the DataFrame API can hide.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from .quality_data import EXTRA


def run_cli(table: str, folder: Path, timeout: int, group: dict = EXTRA) -> dict:
    """Write `table` (of `group`) to folder/table.csv and train on it with the CLI's defaults."""
    X, y, task = group[table][0]()
    frame = X.assign(y=y.to_numpy())
    path = folder / f"{table}.csv"
    frame.to_csv(path, index=False)
    run_dir = folder / f"{table}_run"
    command = [sys.executable, "-m", "layerwise", "train", "--data", str(path), "--target", "y", "--out", str(run_dir), "--overwrite"]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        code, output = "timeout", ""
    seconds = time.perf_counter() - started
    lines = output.splitlines()
    return {"table": table, "task": task, "rows": len(frame), "columns": X.shape[1], "exit": code,
            "seconds": round(seconds, 1), "warnings": [line for line in lines if "warning" in line.lower()],
            "last": lines[-3:] if code != 0 else [line for line in lines if line.startswith(("test:", "validation"))][-1:]}


def main(argv=None, group: dict = EXTRA, results: str = "benchmarks/quality_extra_results.jsonl",
         doc: str = __doc__) -> None:
    """Run the tables of `group` (a quality_data dict) and append the rows to `results`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="*", default=list(group), choices=list(group))
    parser.add_argument("--csv", help="folder: run the CLI on each table written as CSV instead")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per CLI run (--csv)")
    args, rest = parser.parse_known_args(argv)
    if args.csv:
        folder = Path(args.csv)
        folder.mkdir(parents=True, exist_ok=True)
        for table in args.tables:
            print(json.dumps(run_cli(table, folder, args.timeout, group)), flush=True)
        return
    from .quality import main as quality_main

    defaults = {"--models": ["layerwise", "sklearn_mlp", "hgb"], "--seeds": ["0"],
                "--results": [results]}
    for flag, value in defaults.items():
        if flag not in rest:
            rest += [flag, *value]
    quality_main(["--tables", *args.tables, *rest])


if __name__ == "__main__":
    main()
