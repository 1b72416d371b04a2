"""Time to first result: `layerwise train --data builtin:iris --epochs 1` against a minimal PyTorch
script doing the same work (import torch, build the net, one epoch of Adam, print accuracy), and
`layerwise predict RUN --values ...` for one row.

    python -m benchmarks.startup --repeat 5

Each repetition runs the script and the command back to back in fresh processes, alternating
which goes first, so both see the same machine load; the table gives medians and minimums and the
ratio of the medians. The command pins every setting that decides the work (network, optimizer,
batch size, learning rate, splits, threads), so a change of defaults does not change what is timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HIDDEN, BATCH, LR = 64, 32, 1e-3  # layerwise's plain recipe for iris, pinned
TRAIN_FLAGS = ["--data", "builtin:iris", "--preset", "plain", "--epochs", "1", "--hidden", str(HIDDEN),
               "--optimizer", "adam", "--lr", str(LR), "--batch-size", str(BATCH),
               "--val-split", "0.2", "--test-split", "0.2", "--quiet", "--overwrite"]

# The same work by hand: read iris from scikit-learn's file (cheaply, as any script could), 64-unit
# ReLU net, one epoch of Adam in batches of 32 on the training rows, accuracy on the rest.
MINIMAL_SCRIPT = f"""
import csv, importlib.util, os
import numpy as np
import torch
from torch import nn
folder = os.path.join(importlib.util.find_spec("sklearn").submodule_search_locations[0], "datasets", "data")
rows = list(csv.reader(open(os.path.join(folder, "iris.csv"))))[1:]
X = torch.tensor(np.array([r[:-1] for r in rows], dtype=np.float32))
y = torch.tensor(np.array([r[-1] for r in rows], dtype=np.int64))
X = (X - X.mean(0)) / X.std(0)
torch.manual_seed(0)
order = torch.randperm(len(X))
train, test = order[:96], order[120:]
net = nn.Sequential(nn.Linear(4, {HIDDEN}), nn.ReLU(), nn.Linear({HIDDEN}, 3))
opt = torch.optim.Adam(net.parameters(), lr={LR})
loss_fn = nn.CrossEntropyLoss()
for i in range(0, len(train), {BATCH}):
    rows = train[i:i + {BATCH}]
    opt.zero_grad()
    loss_fn(net(X[rows]), y[rows]).backward()
    opt.step()
with torch.no_grad():
    print("accuracy", (net(X[test]).argmax(1) == y[test]).float().mean().item())
"""


def _seconds(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(repeat: int, scratch: Path) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    script = scratch / "minimal.py"
    script.write_text(MINIMAL_SCRIPT)
    run_dir = scratch / "iris-run"
    layerwise = [sys.executable, "-m", "layerwise", "train", *TRAIN_FLAGS, "--out", str(run_dir)]
    minimal = [sys.executable, str(script)]
    predict = [sys.executable, "-m", "layerwise", "predict", str(run_dir),
               "--values", "5.1,3.5,1.4,0.2"]
    _seconds(layerwise, env)  # warm-up: page cache and .pyc files for both
    _seconds(minimal, env)
    times: dict[str, list[float]] = {"minimal": [], "layerwise": [], "predict": []}
    for i in range(repeat):
        pair = [("minimal", minimal), ("layerwise", layerwise)]
        for name, command in pair if i % 2 == 0 else pair[::-1]:
            times[name].append(_seconds(command, env))
        times["predict"].append(_seconds(predict, env))
    return times


def table(times: dict[str, list[float]]) -> str:
    base = statistics.median(times["minimal"])
    labels = {"minimal": "minimal PyTorch script (same work)",
              "layerwise": "layerwise train --data builtin:iris --epochs 1",
              "predict": "layerwise predict RUN --values (one row)"}
    lines = ["| command | wall s (median) | wall s (min) | x minimal script | target |",
             "|---|---|---|---|---|"]
    targets = {"layerwise": ("<= 1.3x", statistics.median(times["layerwise"]) / base <= 1.3),
               "predict": ("<= 1.0 s", statistics.median(times["predict"]) <= 1.0)}
    for name, values in times.items():
        median = statistics.median(values)
        ratio = f"{median / base:.2f}" if name != "predict" else ""
        target = targets.get(name)
        mark = f"{target[0]}: {'met' if target[1] else 'NOT met'}" if target else ""
        lines.append(f"| {labels[name]} | {median:.2f} | {min(values):.2f} | {ratio} | {mark} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="alternating pairs to time")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        times = measure(args.repeat, Path(scratch))
    print(f"\n## startup: time to first result, {args.repeat} alternating repetitions, "
          f"load average {load_before:.2f} at start, {os.getloadavg()[0]:.2f} at end "
          f"({os.cpu_count()} CPUs)\n")
    print(table(times), flush=True)
    return times


if __name__ == "__main__":
    main()
