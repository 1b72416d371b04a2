"""Round 3 of the acceptance rehearsal (`quality_data.ROUND3`), run the way acceptance runs it: each
table is written as two CSV files, train.csv and test.csv (a seeded 80/20 split, stratified for
classification), and layerwise is used as a new user uses it:

    python -m layerwise train --data train.csv --target COL --out RUN       # nothing else
    python -m layerwise predict RUN --input test.csv --output pred.csv      # scored here
    python -m layerwise evaluate RUN --data test.csv                        # its metric recorded too

scikit-learn's MLP pipeline and HistGradientBoosting (benchmarks.quality's fit_sklearn_mlp and
fit_hgb) are fitted on the same train.csv read back with pandas.read_csv and scored on the same
test.csv. Scores: accuracy or R^2, as benchmarks.quality computes them.

    python -m benchmarks.quality_round3                        # every table, seed 0, files under /tmp
    python -m benchmarks.quality_round3 --seeds 1 2 --tables acs12 birds
    python -m benchmarks.quality_round3 --csv /tmp/r3          # where the CSV files and runs go
    python -m benchmarks.quality_round3 --models layerwise --tables acs12 --variant training.ensemble=3
    python -m benchmarks.quality_round3 --report               # the table from the results file only

--variant KEY=VALUE (repeatable) passes `--set KEY=VALUE` to `layerwise train`: a diagnosis, recorded
under the model name layerwise[KEY=VALUE]. Every process runs with one thread (OMP_NUM_THREADS=1 for
the CLI, threadpoolctl for the baselines; --threads changes it) so two runs can share a 2-core
machine. Rows are appended to benchmarks/quality_round3_results.jsonl (a cell measured again counts
by its latest row).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .quality_data import ROUND3

RESULTS = "benchmarks/quality_round3_results.jsonl"
MODELS = ("layerwise", "sklearn_mlp", "hgb")


def split_files(table: str, seed: int, folder: Path) -> tuple[Path, Path, str, str, int]:
    """Write folder/train.csv and folder/test.csv; (train, test, target column, task, rows)."""
    from sklearn.model_selection import train_test_split

    X, y, task = ROUND3[table][0]()
    target = str(y.name)
    frame = X.assign(**{target: y.to_numpy()})
    strata = None
    if task == "classification":  # a class of one row cannot be in both parts: it joins the largest class's stratum
        counts = y.map(y.value_counts())
        strata = y.where(counts >= 2, y.value_counts().index[0]).astype(str)
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=strata)
    folder.mkdir(parents=True, exist_ok=True)
    train_path, test_path = folder / "train.csv", folder / "test.csv"
    train.to_csv(train_path, index=False)
    test.to_csv(test_path, index=False)
    return train_path, test_path, target, task, len(frame)


def as_labels(values) -> np.ndarray:
    """Class labels compared as numbers when both sides are numbers (1 and 1.0 are one label), else as text."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype=np.float64)
    return pd.Series(values).astype(str).to_numpy()


def score(task: str, y_true, y_pred) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    if task == "classification":
        truth, predicted = as_labels(y_true), as_labels(y_pred)
        if truth.dtype != predicted.dtype:
            truth, predicted = truth.astype(str), predicted.astype(str)
        return float(accuracy_score(truth, predicted))
    return float(r2_score(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)))


def cli(*args: str, threads: int, timeout: int) -> tuple[object, str, float]:
    """(exit code or 'timeout', stdout+stderr, seconds) of `python -m layerwise ARGS`."""
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "layerwise", *args], capture_output=True, text=True,
                              timeout=timeout, env=env)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        code, output = "timeout", ""
    return code, output, time.perf_counter() - started


