"""The recipe's ablation: how each change to `preset: auto` moved the score, from the rows of
benchmarks/quality_ablation.jsonl (quality.py rows for layerwise, each labelled with the recipe
version that produced it in a "recipe" field; 22 tables x seeds 0-2 unless a row says otherwise).

    python -m benchmarks.quality_ablation            # the markdown table in benchmarks/QUALITY.md

Each line compares two recipe versions on the (table, seed) pairs both ran: the mean change in
test accuracy / R^2, and the tables that moved most. Versions that are config settings can be
re-measured with `python -m benchmarks.quality --models layerwise --variant key=value`; the
step budget and the embedding's lr_scale were code changes (see the git log of recipe.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

# (version, measured against, what changed)
STEPS = [
    ("+embedding(numeric,lr_scale .1),2k steps", "recipe@session-start", "+ periodic embeddings of the numeric columns"),
    ("+4k steps (lr_scale .1)", "+embedding(numeric,lr_scale .1),2k steps", "+ a 4,000-step budget, up to 256 epochs (was 2,000, 200)"),
    ("final", "+4k steps (lr_scale .1)", "+ embeddings learn at the network's rate (lr_scale 1, was 0.1)"),
    ("bagging per member+clamp", "final", "+ a bagged ensemble on small tables (3 members up to 4,000 training rows, 2 "
     "up to 6,000; each member its own validation rows and best epoch) and regression predictions clamped to the "
     "training range (the default until the next line)"),
    ("clip 30", "bagging per member+clamp", "+ smooth clipping bounded at 30 instead of RealMLP's 3, x / sqrt(1 + (x/30)^2)"),
    ("5 members", "clip 30", "+ 5 bagged members instead of 3 on tables under 2,400 training rows (the 13 tables it "
     "changes): **the default**"),
    ("5 members", "test split 0.2", "+ no test split held out of a table under preset auto (`layerwise train` held "
     "20% out before, so its model learned from 64% of the rows, not 80%; the benchmark's API runs always used 80%), "
     "13 tables under 3,000 rows"),
    ("no smooth clip", "bagging per member+clamp", "not kept: no smooth clipping at all (the same gains; a bound of 30 also "
     "holds sentinel values and typos near 30)"),
    ("front scale lr x6", "bagging per member+clamp", "not kept: RealMLP's learnable per-input front scale (learning at 6x "
     "the rate), seed 0"),
    ("dropout flat_cos", "bagging per member+clamp", "not kept: RealMLP's flat-then-cosine dropout schedule, seed 0 (early "
     "stopping ends most runs before the schedule moves; mnist1d -1.2)"),
    ("bagging+clamp", "final", "not kept: the same, but one best epoch for all members, chosen on the out-of-fold "
     "prediction (the same mean; kept the per-member choice, which is what each member would pick trained alone)"),
    ("bag x2 sequential", "final", "experiment: 2 bagged members, each its own early stopping (tables done before it was stopped)"),
    ("bag x3 sequential", "final", "experiment: 3 bagged members, each its own early stopping (same pairs)"),
    ("clamp only", "final", "clamped regression predictions alone (one network; the 10 regression tables)"),
    ("final - embedding", "final", "the default without the embeddings (`network.embedding=none`)"),
    ("2k steps, embed all columns, lr_scale 1", "+embedding(numeric,lr_scale .1),2k steps", "not kept: embed every column, one-hot too, lr_scale 1 (3-4x slower on wide tables)"),
    ("2k steps+emb, label_smoothing 0", "+embedding(numeric,lr_scale .1),2k steps", "not kept: label smoothing 0 (instead of 0.1)"),
    ("2k steps+emb, mish", "+embedding(numeric,lr_scale .1),2k steps", "not kept: Mish activation (instead of ReLU)"),
    ("2k steps+emb, batch 64", "+embedding(numeric,lr_scale .1),2k steps", "not kept: batch 64 (instead of 256), 10 smallest tables"),
    ("2k steps+emb, selu", "+embedding(numeric,lr_scale .1),2k steps", "not kept: SELU activation (mnist1d, cps1988)"),
    ("2k steps+emb, lr .004", "+embedding(numeric,lr_scale .1),2k steps", "not kept: lr 0.004 (mnist1d, cps1988)"),
    ("2k steps+emb, 300 epochs", "+embedding(numeric,lr_scale .1),2k steps", "not kept: 300 epochs (mnist1d, cps1988)"),
]


def scores(frame: pd.DataFrame, recipe: str) -> pd.Series:
    part = frame[frame["recipe"] == recipe].drop_duplicates(["table", "seed"], keep="last")
    return part.set_index(["table", "seed"])["score"]


def table(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)
    lines = ["| change | (table, seed) pairs | mean score change | tables that moved most |",
             "|---|---:|---:|---|"]
    for version, base, what in STEPS:
        new, old = scores(frame, version), scores(frame, base)
        common = new.index.intersection(old.index)
        if not len(common):
            continue
        change = new[common] - old[common]
        per_table = change.groupby(level=0).mean().sort_values()
        ends = dict(list(per_table.items())[:3] + list(per_table.items())[-3:])
        moved = ", ".join(f"{t} {v:+.3f}" for t, v in sorted(ends.items(), key=lambda kv: kv[1]) if abs(v) >= 0.003)
        lines.append(f"| {what} | {len(common)} | {change.mean():+.4f} | {moved} |")
    return "\n".join(lines)


def main() -> None:
    path = Path(__file__).with_name("quality_ablation.jsonl")
    print(table([json.loads(line) for line in path.read_text().splitlines() if line.strip()]))


if __name__ == "__main__":
    main()
