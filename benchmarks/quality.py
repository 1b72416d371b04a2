"""Model quality with default settings: layerwise (only data and target given) against what a
practitioner gets from scikit-learn (MLP with early stopping; HistGradientBoosting) and from
RealMLP-TD (pytabkit), on the same splits, several seeds.

    python -m benchmarks.quality                      # every table, 3 seeds -> stdout table
    python -m benchmarks.quality --tables wine penguins --seeds 0 --models layerwise hgb
    python -m benchmarks.quality --variant lr=0.001 --variant network.dropout=0 ...  # ablation
    python -m benchmarks.quality --write benchmarks/QUALITY.md

Scores: test accuracy (classification) or test R^2 (regression) on a stratified 20% hold-out
that no model sees; each model gets the other 80% and does its own validation split. Seconds
are wall time of fit (+ predict) on this machine, which is shared: read them as ratios.
Results are appended as JSON lines to --results so a long run can be resumed and re-reported.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .quality_data import TABLES, load_table

MODELS = ("layerwise", "sklearn_mlp", "hgb", "realmlp")


def split(X, y, task: str, seed: int):
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.2, random_state=seed,
                            stratify=y if task == "classification" else None)


def score(task: str, y_true, y_pred) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    if task == "classification":
        return float(accuracy_score(np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)))
    return float(r2_score(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)))


# ---- the models ------------------------------------------------------------------------------

def fit_layerwise(X_train, y_train, X_test, task, seed, overrides=()):
    """`layerwise train --data table.csv --target y`: the defaults, nothing else (plus --variant)."""
    import layerwise

    config = {"training": {"seed": seed}, "data": {"test_split": 0.0}}
    run = layerwise.fit(config, data=(X_train, y_train.to_numpy()), overrides=list(overrides))
    return run.predict(X_test)


def _columns(X):
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return [c for c in X.columns if c not in categorical], categorical


def fit_sklearn_mlp(X_train, y_train, X_test, task, seed):
    """The standard pipeline: impute + scale numbers, impute + one-hot categories; scaled targets."""
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = _columns(X_train)
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical)])
    if task == "classification":
        model = make_pipeline(prep, MLPClassifier(early_stopping=True, random_state=seed, max_iter=500))
    else:
        model = TransformedTargetRegressor(
            make_pipeline(prep, MLPRegressor(early_stopping=True, random_state=seed, max_iter=500)),
            transformer=StandardScaler())
    X_train, X_test = _as_text_categories(X_train, categorical), _as_text_categories(X_test, categorical)
    return model.fit(X_train, y_train).predict(X_test)


def _as_text_categories(X, categorical):
    X = X.copy()
    for c in categorical:
        X[c] = X[c].astype(object).where(X[c].notna(), np.nan)
    return X


def _as_category_dtype(X_train, X_test):
    _, categorical = _columns(X_train)
    X_train, X_test = X_train.copy(), X_test.copy()
    for c in categorical:
        levels = sorted(X_train[c].dropna().astype(str).unique())
        X_train[c] = pd.Categorical(X_train[c].astype(object).where(X_train[c].notna()).map(
            lambda v: v if pd.isna(v) else str(v)), categories=levels)
        X_test[c] = pd.Categorical(X_test[c].astype(object).where(X_test[c].notna()).map(
            lambda v: v if pd.isna(v) else str(v)), categories=levels)
    return X_train, X_test


def fit_hgb(X_train, y_train, X_test, task, seed):
    """HistGradientBoosting with native categorical support (categories as pandas categoricals)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    X_train, X_test = _as_category_dtype(X_train, X_test)
    for c in X_train.columns:  # HGB refuses > 255 categories (max_bins): those go in as ordinal codes
        if isinstance(X_train[c].dtype, pd.CategoricalDtype) and len(X_train[c].cat.categories) > 255:
            X_train[c], X_test[c] = (X[c].cat.codes.replace(-1, np.nan).astype(float) for X in (X_train, X_test))
    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    return cls(categorical_features="from_dtype", random_state=seed).fit(X_train, y_train).predict(X_test)


def fit_realmlp(X_train, y_train, X_test, task, seed):
    """RealMLP-TD from pytabkit with its defaults (CPU)."""
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    X_train, X_test = _as_category_dtype(X_train, X_test)
    numeric, _ = _columns(X_train)  # pytabkit refuses NaN in numeric columns: impute the train median
    medians = X_train[numeric].median()
    X_train, X_test = X_train.fillna(medians), X_test.fillna(medians)
    cls = RealMLP_TD_Classifier if task == "classification" else RealMLP_TD_Regressor
    model = cls(random_state=seed, device="cpu", n_threads=torch_threads(), verbosity=0)
    return model.fit(X_train, y_train).predict(X_test)


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


FITTERS = {"layerwise": fit_layerwise, "sklearn_mlp": fit_sklearn_mlp, "hgb": fit_hgb, "realmlp": fit_realmlp}


# ---- running and reporting ---------------------------------------------------------------------

def run_one(model: str, table: str, seed: int, max_rows: int, variant=()) -> dict:
    X, y, task = load_table(table, max_rows)
    X_train, X_test, y_train, y_test = split(X, y, task, seed)
    started = time.perf_counter()
    if model == "layerwise":
        predicted = fit_layerwise(X_train, y_train, X_test, task, seed, variant)
    else:
        predicted = FITTERS[model](X_train, y_train, X_test, task, seed)
    seconds = time.perf_counter() - started
    return {"model": model + ("[" + ",".join(variant) + "]" if variant else ""), "table": table, "seed": seed,
            "task": task, "rows": len(X), "score": score(task, y_test, predicted), "seconds": round(seconds, 2)}