def run_layerwise(train: Path, test: Path, target: str, task: str, variant, threads: int, timeout: int) -> dict:
    """Train with the CLI's defaults (plus --set for a variant), predict test.csv, evaluate it."""
    run = train.parent / ("run" if not variant else "run-" + "-".join(v.replace("=", "_") for v in variant))
    shutil.rmtree(run, ignore_errors=True)
    sets = [arg for v in variant for arg in ("--set", v)]
    code, output, seconds = cli("train", "--data", str(train), "--target", target, "--out", str(run), *sets,
                                threads=threads, timeout=timeout)
    (train.parent / f"{run.name}.log").write_text(output)
    lines = output.splitlines()
    row = {"exit": code, "seconds": round(seconds, 1), "tracebacks": ["train"] if "Traceback" in output else [],
           "warnings": [line.strip() for line in lines if "warning" in line.lower()],
           "validation": [line.strip() for line in lines if line.startswith("validation")][-1:]}
    if code != 0:
        row.update(score=None, last=lines[-3:])
        return row
    model = json.loads((run / "model.json").read_text())
    row["lw_task"] = model.get("task")
    predictions = train.parent / "pred.csv"
    code, output, _ = cli("predict", str(run), "--input", str(test), "--output", str(predictions),
                          threads=threads, timeout=timeout)
    row["predict_warnings"] = [line.strip() for line in output.splitlines() if "warning" in line.lower()]
    row["tracebacks"] += ["predict"] if "Traceback" in output else []
    if code != 0:
        row.update(score=None, last=output.splitlines()[-3:])
        return row
    y_test = pd.read_csv(test, low_memory=False)[target]
    row["score"] = score(task, y_test, pd.read_csv(predictions)["prediction"])
    code, output, _ = cli("evaluate", str(run), "--data", str(test), threads=threads, timeout=timeout)
    row["tracebacks"] += ["evaluate"] if "Traceback" in output else []
    row["evaluate"] = {parts[0]: float(parts[1]) for parts in map(str.split, output.splitlines())
                       if len(parts) == 2 and _is_number(parts[1])} if code == 0 \
        else f"exit {code}: {(output.splitlines() or [''])[-1]}"
    return row


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _text_columns(frame: pd.DataFrame) -> dict:
    return {c: str for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])}


