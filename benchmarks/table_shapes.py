"""Tables of unusual size and shape through the CLI defaults, as the acceptance run uses them:
`layerwise train --data train.csv --target y` and nothing else (plus `--threads`, which this
shared machine needs), then `layerwise predict RUN --input test.csv` on held-out rows, scored
against scikit-learn's HistGradientBoosting on the same split (benchmarks/quality.py's fit_hgb;
its MLP where HGB would take hours: 200 and 1,000 classes). Both are scored as what the table
is (a case's `task`): classes predicted as a regression's numbers count as wrong.

    python -m benchmarks.table_shapes                       # the default cases (~15 minutes on a shared 2-core CPU)
    python -m benchmarks.table_shapes --cases tiny_10 rows_1m
    python -m benchmarks.table_shapes --big                 # also 200k and 1M rows, 3,000 columns, 1,000 classes
    python -m benchmarks.table_shapes --cases rows_1m --set training.epochs=5   # what a budget would cost/score

Each case prints one row: rows x columns of the training file, the task layerwise chose, wall
seconds and peak resident memory (MB) of the training process, layerwise's and scikit-learn's
test score (accuracy, or R^2 averaged over the targets), and the outcome: `ok`, `error: ...` (the one line,
exit 2), `CRASH` (a traceback or another exit code) or `TIMEOUT`. For a trained run it also
checks what a user does next: predict with the columns in another order plus an extra column
(same predictions), with a column missing (one `error:` line), and `evaluate` (exit 0); a
failed check is appended to the outcome. The machine is shared: read seconds as rough figures.
Scratch files go under --work (default /tmp/table_shapes), never into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .table_shapes_data import CASES, Case


def run_cli(args: list[str], cwd: Path, timeout: float) -> dict:
    """`python -m layerwise ARGS`: exit code, output, wall seconds and the peak RSS (MB) of that
    process: its VmHWM, read while it runs (wait4's ru_maxrss would report this runner's own
    resident size when that is larger, inherited by the forked child before its exec)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore::FutureWarning"}
    started = time.perf_counter()
    with open(cwd / "stdout.txt", "w") as out, open(cwd / "stderr.txt", "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "layerwise", *args], cwd=cwd, stdout=out, stderr=err, env=env)
        deadline, peak = started + timeout, 0
        while True:
            peak = max(peak, high_water_kb(process.pid))
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                return {"code": None, "seconds": timeout, "mb": peak / 1024, "out": "", "err": ""}
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"code": process.returncode, "seconds": time.perf_counter() - started, "mb": peak / 1024,
            "out": (cwd / "stdout.txt").read_text(), "err": (cwd / "stderr.txt").read_text()}