def report(rows: list[dict]) -> str:
    """Markdown: mean score per (table, model) over seeds, seconds per fit, and the summary lines.
    A (model, table, seed) measured again counts once, by its latest row (the file keeps history)."""
    frame = pd.DataFrame(rows).drop_duplicates(["model", "table", "seed"], keep="last")
    models = list(dict.fromkeys(frame["model"]))
    tables = list(dict.fromkeys(frame["table"]))
    mean = frame.groupby(["table", "model"])["score"].mean().unstack()
    seconds = frame.groupby(["table", "model"])["seconds"].mean().unstack()
    seeds = frame.groupby(["table", "model"])["seed"].nunique().unstack()
    lines = ["| table | rows | metric | " + " | ".join(models) + " |",
             "|---|---:|---|" + "---:|" * len(models)]
    for table in tables:
        task = frame.loc[frame["table"] == table, "task"].iloc[0]
        cells = [f"{mean.loc[table, m]:.4f} ({seconds.loc[table, m]:.1f}s)" if m in mean and pd.notna(mean.loc[table, m])
                 else "-" for m in models]
        rows_used = int(frame.loc[frame["table"] == table, "rows"].iloc[0])
        lines.append(f"| {table} | {rows_used:,} | {'accuracy' if task == 'classification' else 'R²'} | " + " | ".join(cells) + " |")
    reference = models[0]  # each model's mean against the first model's on the same tables
    cells = []
    for m in models:
        both = mean[list(dict.fromkeys([reference, m]))].dropna()
        cells.append(f"**{both[m].mean():.4f}** vs {both[reference].mean():.4f} ({len(both)} tables)" if len(both) else "-")
    lines.append(f"| **mean** (vs {reference} on the tables both finished) | | | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Seeds per cell: {int(seeds.min().min())}-{int(seeds.max().max())}; score = mean over seeds; "
                 "(s) = mean seconds per fit+predict on the shared 2-core CPU.")
    return "\n".join(lines)


def ablation(rows: list[dict]) -> str:
    """Markdown: for each layerwise variant (one recipe ingredient switched back), its mean score
    change against the full default on the (table, seed) pairs both ran."""
    frame = pd.DataFrame(rows).drop_duplicates(["model", "table", "seed"], keep="last")
    frame = frame[frame["model"].str.startswith("layerwise")]
    full = frame[frame["model"] == "layerwise"].set_index(["table", "seed"])["score"]
    lines = ["| variant (ingredient switched off) | tables | mean score change vs default | per table |",
             "|---|---:|---:|---|"]
    for variant, group in frame[frame["model"] != "layerwise"].groupby("model", sort=False):
        group = group.set_index(["table", "seed"])["score"]
        common = group.index.intersection(full.index)
        if not len(common):
            continue
        delta = group[common] - full[common]
        per_table = ", ".join(f"{t} {d:+.3f}" for (t, _), d in delta.items())
        lines.append(f"| {variant.removeprefix('layerwise')} | {len(common)} | {delta.mean():+.4f} | {per_table} |")
    return "\n".join(lines)


def time_default_10k(out_dir: str = "/tmp") -> tuple[float, float]:
    """Seconds for `layerwise train --data t.csv --target y` (all defaults) on a synthetic
    10,000-row, 20-column table (binary target), as a new user would run it: CLI start included."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 20))
    y = (X[:, :5].sum(axis=1) + np.sin(3 * X[:, 5]) + rng.normal(size=10_000) > 0).astype(int)
    path = Path(out_dir) / "lw_10k_x_20.csv"
    pd.DataFrame(X, columns=[f"x{j}" for j in range(20)]).assign(y=y).to_csv(path, index=False)
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "layerwise", "train", "--data", str(path), "--target", "y",
                    "--out", str(Path(out_dir) / "lw_10k_run"), "--overwrite", "--quiet"], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--max-rows", type=int, default=8000, help="subsample bigger tables (bounds the run's time)")
    parser.add_argument("--variant", action="append", default=[], help="layerwise override key=value (ablation)")
    parser.add_argument("--results", default="benchmarks/quality_results.jsonl")
    parser.add_argument("--write", help="also write the markdown table to this file")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (2 spin against each other on a busy 2-core box)")
    parser.add_argument("--time-10k", action="store_true", help="only time default training on 10,000 x 20")
    args = parser.parse_args(argv)
    if args.time_10k:
        import os

        wall, cpu = time_default_10k()
        print(f"default training, 10,000 x 20 table: {wall:.1f} s wall, {cpu:.1f} s of CPU time "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        return
    import torch

    torch.set_num_threads(args.threads)
    path = Path(args.results)
    for seed in args.seeds:
        for table in args.tables:
            for model in args.models:
                row = run_one(model, table, seed, args.max_rows, tuple(args.variant) if model == "layerwise" else ())
                print(json.dumps(row), flush=True)
                with path.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["table"] in args.tables]
    # a cell measured again (a resumed or repeated run) counts once: its latest measurement
    rows = list({(r["model"], r["table"], r["seed"]): r for r in rows}.values())
    plain_rows = [r for r in rows if not r["model"].startswith("layerwise[")]
    text = report(plain_rows) if plain_rows else "(no rows without --variant: nothing to tabulate)"
    if any(r["model"].startswith("layerwise[") for r in rows):
        text += "\n\n" + ablation(rows)
    print(text)
    if args.write:
        Path(args.write).write_text(text + "\n")


if __name__ == "__main__":
    main()
