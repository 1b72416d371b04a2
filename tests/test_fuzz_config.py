"""Fuzzed configs (YAML files and --set overrides) for train, and fuzzed network files and inputs
for explain: unknown keys, wrong types, negative or zero sizes, NaN/inf/huge numbers, broken YAML
and non-UTF-8 bytes. Same promises: exit 0 or one line with exit 2, no traceback, no hang, nothing
written outside the run directory.

Sizes stay small on purpose (hidden <= 64, epochs <= 2): the absurd sizes that cannot be
allocated are tested once each, under a memory limit, in test_core_errors.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import alias_bomb, assert_user_error, examples, fuzz_cli, fuzz_limited, run_cli
from layerwise.activations import ACTIVATIONS
from layerwise.safe_yaml import MAX_NODES

NAN, INF = float("nan"), float("inf")
ODD = st.sampled_from([None, True, "", "x", [], {}, -1, 0, 2 ** 70, NAN, INF, -INF, 1e300, "1", [1, "a"]])


def pick(good: list, bad: list = (), odd: bool = True) -> st.SearchStrategy:
    """A good value 85% of the time, else a bad one (or, with `odd`, a value of an odd type): most
    configs hold one mistake or none, so both the error paths and the full training path run."""
    wrong = st.sampled_from(list(bad)) if bad else ODD
    wrong = st.one_of(wrong, ODD) if bad and odd else wrong
    return st.integers(0, 19).flatmap(lambda k: wrong if k < 3 else st.sampled_from(list(good)))


TYPO_NAMES = ["", "RELU", "swish", "none", "adam ", 3]
HIDDEN = pick([[], [3], [8, 4], [16]], [[0], [-2], [2.5], ["3"], [None], 3])

DATA = st.fixed_dictionaries({"source": pick(["builtin:iris", "builtin:iris", "builtin:sum3", "builtin:breast_cancer"],
                                             ["builtin:nope", "", "nope.csv", "mnist:", 3, ["builtin:iris"]])},
                             optional={
    "target": pick([None], ["y", [], ["a", "b"], 5]),
    "val_split": pick([0.0, 0.2, 0.5], [0.99, 1.0, -0.1]), "test_split": pick([0.0, 0.2], [0.9, 1.0]),
    "standardize": pick([True, False]), "val": pick([None, "builtin:iris"], ["builtin:sum3", "nope.csv"]),
    "test": pick([None, "builtin:iris"], ["builtin:wine"]),
})
NETWORK = st.fixed_dictionaries({}, optional={
    "hidden": HIDDEN, "activation": pick(list(ACTIVATIONS), TYPO_NAMES + [["relu", "tanh", "relu", "elu"]]),
    "output_activation": pick(list(ACTIVATIONS), TYPO_NAMES), "dropout": pick([0.0, 0.5], [0.99, 1.0, -0.1]),
    "batch_norm": pick([True, False]), "init": pick(["default", "xavier", "kaiming"], TYPO_NAMES),
    "input_size": pick([None, 4], [3, 30]), "output_size": pick([None, 3], [1, 2]), "bias": pick([True, False]),
    "weights": pick([None], [[], [[[1.0, 2.0, 3.0, 4.0]]], [[[NAN] * 4] * 3], [[["a"]]], [[[]]], 7]),
    "biases": pick([None], [[[0.0]], [[1.0, 2.0, 3.0]], "b"]), "flatten": pick([None, False], [True]),
})
TRAINING = st.fixed_dictionaries({"epochs": pick([1, 1, 2], [0, -1, 1.5, "2"])}, optional={
    "batch_size": pick([0, 8, 32], [-1, 2.5, 10 ** 12, 1]), "optimizer": pick(["sgd", "adam", "adamw", "rmsprop"], TYPO_NAMES),
    "lr": pick([1e-3, 0.1], [0.0, -1.0, 1e300, 1e-300, 10.0]), "momentum": pick([0.0, 0.9], [-1.0, 2.0]),
    "nesterov": pick([False], [True]), "weight_decay": pick([0.0, 1e-4], [-1.0, 1e300]),
    "schedule": pick(["none", "step", "cosine", "onecycle", "plateau"], TYPO_NAMES), "step_size": pick([1, 5], [0, -1]),
    "gamma": pick([0.1, 0.5], [0.0, -1.0, 10.0]), "grad_clip": pick([None, 1.0], [0.0, -1.0]),
    "class_weights": pick([None, "balanced"], ["balance", [1, 2, 3], [1.0], {"setosa": 2.0}, {"x": -1},
                                                [NAN, 1, 1], [0, 0, 0], [-1, 1, 1]]),
    "early_stopping": pick([True, False, 3, {"patience": 1, "monitor": "val_accuracy"}],
                           [0, -2, {"monitor": "nope"}, {"patience": -1}, {"min_delta": NAN}, "yes"]),
    "shuffle": pick([True, False]), "seed": pick([0, 1, 2 ** 32 - 1], [2 ** 32, -1]),
    "device": pick(["auto", "cpu"], ["cuda", "mps", *TYPO_NAMES]), "checkpoint_every": pick([0, 3], [-1]),
    "on_nan": pick(["stop", "skip-batch"], TYPO_NAMES),
})
CONFIG = st.fixed_dictionaries({"data": DATA, "training": TRAINING}, optional={
    "network": pick([{}], [5, "x"]).flatmap(lambda v: NETWORK if v == {} else st.just(v)),
    "task": pick(["auto", "multiclass", "binary", "regression"], TYPO_NAMES),
    "loss": pick(["auto", "cross_entropy", "bce", "mse", "l1", "huber"], TYPO_NAMES),
    "name": st.sampled_from(["x", "../escape", "/abs", "a/b", ""]),
    "extra": pick([None], [{"trainig": {"epochs": 1}}, {"extra": 1}], odd=False),
}).map(lambda c: {**{k: v for k, v in c.items() if k != "extra"}, **(c.get("extra") or {})})
GARBAGE_BYTES = ([b"", b"\n", b"data: [", b"- 1\n- 2\n", b"\xff\xfe\x00d\x00", b"data: {source: builtin:iris}\n\tx: 1",
                           b"a: &a [*a]", b"!!python/object/apply:os.system ['echo hi']", b"data: !!binary AAAA",
                           b"{" * 2000 + b"}" * 2000, b"training: {epochs: 1e999}", b"data:\n  source: builtin:iris\n  source: x\n",
                           b"network: {hidden: [1, 2]}\ntraining: {epochs: 1}\n---\nsecond: doc\n"])
GARBAGE = st.sampled_from(GARBAGE_BYTES)


def flatten(config: dict, prefix: str = "") -> list[str]:
    """--set key=value for every leaf (dicts recurse; lists and scalars are one value)."""
    out = []
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out += flatten(value, f"{prefix}{key}.")
        else:
            out += ["--set", f"{prefix}{key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"]
    return out


@settings(max_examples=examples(60))
@given(config=CONFIG, how=st.sampled_from(["file", "file", "set", "garbage"]), garbage=GARBAGE)
def test_fuzzed_configs_for_train(config: dict, how: str, garbage: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if how == "file":
            (work / "c.yaml").write_text(yaml.safe_dump(config))
            args = ["train", "c.yaml"]
        elif how == "garbage":
            (work / "c.yaml").write_bytes(garbage)
            args = ["train", "c.yaml"]
        else:
            args = ["train", *flatten(config)]
        fuzz_cli("config", [*args, "--out", "run", "-q"], work)


# ---- explain -----------------------------------------------------------------------------------

# Every garbage file, including the non-UTF-8 and deeply nested ones that once broke explain.
EXPLAIN_GARBAGE = list(GARBAGE_BYTES)

GOOD_LAYERS = [[2, 3, 1], [3, 4, 2], [1, 1], [4, 2, 3, 1]]


@st.composite
def network_files(draw):
    """Textbook network files: mostly right (weights of the right shapes or a seeded init), with
    one mistake now and then: bad widths, shapes, activations, values and keys."""
    layers = draw(pick(GOOD_LAYERS, [[2, 0, 1], [-1, 2], [2, 40, 1], [2], [], [2, "3", 1], [2.5, 1], "2,3,1"]))
    net = {"layers": layers, "activation": draw(pick(list(ACTIVATIONS), TYPO_NAMES + [["relu"]]))}
    sizes = layers if isinstance(layers, list) and layers and all(type(v) is int and v > 0 for v in layers) else [2, 1]
    value = st.one_of(st.floats(-3, 3), pick([0.5], [NAN, INF, 1e308, "w"]))
    kind = draw(st.sampled_from(["seed", "weights", "weights", "weights", "bad_weights"]))
    if kind == "seed":
        net["seed"] = draw(st.sampled_from([0, 1, 7, -1, 1.5, "a"]))  # bad seeds: one-line errors
    elif kind == "weights":
        net["weights"] = [[[draw(value) for _ in range(n_in)] for _ in range(n_out)] for n_in, n_out in zip(sizes, sizes[1:])]
        if draw(st.booleans()):
            net["bias"] = True
            net["biases"] = [[draw(value) for _ in range(n)] for n in sizes[1:]]
    else:
        net["weights"] = draw(st.lists(st.lists(st.lists(value, max_size=3), max_size=3), max_size=3))
    for key, strategy, one_in in (("output_activation", pick(list(ACTIVATIONS), ["softmax", 3]), 5),
                                  ("bias", pick([True, False]), 5), ("wieghts", st.just([]), 20)):
        if draw(st.integers(1, one_in)) == 1:
            net[key] = draw(strategy)
    good_input = ",".join(str(draw(st.floats(-5, 5))) for _ in range(sizes[0]))
    return net, draw(pick([good_input], ["", "x", "1,2,3,4,5", "nan," * (sizes[0] - 1) + "nan", "1e400"], odd=False))


@settings(max_examples=examples(60))
@given(case=network_files(), garbage=pick([None], EXPLAIN_GARBAGE, odd=False),
       target=st.one_of(st.none(), pick(["0", "1", "0.5"], ["7", "x", "1,2,3", "nan", "setosa"], odd=False)),
       options=st.lists(pick([["--format", "json"], ["--format", "markdown"], ["--decimals", "2"], ["--lr", "0.5"]],
                             [["--loss", "ce"], ["--loss", "bce"], ["--loss", "hinge"], ["--lr", "nan"], ["--lr", "-1"],
                              ["--lr", "1e308"], ["--decimals", "-3"], ["--decimals", "400"], ["--max-neurons", "0"],
                              ["--input-row", "3"], ["--data", "builtin:iris"], ["--data", "nope.csv"]], odd=False),
                     max_size=2))
def test_fuzzed_network_files_for_explain(case, garbage, target, options) -> None:
    net, values = case
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if garbage is None:
            (work / "net.yaml").write_text(yaml.safe_dump(net))
        else:
            (work / "net.yaml").write_bytes(garbage)
        args = ["explain", "net.yaml", "--input", values]
        if target is not None:
            args += ["--target", target]
        fuzz_cli("net-file", [*args, *(flag for option in options for flag in option)], work)


RUN_VALUES = pick(["10,50,red", "7.5,45,blue", "12,48,purple", "1e3,-2,green"],
                  ["", "x", "1,2", "10,,red", "nan,1,red", "1e400,1,red", "1,2,3,4"], odd=False)


@settings(max_examples=examples(25))
@given(values=RUN_VALUES, target=st.one_of(st.none(), pick(["ripe", "raw"], ["0", "2", "x", "1,2"], odd=False)),
       row=st.one_of(st.none(), st.none(), st.integers(-2, 500)))
def test_fuzzed_inputs_for_explain_on_a_run(table_run, table_csv, values: str, target, row) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["explain", table_run.dir] + (["--input", values] if row is None else
                                             ["--input-row", str(row), "--data", table_csv])
        if target is not None:
            args += ["--target", target]
        fuzz_cli("run-explain", args, Path(tmp), run_dir=table_run.dir)


# ---- explain bugs the fuzz found, now fixed: kept as regression tests ---------------------------

@pytest.mark.parametrize("content", [b"\xff\xfe\x00d\x00", b"{" * 2000 + b"}" * 2000], ids=["not-utf8", "deep"])
def test_explain_unreadable_network_file_is_one_line(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "net.yaml").write_bytes(content)
    assert_user_error(run_cli(["explain", "net.yaml", "--input", "1,2"], cwd=tmp_path), "net.yaml")


@pytest.mark.parametrize("seed", ["-1", "[1, a]", "1.5"])
def test_explain_bad_seed_is_one_line(tmp_path: Path, seed: str) -> None:
    (tmp_path / "net.yaml").write_text(f"layers: [2, 3, 1]\nactivation: relu\nseed: {seed}\n")
    assert_user_error(run_cli(["explain", "net.yaml", "--input", "1,2", "--target", "0"], cwd=tmp_path), "seed")


def test_explain_input_row_of_the_training_table(table_run, table_csv) -> None:
    result = run_cli(["explain", table_run.dir, "--input-row", "3", "--data", table_csv])
    assert result.code == 0, result.err


def test_explain_refuses_a_huge_network_before_allocating_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "net.yaml").write_text("layers: [100000, 100000, 1]\nactivation: relu\n")
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))"
    done = subprocess.run([sys.executable, "-c", f"{limit}\nfrom layerwise.cli.main import main\n"
                           "main(['explain', 'net.yaml', '--input', '1', '--target', '0'])"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-500:]


# ---- hostile configs: bombs, deep nesting, non-finite numbers, huge lists (issue 15) -------------
# Each case runs as a real process held to 10 s and 1 GiB of heap (helpers.fuzz_limited), so a
# hang or a blow-up is a counted timeout or a failed case, not a stuck test run.

NUMERIC_KEYS = ["training.lr", "training.momentum", "training.weight_decay", "training.gamma", "training.grad_clip",
                "training.early_stopping.min_delta", "data.val_split", "network.dropout", "data.max_bytes",
                "training.epochs", "training.batch_size", "training.seed"]
NON_FINITE = [".nan", ".inf", "-.inf", "1.0e+400", "-1.0e+400", ".NaN", "-.Inf"]
PLACES = ["resolved: {rows: %s}", "training: {epochs: 1, class_weights: %s}", "network: {hidden: %s}",
          "name: %s", "data: {source: 'builtin:iris', target: %s}"]


@st.composite
def hostile_configs(draw) -> tuple[str, list[str]]:
    """(YAML text, extra CLI args): one hostile element in an otherwise fine iris config."""
    kind = draw(st.sampled_from(["alias", "deep", "number", "list", "set-alias"]))
    base = "data: {source: 'builtin:iris'}\n"
    if kind in ("alias", "set-alias"):
        levels, fanout = draw(st.integers(2, 9)), draw(st.integers(4, 12))
        anchors, bomb = alias_bomb(levels, fanout)
        if kind == "set-alias":  # the same anchors inline, in one --set value
            inline = anchors.strip().replace("\n", ", ")
            return base, ["--set", f"training.class_weights=[{{{inline}}}, {bomb}]"]
        # Anchors live under `resolved:` (accepted and ignored); a bomb small enough to build goes
        # where its shape is wrong, so every case must be refused.
        places = PLACES if fanout ** (levels + 1) > MAX_NODES else PLACES[1:]
        nested = "resolved:\n" + "".join(f"  {line}\n" for line in anchors.strip().splitlines())
        place = draw(st.sampled_from(places))
        if place.startswith("resolved:"):
            return nested + f"  rows: {bomb}\n" + base, []
        return nested + base + place % bomb + "\n", []
    if kind == "deep":
        depth = draw(st.sampled_from([60, 70, 500, 20000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        return base + f"network: {{hidden: {opener * depth}1{closer * depth}}}\n", []
    if kind == "number":
        key = draw(st.sampled_from(NUMERIC_KEYS))
        value = draw(st.sampled_from(NON_FINITE + ["1" + "0" * 5000]))  # also an int past int()'s 4300 digits
        return base, ["--set", f"{key}={value}"]
    length = draw(st.sampled_from([1_001, 20_000, MAX_NODES + 1]))
    where = draw(st.sampled_from(["network: {hidden: [%s]}", "training: {class_weights: [%s]}",
                                  "network: {activation: [%s]}"]))
    item = {"hidden": "2", "class_weights": "1.0", "activation": "relu"}[where.split(": ")[1].strip("{[")]
    return base + where % ", ".join([item] * length) + "\n", []


@settings(max_examples=examples(10))
@given(case=hostile_configs())
def test_hostile_configs_are_refused_within_bounds(case) -> None:
    text, extra = case
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "c.yaml").write_text(text)
        result = fuzz_limited("hostile", ["train", "c.yaml", *extra, "--epochs", "1", "--out", "run", "-q"], Path(tmp))
        assert result.code == 2, f"a hostile config was accepted: {text[:300]!r} {extra}"
