"""What a new user trips on, walking through the README and every command's --help on a clean
checkout: each test is one such finding, checked as the user would meet it (through the CLI)."""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import pytest

from helpers import assert_user_error, run_cli


def test_target_for_a_builtin_is_refused_before_anything_is_written(tmp_path):
    # `--target prize` on builtin:iris used to be ignored: a whole run trained on the species
    out = tmp_path / "run"
    result = run_cli(["train", "--data", "builtin:iris", "--target", "prize", "--out", out])
    assert_user_error(result, "target prize", "builtin:iris brings its own target")
    assert not out.exists()


def test_target_for_a_builtin_in_a_config_file_is_refused(tmp_path):
    config = tmp_path / "iris.yaml"
    config.write_text("data: {source: 'builtin:iris', target: species}\n")
    assert_user_error(run_cli(["train", config, "--out", tmp_path / "run"]), "iris.yaml", "target species")


def test_predict_values_writes_the_output_file_it_is_given(iris_run, tmp_path):
    # -o was ignored with --values: the answer went to stdout and no file was written
    output = tmp_path / "one.csv"
    result = run_cli(["predict", iris_run.dir, "--values", "5.1,3.5,1.4,0.2", "-o", output])
    assert result.code == 0, result.err
    assert result.out.strip() == f"wrote 1 prediction to {output}"
    whole = tmp_path / "all.csv"
    assert run_cli(["predict", iris_run.dir, "--input", "builtin:iris", "-o", whole]).code == 0
    [row] = list(csv.DictReader(output.open()))
    first = next(csv.DictReader(whole.open()))  # iris row 0 is the flower given to --values
    assert list(row) == list(first)  # the same columns as the CSV of --input
    assert row["prediction"] == first["prediction"] == "setosa"
    assert abs(float(row["proba_setosa"]) - float(first["proba_setosa"])) < 1e-6


def test_datasets_shows_the_extra_mnist1d_needs():
    # rich read "layerwise[mnist1d]" as a style tag and printed "needs layerwise"
    result = run_cli(["datasets"])
    assert result.code == 0, result.err
    assert "layerwise[mnist1d]" in result.out


def test_unknown_download_lists_every_name_with_a_suggestion(tmp_path):
    result = run_cli(["download", "mnst", tmp_path / "d"])
    assert_user_error(result, "unknown download 'mnst'", "did you mean 'mnist'", "mnist1d")
    assert not (tmp_path / "d").exists()


def test_log_tensorboard_records_an_ensemble_run(tmp_path):
    # preset auto bags small tables into an ensemble, whose training ignored --log: no tensorboard/
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    result = run_cli(["train", "--data", "builtin:iris", "--preset", "auto", "--epochs", "3",
                      "--log", "tensorboard", "--quiet", "--out", out])
    assert result.code == 0, result.err
    assert json.loads((out / "summary.json").read_text())["ensemble"] > 1  # the case that was broken
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    history = list(csv.DictReader((out / "metrics.csv").open()))
    for column in ("train_loss", "val_loss", "val_accuracy"):
        scalars = events.Scalars(column)
        assert [s.step for s in scalars] == [int(row["epoch"]) for row in history]
        assert [s.value for s in scalars] == pytest.approx([float(row[column]) for row in history], rel=1e-6)


def test_log_with_repeat_is_refused_instead_of_ignored(tmp_path):
    out = tmp_path / "many"
    result = run_cli(["train", "--data", "builtin:iris", "--epochs", "2", "--repeat", "2",
                      "--log", "tensorboard", "--out", out])
    assert_user_error(result, "--repeat", "training.log (tensorboard)")
    assert not out.exists()


REPO = Path(__file__).resolve().parents[1]