def _like(test: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """test.csv read as a practitioner's pipeline must read it to predict at all: a column of numbers
    in train.csv that holds a word in test.csv (reddit_fi's num_incomes: '1', '2', '3' and, twice,
    '>3') as numbers, the word missing; a column of text in train.csv stays text (read with dtype=str)."""
    test = test.copy()
    for c in train.columns:
        if pd.api.types.is_numeric_dtype(train[c]) and not pd.api.types.is_numeric_dtype(test[c]):
            test[c] = pd.to_numeric(test[c], errors="coerce")
    return test


def run_baseline(model: str, train: Path, test: Path, target: str, task: str, seed: int) -> dict:
    from .quality import fit_hgb, fit_sklearn_mlp

    fit = {"sklearn_mlp": fit_sklearn_mlp, "hgb": fit_hgb}[model]
    train_frame = pd.read_csv(train, low_memory=False)
    test_frame = _like(pd.read_csv(test, low_memory=False, dtype=_text_columns(train_frame)), train_frame)
    dropped = 0
    if model == "hgb" and task == "classification":
        # HGB's early stopping (on above 10,000 rows) splits off a stratified validation set and
        # stops with a ValueError on a class of one training row (rodents: 4 species); a user
        # then drops those rows, as here
        counts = train_frame[target].map(train_frame[target].value_counts())
        dropped = int((counts < 2).sum()) if len(train_frame) > 10_000 else 0
        train_frame = train_frame[counts >= 2] if dropped else train_frame
    started = time.perf_counter()
    predicted = fit(train_frame.drop(columns=[target]), train_frame[target], test_frame.drop(columns=[target]),
                    task, seed)
    seconds = time.perf_counter() - started
    return {"score": score(task, test_frame[target], predicted), "seconds": round(seconds, 1),
            **({"dropped_train_rows": dropped} if dropped else {})}


def summary(rows: list[dict]) -> str:
    """Markdown: per table the mean score of each model over the seeds all three ran, layerwise minus
    the MLP per seed (in points: accuracy or R^2 x 100), minus HGB, and layerwise's seconds per fit."""
    frame = pd.DataFrame(rows)
    frame = frame[frame["score"].notna()].drop_duplicates(["model", "table", "seed"], keep="last")
    scores = frame.pivot_table(index=["table", "seed"], columns="model", values="score")
    seconds = frame.pivot_table(index=["table", "seed"], columns="model", values="seconds")
    lines = ["| table | rows | task | seeds | layerwise | sklearn_mlp | hgb | lw - MLP (per seed) | lw - HGB | lw s/fit |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    means, ahead = [], 0
    for table in [t for t in ROUND3 if t in scores.index.get_level_values(0)]:
        cells = scores.loc[table].reindex(columns=list(MODELS)).dropna()
        if cells.empty:
            continue
        info = frame[frame["table"] == table].iloc[0]
        delta = (cells["layerwise"] - cells["sklearn_mlp"]) * 100
        mean = cells.mean()
        means.append(mean)
        ahead += bool(mean["layerwise"] >= mean["sklearn_mlp"])
        metric = "acc" if info["task"] == "classification" else "R²"
        per_seed = ", ".join(f"{d:+.1f}" for d in delta)
        lines.append(f"| {table} | {int(info['rows']):,} | {metric} | {','.join(map(str, cells.index))} | "
                     f"{mean['layerwise']:.4f} | {mean['sklearn_mlp']:.4f} | {mean['hgb']:.4f} | "
                     f"{delta.mean():+.1f} ({per_seed}) | {(mean['layerwise'] - mean['hgb']) * 100:+.1f} | "
                     f"{seconds.loc[table, 'layerwise'].loc[cells.index].mean():.0f} |")
    if means:
        total = pd.DataFrame(means).mean()
        lines.append(f"| **mean** ({len(means)} tables) | | | | **{total['layerwise']:.4f}** | {total['sklearn_mlp']:.4f} | "
                     f"{total['hgb']:.4f} | {(total['layerwise'] - total['sklearn_mlp']) * 100:+.1f} | "
                     f"{(total['layerwise'] - total['hgb']) * 100:+.1f} | |")
        lines.append(f"\nlayerwise >= sklearn MLP on {ahead} of {len(means)} tables (mean over the seeds shown).")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="*", default=list(ROUND3), choices=list(ROUND3))
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--csv", help="folder for the CSV files and run directories (default: a new temporary one)")
    parser.add_argument("--variant", action="append", default=[], help="layerwise: --set KEY=VALUE for `train`")
    parser.add_argument("--threads", type=int, default=1, help="threads per process (0: the libraries' defaults)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per CLI command")
    parser.add_argument("--results", default=RESULTS)
    parser.add_argument("--report", action="store_true", help="only print the table of the results file")
    args = parser.parse_args(argv)
    path = Path(args.results)
    if not args.report:
        from threadpoolctl import threadpool_limits

        folder = Path(args.csv) if args.csv else Path(tempfile.mkdtemp(prefix="layerwise_round3_"))
        if args.threads:
            threadpool_limits(args.threads)  # numpy's BLAS (the MLP) and OpenMP (HGB) in this process
        for seed in args.seeds:
            for table in args.tables:
                train, test, target, task, rows = split_files(table, seed, folder / f"{table}-s{seed}")
                for model in args.models:
                    if model == "layerwise":
                        row = run_layerwise(train, test, target, task, args.variant, args.threads, args.timeout)
                        name = "layerwise" + (f"[{','.join(args.variant)}]" if args.variant else "")
                    else:
                        row, name = run_baseline(model, train, test, target, task, seed), model
                    row = {"model": name, "table": table, "seed": seed, "task": task, "rows": rows, **row}
                    print(json.dumps(row), flush=True)
                    with path.open("a") as handle:
                        handle.write(json.dumps(row) + "\n")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    rows = [r for r in rows if r["table"] in args.tables and r.get("score") is not None]
    plain = [r for r in rows if "[" not in r["model"]]
    print(summary(plain) if plain else "(no results yet)")
    if any("[" in r["model"] for r in rows):
        from .quality import ablation

        print("\n" + ablation(rows))  # each variant's score change against the default, same tables and seeds


if __name__ == "__main__":
    main()
