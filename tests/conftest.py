"""Shared fixtures (runs trained once per worker) and the fuzz-outcome summary.

The fuzz suites count every case they try (tests/helpers.py: record_fuzz). Under pytest-xdist
each worker sends its counts to the controller (workeroutput), which prints one table at the end.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from helpers import FUZZ_OUTCOMES, mixed_table

# One torch/OpenMP thread per process. `make test` runs two xdist workers on two cores; with
# torch's default of one thread per core each, the threads spin against each other: training
# iris for 40 epochs took 3.8-25 s with 2 threads and 1.3 s with 1 on the 2-core CI box.
# Set before torch is imported (here, at collection), and inherited by CLI subprocesses.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# Configs that name no preset train as `preset: plain` here: the suite's many small runs keep their
# tiny, fast settings (auto would pick a layer of 256, embeddings and up to 256 epochs). tests/test_preset.py
# and the benchmark exercise `preset: auto` by naming it.
os.environ.setdefault("LAYERWISE_PRESET", "plain")

# Fixed example counts: CI runs the same cases every time (derandomize) in bounded time.
# HYPOTHESIS_PROFILE=explore LAYERWISE_FUZZ_SCALE=10 tries ten times as many fresh random cases.
# No shrinking in CI: a failing case is printed as found, in seconds, instead of minutes of
# shrinking (the explore profile shrinks).
settings.register_profile(
    "ci", deadline=None, derandomize=True, database=None, print_blob=True,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
settings.register_profile("explore", parent=settings.get_profile("ci"), derandomize=False,
                          phases=tuple(Phase))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ---- trained runs shared by many tests -----------------------------------------------------------

@pytest.fixture(scope="session")
def iris_run(tmp_path_factory):
    """A multiclass run with string class labels (setosa, versicolor, virginica)."""
    import layerwise

    out = tmp_path_factory.mktemp("runs") / "iris"
    return layerwise.train({"data": {"source": "builtin:iris"}, "network": {"hidden": [16]},
                            "training": {"epochs": 40, "lr": 0.01, "seed": 0}}, out=out, quiet=True)


@pytest.fixture(scope="session")
def table_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "fruit.csv"
    mixed_table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def table_run(tmp_path_factory, table_csv):
    """A binary run on a CSV with a categorical column, gaps, and string labels raw/ripe."""
    import layerwise

    out = tmp_path_factory.mktemp("runs") / "fruit"
    return layerwise.train({"data": {"source": str(table_csv), "target": "label"},
                            "network": {"hidden": [16]},
                            "training": {"epochs": 40, "lr": 0.01, "seed": 0}}, out=out, quiet=True)


@pytest.fixture(scope="session")
def regression_run(tmp_path_factory):
    import layerwise

    out = tmp_path_factory.mktemp("runs") / "diabetes"
    return layerwise.train({"data": {"source": "builtin:diabetes"}, "network": {"hidden": [16]},
                            "training": {"epochs": 30, "lr": 0.01, "seed": 0}}, out=out, quiet=True)


# ---- fuzz summary ------------------------------------------------------------------------------

_MERGED: collections.Counter = collections.Counter()


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand the counts over
        session.config.workeroutput["fuzz_outcomes"] = json.dumps(
            [[*key, count] for key, count in FUZZ_OUTCOMES.items()])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for suite, command, code, count in json.loads(getattr(node, "workeroutput", {}).get("fuzz_outcomes", "[]")):
        _MERGED[(suite, command, code)] += count


def pytest_terminal_summary(terminalreporter):
    counts = _MERGED + FUZZ_OUTCOMES
    if not counts:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fuzz cases (exit 0 = accepted, exit 2 = one-line user error)")
    # "timeout": a bounded case (helpers.fuzz_limited) that gave no answer within its time limit.
    write(f"{'suite':<12} {'command':<10} {'exit 0':>7} {'exit 2':>7} {'other':>6} {'timeout':>8}")
    for suite, command in sorted({(s, c) for s, c, _ in counts}):
        ok, bad, hung = (counts[(suite, command, code)] for code in (0, 2, "timeout"))
        other = sum(n for (s, c, code), n in counts.items() if (s, c) == (suite, command) and code not in (0, 2, "timeout"))
        write(f"{suite:<12} {command:<10} {ok:>7} {bad:>7} {other:>6} {hung:>8}")
    total = {code: sum(n for (_, _, c), n in counts.items() if c == code) for code in (0, 2, "timeout")}
    other = sum(counts.values()) - sum(total.values())
    write(f"{'total':<23} {total[0]:>7} {total[2]:>7} {other:>6} {total['timeout']:>8}")