def high_water_kb(pid: int) -> int:
    """The peak resident memory (kB) of a running process so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def outcome(result: dict) -> str:
    """ok / error: LINE / CRASH (exit N) / TIMEOUT for one CLI call."""
    if result["code"] is None:
        return "TIMEOUT"
    text = result["err"] + result["out"]
    errors = [line for line in result["err"].splitlines() if line.startswith("error: ")]
    if result["code"] == 0 and "Traceback" not in text:
        return "ok"
    if result["code"] == 2 and "Traceback" not in text and len(errors) == 1:
        return errors[0]
    last = (result["err"].strip().splitlines() or ["?"])[-1]
    return f"CRASH (exit {result['code']}: {last[:120]})"


def score(truth: pd.DataFrame, predicted: pd.DataFrame, task: str) -> float:
    """Accuracy (labels compared as text: a class predicted as a regression's number is wrong) or
    R^2 averaged over the target columns."""
    from sklearn.metrics import accuracy_score, r2_score

    if task == "classification":
        return float(accuracy_score(truth.iloc[:, 0].astype(str), predicted.iloc[:, 0].astype(str)))
    return float(np.mean([r2_score(truth.iloc[:, k], pd.to_numeric(predicted.iloc[:, k], errors="coerce").fillna(0))
                          for k in range(truth.shape[1])]))


def reference_score(train: pd.DataFrame, test: pd.DataFrame, case: Case) -> Optional[float]:
    """scikit-learn's HistGradientBoosting (or MLP) on the same CSVs (as pandas reads them) and split."""
    from .quality import fit_hgb, fit_sklearn_mlp

    fit = {"hgb": fit_hgb, "mlp": fit_sklearn_mlp}[case.reference]
    y = train[case.target[0]]
    keep = y.notna()
    predicted = fit(train.loc[keep].drop(columns=case.target), y[keep], test.drop(columns=case.target), case.task, 0)
    return score(test[case.target], pd.DataFrame({"p": predicted}), case.task)


def task_of(run: Path) -> str:
    meta = json.loads((run / "model.json").read_text())
    return meta["task"]


def after_training(work: Path, run: Path, test: pd.DataFrame, case: Case, task: str, timeout: float) -> tuple[float, list[str]]:
    """The test score from `predict`, and what failed of predict (reordered + extra column, a
    column missing) and evaluate."""
    problems = []
    features = test.drop(columns=case.target)
    features.to_csv(work / "test_x.csv", index=False)
    done = run_cli(["predict", str(run), "--input", "test_x.csv", "--output", "pred.csv"], work, timeout)
    if outcome(done) != "ok":
        return float("nan"), [f"predict: {outcome(done)}"]
    predicted = pd.read_csv(work / "pred.csv")
    columns = ["prediction"] if len(case.target) == 1 or task != "regression" else [f"prediction_{t}" for t in case.target]
    value = score(test[case.target], predicted[columns], case.task)
    shuffled = features[features.columns[::-1]].assign(extra_column=1.0)
    shuffled.to_csv(work / "test_shuffled.csv", index=False)
    done = run_cli(["predict", str(run), "--input", "test_shuffled.csv", "--output", "pred2.csv"], work, timeout)
    if outcome(done) != "ok":
        problems.append(f"reordered predict: {outcome(done)}")
    elif not pd.read_csv(work / "pred2.csv")[columns].equals(predicted[columns]):
        problems.append("reordered predict: other predictions")
    features.iloc[:, 1:].to_csv(work / "test_short.csv", index=False)
    done = run_cli(["predict", str(run), "--input", "test_short.csv"], work, timeout)
    if not outcome(done).startswith("error: "):
        problems.append(f"predict without column {features.columns[0]!r}: {outcome(done)}")
    test.to_csv(work / "test.csv", index=False)
    done = run_cli(["evaluate", str(run), "--data", "test.csv"], work, timeout)
    if outcome(done) != "ok":
        problems.append(f"evaluate: {outcome(done)}")
    return value, problems


def run_case(name: str, case: Case, root: Path, threads: int, timeout: float, overrides: list[str],
             baseline: bool) -> dict:
    work = root / name
    work.mkdir(parents=True, exist_ok=True)
    train, test = case.make(0)
    train.to_csv(work / "train.csv", index=False)
    args = ["train", "--data", "train.csv", "--target", *case.target, "--out", "run", "--overwrite", "--quiet",
            "--threads", str(threads)] + [part for o in overrides for part in ("--set", o)]
    result = run_cli(args, work, timeout)
    row = {"case": name, "shape": f"{len(train):,} x {train.shape[1]:,}", "task": "-",
           "seconds": round(result["seconds"], 1), "peak_mb": round(result["mb"]), "layerwise": None, "reference": None,
           "by": case.reference,
           "outcome": outcome(result)}
    warnings = sorted({line[:100] for line in result["err"].splitlines() if line.startswith("warning: ")})
    if row["outcome"] == "ok":
        row["task"] = task_of(work / "run")
        if test is not None:
            row["layerwise"], problems = after_training(work, work / "run", test, case, row["task"], timeout)
            row["outcome"] = "; ".join(["ok", *problems])
        if baseline and case.reference and test is not None:
            read = pd.read_csv(work / "train.csv")  # as a user's pandas reads the same file
            try:
                row["reference"] = reference_score(read, pd.read_csv(work / "test.csv"), case)
            except Exception as exc:  # scikit-learn's own limits (an all-empty column breaks HGB's binning)
                row["outcome"] += f"; {case.reference} failed ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
    elif case.expect != "ok" and case.expect in row["outcome"]:
        row["outcome"] += "  [expected]"
    row["warnings"] = warnings
    return row


def table(rows: list[dict]) -> str:
    lines = ["| case | rows x cols | task chosen | seconds | peak MB | layerwise | scikit-learn | outcome |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        cells = [f"{r[k]:.4f}" if isinstance(r[k], float) and r[k] == r[k] else "-" for k in ("layerwise", "reference")]
        by = f" ({r['by']})" if cells[1] != "-" else ""
        lines.append(f"| {r['case']} | {r['shape']} | {r['task']} | {r['seconds']} | {r['peak_mb']} | "
                     f"{cells[0]} | {cells[1]}{by} | {r['outcome']} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", choices=list(CASES), help="these cases only (big ones included)")
    parser.add_argument("--big", action="store_true", help="also the big cases (200k/1M rows, 3,000 columns, 1,000 classes)")
    parser.add_argument("--threads", type=int, default=1, help="--threads for layerwise train (the machine is shared)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one command may take before it is a TIMEOUT")
    parser.add_argument("--set", action="append", default=[], dest="overrides", help="key=value passed to train (budget experiments)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the scikit-learn reference")
    parser.add_argument("--work", default="/tmp/table_shapes", help="scratch folder for the CSVs and runs")
    parser.add_argument("--results", help="append each row as a JSON line to this file")
    args = parser.parse_args(argv)
    names = args.cases or [n for n, c in CASES.items() if args.big or not c.big]
    rows = []
    for name in names:
        row = run_case(name, CASES[name], Path(args.work), args.threads, args.timeout, args.overrides,
                       not args.no_baseline)
        if args.overrides:
            row["case"] += " [" + ",".join(args.overrides) + "]"
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.results:
            with open(args.results, "a") as handle:
                handle.write(json.dumps(row) + "\n")
    print()
    print(table(rows))
    print(f"\n(--threads {args.threads}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: shared machine)")


if __name__ == "__main__":
    main()