def _readme_mistakes() -> list[tuple[list[str], str]]:
    """The README's console block of user mistakes: (command, the one error line it shows)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("traceback, and no run directory that looks complete:\n\n```console\n", 1)[1].split("```", 1)[0]
    lines = block.strip().splitlines()
    return [(shlex.split(command[2:])[1:], error) for command, error in zip(lines[::2], lines[1::2])]


@pytest.mark.parametrize(("args", "shown"), _readme_mistakes())
def test_readme_mistakes_print_what_the_readme_shows(args, shown):
    # the README showed an older did-you-mean and activation list, for a houses.csv nobody had
    assert args[0] == "train"
    assert assert_user_error(run_cli(args, cwd=REPO)) == shown


def test_readme_table_example_trains_and_predicts_one_row_to_a_file(tmp_path):
    # examples/houses.csv exists, so the README's CSV commands run as written
    run = tmp_path / "houses"
    trained = run_cli(["train", "--data", REPO / "examples" / "houses.csv", "--target", "price", "--hidden", "16",
                       "--epochs", "30", "--preset", "plain", "--lr", "0.01", "--quiet", "--out", run])
    assert trained.code == 0, trained.err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["task"] == "regression" and summary["test"]["r2"] > 0.5  # price follows size and city
    one = tmp_path / "one-house.csv"
    assert run_cli(["predict", run, "--values", "120,4,York", "--output", one]).code == 0
    [row] = list(csv.DictReader(one.open()))
    assert 100 < float(row["prediction"]) < 600  # £1000s: a 120 m² York house, within the table's range


def test_resume_ends_with_the_test_scores_as_train_does(tmp_path):
    # resume printed only the report path, so a resumed run never said how well it did
    out = _interrupted_run(tmp_path / "run")
    assert json.loads((out / "status.json").read_text())["state"] == "interrupted"
    result = run_cli(["resume", out])
    assert result.code == 0, result.err
    test = json.loads((out / "summary.json").read_text())["test"]
    assert result.out.splitlines()[-2:] == [f"test: accuracy {test['accuracy']:.4f}  f1_macro {test['f1_macro']:.4f}",
                                            f"report: {out / 'report.html'}"]


def test_tune_suggests_the_key_a_mistyped_search_key_meant(tmp_path):
    pytest.importorskip("optuna")
    config = tmp_path / "tune.yaml"
    config.write_text("data: {source: 'builtin:iris'}\nsearch:\n  network.hiden: {choice: [[4], [8]]}\n")
    result = run_cli(["tune", config, "--trials", "1", "--out", tmp_path / "out"])
    assert_user_error(result, "search network.hiden: not a config key (did you mean 'network.hidden'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", [["--loss", "ce"], ["--lr", "0.9"]])
def test_explain_refuses_loss_or_lr_without_a_target(option):
    # without --target explain shows the forward pass only, and --loss/--lr were silently ignored
    seed0 = REPO / "docs" / "seed0-network.yaml"
    assert_user_error(run_cli(["explain", seed0, "--input", "1,2", *option]), f"{option[0]} needs --target")
    worked = run_cli(["explain", seed0, "--input", "1,2", "--target", "0", "--lr", "0.9"])
    assert worked.code == 0 and "learning rate α = 0.9" in worked.out


def test_export_of_a_table_with_categories_says_nothing_about_unseen_categories(table_run, tmp_path):
    # the check's made-up rows carry an '<unseen>' category, and the user was warned about them
    pytest.importorskip("onnxruntime")
    result = run_cli(["export", table_run.dir, "-o", tmp_path / "fruit.onnx"])
    assert result.code == 0, result.err
    assert "check  max |onnx - layerwise|" in result.out and (tmp_path / "fruit.onnx").is_file()
    assert "warning" not in result.err, result.err


@pytest.mark.parametrize(("option", "fragment"), [
    (["--port", "99999"], "'--port'"),  # was an OverflowError traceback from bind()
    (["--log-level", "debg"], "--log-level: unknown value 'debg' (did you mean 'debug'?)"),  # was uvicorn's traceback
])
def test_serve_refuses_a_bad_port_or_log_level_in_one_line(iris_run, option, fragment):
    result = run_cli(["serve", iris_run.dir, *option])
    assert_user_error(result, fragment)
    assert "serving" not in result.out  # refused before it said it was serving


def test_an_option_missing_its_value_names_the_command():
    # "error: layerwise: Option '--data' requires an argument. (see layerwise --help)"
    assert_user_error(run_cli(["train", "--data"]), "layerwise train: Option '--data' requires an argument",
                      "(see layerwise train --help)")


def test_export_to_a_directory_is_a_one_line_error(iris_run, tmp_path):
    # -o DIR (a user expecting the file inside it) was an IsADirectoryError traceback
    pytest.importorskip("onnx")
    assert_user_error(run_cli(["export", iris_run.dir, "-o", tmp_path]), f"-o {tmp_path}: is a directory",
                      str(tmp_path / "model.onnx"))
    assert list(tmp_path.iterdir()) == []


def test_export_checks_the_format_it_wrote_whatever_the_file_is_called(iris_run, tmp_path):
    # -o model.bin with --format onnx was checked as TorchScript (by its suffix): a traceback
    pytest.importorskip("onnxruntime")
    for fmt, name in (("onnx", "model.bin"), ("torchscript", "model.onnx")):
        result = run_cli(["export", iris_run.dir, "--format", fmt, "-o", tmp_path / name])
        assert result.code == 0 and f"check  max |{fmt} - layerwise|" in result.out, result.err
        assert (tmp_path / name).stat().st_size > 0


def test_train_out_where_no_directory_can_be_made_is_a_one_line_error(tmp_path):
    # --out under a file (or in /proc, or read-only) was a FileNotFoundError/NotADirectoryError traceback
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    result = run_cli(["train", "--data", "builtin:iris", "--epochs", "1", "--out", blocker / "run"])
    assert_user_error(result, f"--out {blocker / 'run'}: cannot create the run directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_draw_and_compare_outputs_that_cannot_be_files_are_one_line_errors(iris_run, tmp_path):
    # both were tracebacks (FileExistsError from mkdir, IsADirectoryError from the atomic rename)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    seed0 = REPO / "docs" / "seed0-network.yaml"
    assert_user_error(run_cli(["draw", seed0, "-o", blocker / "net.png"]), f"{blocker} is not a folder")
    assert_user_error(run_cli(["draw", seed0, "-o", tmp_path]), f"-o {tmp_path}: is a directory")
    assert_user_error(run_cli(["runs", "--compare", iris_run.dir, iris_run.dir, "-o", tmp_path]),
                      f"--out {tmp_path}: is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _tune_beside_a_file(tmp_path):
    """(a file where a folder is asked for, a one-trial tune config)"""
    pytest.importorskip("optuna")
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    config = tmp_path / "tune.yaml"
    config.write_text("data: {source: 'builtin:iris'}\ntraining: {epochs: 1}\nsearch:\n  training.lr: {uniform: [0.01, 0.1]}\n")
    return blocker, config


def test_tune_out_under_a_file_is_a_one_line_error(tmp_path):
    blocker, config = _tune_beside_a_file(tmp_path)
    assert_user_error(run_cli(["tune", config, "--trials", "1", "--out", blocker / "out"]), str(blocker / "out"))


def test_tune_storage_that_cannot_be_made_leaves_no_out_folder(tmp_path):
    # the journal's folder under a file was an OSError past the cleanup: an empty --out stayed behind
    blocker, config = _tune_beside_a_file(tmp_path)
    result = run_cli(["tune", config, "--trials", "1", "--storage", f"journal:{blocker / 'j.log'}",
                      "--out", tmp_path / "out"])
    assert_user_error(result, f"--storage journal:{blocker / 'j.log'}: cannot create the folder {blocker}")
    assert not (tmp_path / "out").exists()


def test_drawn_blocks_widen_for_long_layer_names(tmp_path):
    # an ensemble's 'members.*.embed0  PeriodicEmbedding' was printed over its own '(13,)  830 params'
    from PIL import Image

    from layerwise.explain.drawing import draw_blocks

    short = draw_blocks([("fc1", "Linear", "(64,)", 4480), ("fc2", "Linear", "(1,)", 65)], tmp_path / "short.png")
    long = draw_blocks([("members.*.embed0", "PeriodicEmbedding", "(13,)", 830),
                        ("members.*.fc1", "Linear", "(64,)", 4480)], tmp_path / "long.png")
    short_width, long_width = Image.open(short).size[0], Image.open(long).size[0]
    assert long_width > 1.15 * short_width  # 5.2 in was too narrow for the long name and its shape


def _interrupted_run(out):
    """A run stopped by Ctrl-C after epoch 2 of 4 (status interrupted, a checkpoint, no model.json)."""
    import layerwise
    from layerwise.training.callbacks import Callback

    class CtrlC(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch == 2:
                raise KeyboardInterrupt

    config = {"preset": "plain", "data": {"source": "builtin:iris"}, "network": {"hidden": [8]},
              "training": {"epochs": 4, "lr": 0.01}}
    with pytest.raises(KeyboardInterrupt):
        layerwise.train(config, out=out, quiet=True, callbacks=[CtrlC()])
    return out


@pytest.mark.parametrize("command", [["summary"], ["draw", "-o", "net.png"], ["explain", "--input", "1,2,3,4"]])
def test_an_unfinished_run_is_called_unfinished_not_a_non_run(tmp_path, command):
    # explain, draw and summary said "not a run directory (no model.json)" of an interrupted run
    run = _interrupted_run(tmp_path / "run")
    args = [command[0], run, *[tmp_path / a if a.endswith(".png") else a for a in command[1:]]]
    assert_user_error(run_cli(args), f"{run}: run is interrupted and has no model yet", f"layerwise resume {run}")
    assert not (tmp_path / "net.png").exists()


@pytest.mark.parametrize(("preset", "centre", "scale"), [("auto", "median", "IQR"), ("plain", "mean", "std")])
def test_report_names_the_numbers_each_column_is_scaled_by(tmp_path, preset, centre, scale):
    # under preset auto (robust scaling) the report's "mean" and "std" columns held the median and IQR
    import html
    import re

    out = tmp_path / "run"
    result = run_cli(["train", "--data", REPO / "examples" / "houses.csv", "--target", "price", "--preset", preset,
                      "--epochs", "2", "--quiet", "--out", out])
    assert result.code == 0, result.err
    section = (out / "report.html").read_text().split("<section id=features>", 1)[1].split("</section>", 1)[0]
    headers = re.findall(r"<th>(.*?)</th>", section)
    assert headers[-2:] == [centre, scale]
    assert f"(x − {centre}) / {scale}" in html.unescape(section)
    size = next(c for c in json.loads((out / "model.json").read_text())["preprocessing"]["numeric"] if c["name"] == "size")
    row = re.search(r"<tr><td>size</td>(.*?)</tr>", section).group(1)
    shown = [float(v) for v in re.findall(r"<td class=num>([-0-9.]+)</td>", row)]
    assert shown == pytest.approx([size["mean"], size["std"]], rel=1e-4)  # the two numbers x is scaled by
    if preset == "auto":
        assert size["mean"] == size["median"]  # robust: the centre is the median


def test_values_reads_a_number_like_category_as_the_category(tmp_path):
    # '--values 0.5,3' met the category column as '3.0' (unseen, all-zero one-hot) while the CSV cell
    # '3' of the same column is the trained category '3': two answers for one row
    import numpy as np

    rng = np.random.default_rng(0)
    grade = rng.choice(["A", "B", "3"], 120)
    x = rng.normal(size=120)
    lines = ["x,grade,y"] + [f"{a:.4f},{g},{a + 2 * (g == '3'):.4f}" for a, g in zip(x, grade)]
    (tmp_path / "grades.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "one.csv").write_text("x,grade\n0.5,3\n")
    run = tmp_path / "run"
    assert run_cli(["train", "--data", tmp_path / "grades.csv", "--target", "y", "--preset", "plain", "--epochs", "3",
                    "--hidden", "4", "--quiet", "--out", run]).code == 0
    from_file = run_cli(["predict", run, "--input", tmp_path / "one.csv"])
    typed = run_cli(["predict", run, "--values", "0.5,3"])
    assert typed.code == 0 and "never seen in training" not in typed.err, typed.err
    assert json.loads(typed.out)["prediction"] == pytest.approx(float(from_file.out.splitlines()[1]), rel=1e-6)
    import layerwise  # explain --input reads the row the same way: one of the three one-hot inputs is 1

    assert layerwise.explain(run, "0.5,3").x[1:].tolist() == [1.0, 0.0, 0.0]  # categories 3, A, B


def test_explain_of_a_regression_run_uses_the_targets_the_network_learned(regression_run):
    # the run trained on standardised targets; explain compared its output with the raw target
    # (diabetes progression ~150 against an output near 0), so every δ and gradient was off
    import numpy as np
    import torch

    import layerwise
    from layerwise.data.builtin import load_builtin

    trace = layerwise.explain(regression_run.dir, row=5, data="builtin:diabetes", lr=0.1)
    scaling = json.loads((regression_run.dir / "model.json").read_text())["target_scaling"]
    raw_target = float(np.asarray(load_builtin("diabetes").y)[5])
    assert trace.target[0] == pytest.approx((raw_target - scaling["mean"][0]) / scaling["std"][0])

    module = layerwise.load(regression_run.dir).module.double()
    x = torch.tensor(trace.x, dtype=torch.float64).reshape(1, -1)
    want = torch.tensor(np.asarray(trace.target).reshape(1, -1), dtype=torch.float64)
    torch.nn.functional.mse_loss(module(x), want).backward()  # the loss as training computed it
    last = [m for m in module.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert trace.backward[0].weight_gradient == pytest.approx(last.weight.grad.numpy(), abs=1e-10)
    assert any("standardised targets" in note and "as predict answers" in note for note in trace.notes)


def test_explain_says_when_the_run_trained_with_label_smoothing(tmp_path, iris_run):
    # preset auto trains classification with label smoothing 0.1; explain's textbook loss has none
    import layerwise

    run = tmp_path / "smooth"
    assert run_cli(["train", "--data", "builtin:iris", "--preset", "plain", "--hidden", "4", "--epochs", "1",
                    "--set", "training.label_smoothing=0.1", "--quiet", "--out", run]).code == 0
    said = [n for n in layerwise.explain(run, row=0, data="builtin:iris").notes if "label smoothing 0.1" in n]
    assert len(said) == 1
    assert not [n for n in layerwise.explain(iris_run.dir, row=0, data="builtin:iris").notes if "smoothing" in n]


def test_explain_of_a_bagged_run_points_at_the_one_setting_that_works(tmp_path):
    # it advised --ensemble 1, which under preset auto still embeds the numbers: a second refusal
    run = tmp_path / "bagged"
    assert run_cli(["train", "--data", "builtin:iris", "--preset", "auto", "--epochs", "1", "--quiet",
                    "--out", run]).code == 0
    assert_user_error(run_cli(["explain", run, "--input-row", "0", "--data", "builtin:iris"]),
                      "an ensemble of", "train it with --preset plain")
    single = tmp_path / "single"
    assert run_cli(["train", "--data", "builtin:iris", "--preset", "plain", "--hidden", "4", "--epochs", "1", "--quiet",
                    "--out", single]).code == 0  # the advice, followed
    assert run_cli(["explain", single, "--input-row", "0", "--data", "builtin:iris"]).code == 0
