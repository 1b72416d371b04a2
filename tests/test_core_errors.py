"""Every user mistake: one line naming what and where and what was expected, exit 2, no traceback,
no run directory that looks complete, and nothing written besides."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import CliResult, assert_not_complete, assert_user_error, files_under, run_cli, run_subprocess
from layerwise.errors import LayerwiseWarning

GOOD = "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n2,1,0\n4,3,1\n6,5,0\n8,7,1\n"

# name -> (files to create {name: text|bytes}, train arguments, fragments the error line must hold)
TRAIN_CASES = {
    "missing file": ({}, ["--data", "nope.csv", "--target", "y"], ["nope.csv", "not found"]),
    "unknown source kind": ({}, ["--data", "foo:bar"], ["unknown data source 'foo:bar'", "builtin:NAME"]),
    "unknown file type": ({"d.xlsx": GOOD}, ["--data", "d.xlsx"], ["d.xlsx", ".csv/.tsv/.parquet"]),
    "unknown builtin": ({}, ["--data", "builtin:mnist"], ["unknown built-in dataset 'mnist'", "iris"]),
    "missing mnist dir": ({}, ["--data", "mnist:nowhere"], ["nowhere", "directory not found"]),
    "mnist dir without files": ({"m/readme.txt": "x"}, ["--data", "mnist:m"], ["train-images-idx3-ubyte", "missing"]),
    "no data at all": ({}, [], ["no data", "--data"]),
    "no target named": ({"d.csv": GOOD}, ["--data", "d.csv"], ["d.csv", "--target"]),
    "target column absent": ({"d.csv": GOOD}, ["--data", "d.csv", "--target", "label"],
                             ["d.csv", "target column 'label' not found", "a, b, y"]),
    "empty file": ({"d.csv": ""}, ["--data", "d.csv", "--target", "y"], ["d.csv", "empty"]),
    "header only": ({"d.csv": "a,b,y\n"}, ["--data", "d.csv", "--target", "y"], ["d.csv", "no data rows"]),
    "not text": ({"d.csv": b"a,b,y\n1,\x00\xff\xfe,0\n"}, ["--data", "d.csv", "--target", "y"], ["d.csv", "UTF-8"]),
    "duplicate columns": ({"d.csv": "a,a,y\n1,2,0\n3,4,1\n"}, ["--data", "d.csv", "--target", "y"],
                          ["d.csv", "duplicate column", "a"]),
    "ragged rows": ({"d.csv": "a,b,y\n1,2,0\n3,4,1,9\n"}, ["--data", "d.csv", "--target", "y"],
                    ["d.csv", "line 3"]),
    "single class": ({"d.csv": GOOD.replace(",1\n", ",0\n")}, ["--data", "d.csv", "--target", "y", "--task", "binary"],
                     ["only one class", "need at least 2"]),
    "single text class": ({"d.csv": "a,y\n1,cat\n2,cat\n3,cat\n4,cat\n"}, ["--data", "d.csv", "--target", "y"],
                          ["only one class ('cat')"]),
    "NaN target": ({"d.csv": GOOD.replace("5,6,0", "5,6,")}, ["--data", "d.csv", "--target", "y", "--no-drop-missing-target"],
                   ["d.csv", "target 'y' is missing at row 3"]),
    "every target missing": ({"d.csv": "a,y\n1,\n2,\n"}, ["--data", "d.csv", "--target", "y"],
                             ["d.csv", "target (y) is missing in every row"]),
    "inf target": ({"d.csv": GOOD.replace("5,6,0", "5,6,inf")}, ["--data", "d.csv", "--target", "y"],
                   ["d.csv", "target 'y' is inf at row 3", "finite"]),
    "inf feature": ({"d.csv": GOOD.replace("5,6,0", "5,-inf,0")},
                    ["--data", "d.csv", "--target", "y", "--val-split", "0", "--test-split", "0"],
                    ["column 'b' row 3 is -inf", "finite"]),
    "NaN in npz targets": ({"d.npz": ("x", "y_nan")}, ["--data", "d.npz"], ["d.npz", "missing at row 2"]),
    "npz rows disagree": ({"d.npz": ("x", "y_short")}, ["--data", "d.npz"], ["d.npz", "'x' has 6 rows but 'y' has 5"]),
    "npz without x": ({"d.npz": ("y_only",)}, ["--data", "d.npz"], ["d.npz", "'x'"]),
    "unknown config key": ({"c.yaml": "data: {source: builtin:iris}\ntrainig: {epochs: 1}\n"}, ["c.yaml"],
                           ["c.yaml", "unknown key 'trainig'"]),
    "unknown nested key": ({}, ["--data", "builtin:iris", "--set", "network.hiden=[3]"], ["unknown key 'network.hiden'"]),
    "bad YAML": ({"c.yaml": "data: {source: [\n"}, ["c.yaml"], ["c.yaml", "not valid YAML"]),
    "YAML nested too deeply": ({"c.yaml": "data: " + "[" * 3000 + "]" * 3000}, ["c.yaml"], ["c.yaml", "nested too deeply"]),
    "seed beyond sklearn's range": ({}, ["--data", "builtin:iris", "--seed", str(2 ** 32)], ["training.seed", "less than 4294967296"]),
    "split seed beyond sklearn's range": ({}, ["--data", "builtin:iris", "--set", f"data.split_seed={2 ** 32}"],
                                          ["data.split_seed", "less than 4294967296"]),
    "negative seed": ({}, ["--data", "builtin:iris", "--seed", "-1"], ["training.seed", "greater than or equal to 0"]),
    "YAML not a mapping": ({"c.yaml": "- 1\n- 2\n"}, ["c.yaml"], ["c.yaml", "mapping"]),
    "config not found": ({}, ["nope.yaml"], ["nope.yaml", "not found"]),
    "--set without =": ({}, ["--data", "builtin:iris", "--set", "training.lr"], ["--set", "key=value"]),
    "unknown activation": ({}, ["--data", "builtin:iris", "--activation", "swish"],
                           ["network", "unknown activation 'swish'", "relu"]),
    "activation per layer count": ({}, ["--data", "builtin:iris", "--hidden", "4", "4", "--activation", "relu", "tanh", "relu"],
                                   ["activation lists 3 names for 2 hidden layers"]),
    "unknown optimizer": ({}, ["--data", "builtin:iris", "--optimizer", "adamm"], ["training.optimizer", "adamm"]),
    "zero hidden size": ({}, ["--data", "builtin:iris", "--hidden", "8", "0"],
                         ["network.hidden", "hidden layer 2 has size 0", "positive"]),
    "negative hidden size": ({}, ["--data", "builtin:iris", "--set", "network.hidden=[-3]"], ["hidden layer 1 has size -3"]),
    "input size disagrees": ({}, ["--data", "builtin:iris", "--set", "network.input_size=5"],
                             ["network.input_size is 5", "needs 4"]),
    "output size disagrees": ({}, ["--data", "builtin:iris", "--set", "network.output_size=2"],
                              ["network.output_size is 2", "needs 3"]),
    "zero epochs": ({}, ["--data", "builtin:iris", "--epochs", "0"], ["training.epochs", "greater than or equal to 1"]),
    "negative batch": ({}, ["--data", "builtin:iris", "--batch-size", "-1"], ["training.batch_size"]),
    "split of 1.5": ({}, ["--data", "builtin:iris", "--val-split", "1.5"], ["data.val_split", "less than 1"]),
    "weights of the wrong shape": ({}, ["--data", "builtin:sum3", "--hidden", "2", "--set", "network.weights=[[[1,2],[3,4]]]"],
                                   ["network.weights[0] (layer 1) has shape (2, 2)", "expected (2, 3)"]),
    "loss does not fit the task": ({}, ["--data", "builtin:iris", "--loss", "mse"], ["loss 'mse'", "multiclass"]),
    "text labels for regression": ({}, ["--data", "builtin:iris", "--task", "regression"],
                                   ["regression needs numeric targets", "'setosa'"]),
    "a text column among two targets": ({"t.csv": "x,price,city\n1,2.5,Hull\n2,3.5,York\n3,1.5,Hull\n4,2.0,York\n"},
                                        ["--data", "t.csv", "--target", "price", "city"],
                                        ["regression needs numeric targets", "'Hull'"]),
}


def _write_files(directory: Path, files: dict) -> None:
    arrays = {"x": np.arange(12.0).reshape(6, 2), "y_nan": np.array([0.0, np.nan, 1, 0, 1, 0]),
              "y_short": np.zeros(5), "y_only": np.zeros(6)}
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):  # npz: names of arrays above
            np.savez(path, **{key.split("_")[0]: arrays[key] for key in content})
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.mark.parametrize("case", list(TRAIN_CASES))
def test_train_mistakes_are_one_line_errors(tmp_path: Path, case: str) -> None:
    files, args, fragments = TRAIN_CASES[case]
    _write_files(tmp_path, files)
    before = files_under(tmp_path)
    result = run_cli(["train", *args, "--epochs", "1", "--out", "run", "-q"] if "--epochs" not in args
                     else ["train", *args, "--out", "run", "-q"], cwd=tmp_path)
    assert_user_error(result, *fragments)
    assert_not_complete(tmp_path / "run")
    assert files_under(tmp_path) - before <= {"run", "run/status.json"}


# ---- mistakes when using a finished run ---------------------------------------------------------

USE_CASES = {
    "wrong number of --values": (["predict", "{run}", "--values", "1,2"], ["--values", "expected 3 values", "size, weight, colour", "got 2"]),
    "text where a number goes": (["predict", "{run}", "--values", "big,2,red"], ["--values", "column 'size'", "'big' is not a number"]),
    "infinite value": (["predict", "{run}", "--values", "inf,2,red"], ["--values", "infinite", "finite"]),
    "missing column": (["predict", "{run}", "--input", "no_weight.csv"], ["no_weight.csv", "missing column 'weight'"]),
    "wrong feature count (npz)": (["predict", "{run}", "--input", "wide.npz"], ["wide.npz", "expected 3 values per row", "got 5"]),
    "input and values both": (["predict", "{run}", "--input", "rows.csv", "--values", "1,2,red"], ["exactly one of --input"]),
    "missing input file": (["predict", "{run}", "--input", "nope.csv"], ["nope.csv", "not found"]),
    "not a run directory": (["predict", "nowhere", "--values", "1"], ["nowhere", "not found"]),
    "run that failed": (["predict", "failed_run", "--values", "1,2,red"], ["failed_run", "not complete"]),
    "corrupt model.json": (["predict", "corrupt_run", "--values", "1,2,red"], ["model.json", "corrupt"]),
    "evaluate without targets": (["evaluate", "{run}", "--data", "rows.csv"], ["rows.csv", "target column 'label' not found"]),
    "evaluate with unseen labels": (["evaluate", "{run}", "--data", "other_labels.csv"],
                                    ["other_labels.csv", "row 1 has label 'green'", "never saw", "raw, ripe"]),
    "evaluate text in numbers": (["evaluate", "{run}", "--data", "text.csv"], ["text.csv", "column 'size' row 1", "'big' is not a number"]),
    "output into a missing folder": (["predict", "{run}", "--input", "rows.csv", "--output", "nowhere/p.csv"],
                                     ["--output nowhere/p.csv", "cannot write", "No such file or directory"]),
    "output onto a folder": (["predict", "{run}", "--input", "rows.csv", "--output", "failed_run"],
                             ["--output failed_run", "cannot write"]),
    "eval.json cannot be written": (["evaluate", "blocked_run", "--data", "fruit.csv"],
                                    ["blocked_run/eval.json", "cannot write"]),
    "summary of nothing": (["summary", "nowhere.yaml"], ["nowhere.yaml", "no such config file or run directory"]),
}


@pytest.fixture(scope="module")
def use_dir(tmp_path_factory, table_run, table_csv):
    import shutil

    import pandas as pd

    base = tmp_path_factory.mktemp("use")
    frame = pd.read_csv(table_csv)
    frame.to_csv(base / "fruit.csv", index=False)
    frame.drop(columns=["label"]).to_csv(base / "rows.csv", index=False)
    frame.drop(columns=["label", "weight"]).to_csv(base / "no_weight.csv", index=False)
    frame.assign(label="green").to_csv(base / "other_labels.csv", index=False)
    frame.astype({"size": object}).assign(size="big").to_csv(base / "text.csv", index=False)  # words, not numbers
    np.savez(base / "wide.npz", x=np.zeros((2, 5)))
    for name in ("failed_run", "corrupt_run", "blocked_run"):
        shutil.copytree(table_run.dir, base / name)
    (base / "blocked_run" / "eval.json").unlink(missing_ok=True)
    (base / "blocked_run" / "eval.json").mkdir()  # evaluate cannot write its result there
    (base / "failed_run" / "status.json").write_text(json.dumps({"state": "failed", "reason": "x"}))
    (base / "corrupt_run" / "model.json").write_text("{not json")
    return base


@pytest.mark.parametrize("case", list(USE_CASES))
def test_predict_and_evaluate_mistakes_are_one_line_errors(use_dir: Path, table_run, case: str) -> None:
    args, fragments = USE_CASES[case]
    before = files_under(use_dir)
    result = run_cli([str(a).replace("{run}", str(table_run.dir)) for a in args], cwd=use_dir)
    assert_user_error(result, *fragments)
    assert files_under(use_dir) == before


def test_errors_reach_a_real_terminal_as_one_line(tmp_path: Path) -> None:
    """End to end through `python -m layerwise`: no traceback, no warnings, one line, exit 2."""
    (tmp_path / "d.csv").write_text(GOOD)
    for args in (["train", "--data", "d.csv", "--target", "label", "--out", "run"],
                 ["train", "--data", "builtin:iris", "--set", "network.hidden=[0]", "--out", "run"],
                 ["predict", "nowhere", "--values", "1,2"]):
        assert_user_error(run_subprocess(args, cwd=tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_a_windows_1252_csv_is_read_with_a_warning(tmp_path: Path) -> None:
    rows = "".join(f"{i},{'Café' if i % 2 else 'Crème'},£{i}.50,{i % 2}\n" for i in range(40))
    (tmp_path / "d.csv").write_bytes(("a,shop,price,y\n" + rows).encode("cp1252"))  # Excel's "CSV" on Windows
    from layerwise.data.tables import read_table

    with pytest.warns(LayerwiseWarning, match="d.csv: not UTF-8; read as Windows-1252"):
        frame = read_table(tmp_path / "d.csv")
    assert frame["shop"].tolist()[:2] == ["Crème", "Café"] and frame["price"].tolist()[:2] == [0.5, 1.5]


def test_bad_flag_value_is_one_line() -> None:
    assert_user_error(run_cli(["train", "--data", "builtin:iris", "--epochs", "many"]), "--epochs")


def test_data_without_rows_or_features_is_a_one_line_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "no_features.npz", x=np.zeros((5, 0)), y=np.arange(5))
    assert_user_error(run_cli(["train", "--data", "no_features.npz", "--out", "run"], cwd=tmp_path),
                      "no_features.npz", "'x' must have shape", "(5, 0)")
    from helpers import make_mnist_dir

    make_mnist_dir(tmp_path / "m", n_train=0, n_test=0)
    assert_user_error(run_cli(["train", "--data", "mnist:m", "--out", "run"], cwd=tmp_path),
                      "mnist:m", "train files hold no images")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "no_features.npz"]


def test_a_network_too_big_to_allocate_is_a_one_line_error(tmp_path: Path) -> None:
    """4 -> 10^9 -> 3 has 8e9 parameters (64 GB with gradients): refused up front where memory is
    smaller, else torch's allocator fails under the 6 GiB address-space limit set here."""
    import subprocess
    import sys

    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))"
    done = subprocess.run([sys.executable, "-c", f"{limit}\nfrom layerwise.cli.main import main\n"
                           "main(['train', '--data', 'builtin:iris', '--hidden', '1000000000', '--out', 'run'])"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert_user_error(CliResult(done.returncode, done.stdout, done.stderr), "1000000000", "more than this machine")
    assert not (tmp_path / "run").exists()


def test_networks_larger_than_memory_are_refused_before_allocating(monkeypatch) -> None:
    from layerwise import model

    monkeypatch.setattr(model, "_physical_memory_bytes", lambda: 1e6)
    arch = model.Architecture(input_size=4, hidden=[100_000], activations=["relu"], output_size=3)
    with pytest.raises(model.LayerwiseError, match=r"network 4-100000-3 has 800,003 parameters: .* need 6.4 MB, more than this machine.s 1.0 MB"):
        model.build_model(arch)
    # the limit is real: 6.4 MB of weights and gradients fit in 100 MB
    monkeypatch.setattr(model, "_physical_memory_bytes", lambda: 1e8)
    assert sum(p.numel() for p in model.build_model(arch).parameters()) == 800_003


def test_summary_of_a_huge_config_allocates_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "c.yaml").write_text("network: {input_size: 4, hidden: [1000000000], output_size: 3}\n")
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))"
    done = subprocess.run([sys.executable, "-c", f"{limit}\nfrom layerwise.cli.main import main\nmain(['summary', 'c.yaml'])"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
    assert "8,000,000,003" in done.stdout.splitlines()[-2]
