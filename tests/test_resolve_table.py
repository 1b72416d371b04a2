"""Every check of the resolve step (resolve.py), reached through the public ways in: a table of bad
settings -> the exact one-line error, through the Python API (layerwise.fit / layerwise.train /
cv.cross_validate / the scikit-learn estimators) and through the CLI (exit 2, one `error:` line, nothing written).

The reference for each message is the text the check promises (naming the settings involved); the
point of the table is that no check is reachable only from one caller, and that each stops the run
before a run directory exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import layerwise
from helpers import assert_user_error, run_cli

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 4))
CLASSES = np.repeat([0, 1, 2], 20)  # multiclass, 3 classes
VALUES = X @ np.array([1.0, -2.0, 0.5, 0.0])  # regression
CONV = [{"type": "conv1d", "out_channels": 2, "kernel_size": 3}]
COPIES = "is not supported when training copies at once"
ENSEMBLE_ROWS = ("training.ensemble: sample weights and --folds train one network; "
                 "use `layerwise train` or layerwise.fit without them for an ensemble")

# (how it is called, config, data, extra arguments, the error line)
API_CASES = {
    # 1. modes
    "ensemble and --repeat": ("train", {"training": {"ensemble": 2}}, CLASSES, {"repeat": 2},
                              "training.ensemble cannot be combined with --repeat"),
    "ensemble and sample weights": ("train", {"training": {"ensemble": 2}}, CLASSES, {"sample_weight": True},
                                    "training.ensemble: sample weights are for single runs"),
    "ensemble fit in memory with sample weights": ("fit", {"training": {"ensemble": 2}}, CLASSES,
                                                   {"sample_weight": True}, ENSEMBLE_ROWS),
    "ensemble in a scikit-learn estimator": ("sklearn", {"training": {"ensemble": 2}}, CLASSES, {},
                                             "training.ensemble: the scikit-learn estimators train one network; "
                                             "use layerwise.fit or `layerwise train` for an ensemble"),
    "ensemble in folds": ("cv", {"training": {"ensemble": 2}}, CLASSES, {"k": 2}, ENSEMBLE_ROWS),
    "--repeat and sample weights": ("train", {}, CLASSES, {"repeat": 2, "sample_weight": True},
                                    "--repeat: sample weights are for single runs"),
    "folds with a validation source": ("cv", {"data": {"val": "val.csv"}}, CLASSES, {"k": 2},
                                       "--folds: the config names a validation source (data.val); folds split "
                                       "the training rows themselves, so leave data.val out"),
    "one fold": ("cv", {}, CLASSES, {"k": 1}, "--folds 1: needs at least 2 folds"),
    # 2. loss
    "loss against the task": ("fit", {"loss": "mse"}, CLASSES, {},
                              "loss 'mse' does not fit a multiclass task; use one of cross_entropy"),
    "classification loss on values": ("fit", {"loss": "cross_entropy"}, VALUES, {},
                                      "loss 'cross_entropy' does not fit a regression task; use one of mse, l1, huber"),
    # 4. copies
    "--repeat with grad_clip": ("train", {"training": {"grad_clip": 1.0}}, CLASSES, {"repeat": 2},
                                f"--repeat: grad_clip (a global norm couples the copies) {COPIES}"),
    "--repeat with dropout": ("train", {"network": {"dropout": 0.1}}, CLASSES, {"repeat": 2},
                              f"--repeat: dropout {COPIES}"),
    "ensemble with the plateau schedule": ("train", {"training": {"ensemble": 2, "schedule": "plateau"}}, CLASSES,
                                           {}, f"training.ensemble: the plateau schedule {COPIES}"),
    "ensemble with class weights": ("train", {"training": {"ensemble": 2, "class_weights": "balanced"}}, CLASSES,
                                    {}, f"training.ensemble: class_weights {COPIES}"),
    # 5. folds against the rows
    "more folds than rows": ("cv", {"data": {"test_split": 0.5, "val_split": 0.0}}, CLASSES, {"k": 40},
                             "--folds 40: only 30 training rows to split"),
    # 6. shapes
    "input_size against the data": ("fit", {"network": {"input_size": 5}}, CLASSES, {},
                                    "network.input_size is 5 but the data needs 4"),
    "output_size against the task": ("fit", {"network": {"output_size": 2}}, CLASSES, {},
                                     "network.output_size is 2 but the data needs 3"),
    "kernel larger than the input": ("fit", {"network": {"layers": [{**CONV[0], "kernel_size": 9}, {"type": "flatten"}]}},
                                     CLASSES, {}, None),
    "conv without flatten": ("fit", {"network": {"layers": CONV}}, CLASSES, {}, None),
    "explicit weights of the wrong shape": ("fit", {"network": {"hidden": [3], "weights": [[[1.0, 2.0]]]}}, CLASSES, {},
                                            "network.weights[0] (layer 1) has shape (1, 2), expected (3, 4) "
                                            "(out_features, in_features)"),
    "too many explicit weights": ("fit", {"network": {"hidden": [], "weights": [[[0.0] * 4] * 3] * 2}}, CLASSES, {},
                                  "network.weights has 2 entries but the network has 1 layers"),
    "biases without bias": ("fit", {"network": {"hidden": [3], "bias": False, "biases": [[0.0] * 3]}}, CLASSES, {},
                            "network.biases given but network.bias is false"),
    "explicit weights for a conv net": ("fit", {"network": {"layers": [*CONV, {"type": "flatten"}],
                                                            "weights": [[[0.0]]]}}, CLASSES, {},
                                        "network.weights/biases: explicit values are for networks of dense layers only"),
    # 7. class weights
    "class weights on values": ("fit", {"training": {"class_weights": "balanced"}}, VALUES, {},
                                "training.class_weights applies to classification tasks only"),
    "class weights: one per class": ("fit", {"training": {"class_weights": [1.0, 2.0]}}, CLASSES, {},
                                     "training.class_weights lists 2 weights for 3 classes"),
    "class weights: unknown class": ("fit", {"training": {"class_weights": {"7": 2.0}}}, CLASSES, {},
                                     "training.class_weights: unknown class '7' (classes: 0, 1, 2)"),
}


def call(how: str, config: dict, y: np.ndarray, extra: dict, tmp_path: Path):
    config = {"training": {"epochs": 1}, **config}
    config["training"] = {"epochs": 1, **config["training"]}
    weights = {"sample_weight": np.ones(len(y))} if extra.pop("sample_weight", False) else {}
    if how == "fit":
        return layerwise.fit(config, data=(X, y), **weights)
    if how == "sklearn":
        from layerwise.sklearn import NetClassifier

        return NetClassifier(config=config).fit(X, y, **weights)
    if how == "train":
        return layerwise.train(config, data=(X, y), out=tmp_path / "run", quiet=True, **weights, **extra)
    from layerwise.cv import cross_validate

    return cross_validate(config, extra["k"], data=(X, y))


@pytest.mark.parametrize("case", API_CASES)
def test_every_check_is_reached_through_the_api(case: str, tmp_path: Path) -> None:
    how, config, y, extra, message = API_CASES[case]
    with pytest.raises(layerwise.LayerwiseError) as caught:
        call(how, config, y, dict(extra), tmp_path)
    line = str(caught.value)
    assert "\n" not in line
    if message is None:  # a layer's shape: the message names the layer (shape arithmetic is test_layers')
        assert line.startswith("network.layers[0]: "), line
    else:
        assert line == message
    assert not (tmp_path / "run").exists()  # stopped before any run directory


DATA = ["--data", "builtin:iris", "--epochs", "1"]
CLI_CASES = {
    "--folds and --repeat": (["--folds", "2", "--repeat", "2"], "--folds and --repeat cannot be combined"),
    "--folds and --nproc-per-node": (["--folds", "2", "--nproc-per-node", "2"],
                                     "--folds and --nproc-per-node cannot be combined"),
    "--ensemble and --repeat": (["--ensemble", "2", "--repeat", "2"],
                                "training.ensemble (--ensemble) cannot be combined with --repeat"),
    "--ensemble and --nproc-per-node": (["--ensemble", "2", "--nproc-per-node", "2"],
                                        "training.ensemble (--ensemble) cannot be combined with --nproc-per-node"),
    "an ensemble config and --nproc-per-node": (["--set", "training.ensemble=2", "--nproc-per-node", "2"],
                                                "training.ensemble cannot be combined with several processes "
                                                "(--nproc-per-node/torchrun)"),
    "--repeat and --nproc-per-node": (["--repeat", "2", "--nproc-per-node", "2"],
                                      "--nproc-per-node cannot be combined with --repeat: train the copies in one "
                                      "process, or one DDP run at a time"),
    "skip-batch across processes": (["--on-nan", "skip-batch", "--batch-size", "8", "--nproc-per-node", "2"],
                                     "training.on_nan: skip-batch is not available with several processes (every "
                                     "rank would have to agree on each skipped batch); use stop"),
    "an odd batch across processes": (["--batch-size", "9", "--nproc-per-node", "2"],
                                      "--batch-size 9 does not split evenly across 2 processes; use a multiple of 2"),
    "loss against the task": (["--loss", "huber"],
                              "loss 'huber' does not fit a multiclass task; use one of cross_entropy"),
    "copies with grad_clip": (["--repeat", "2", "--grad-clip", "1"],
                              f"--repeat: grad_clip (a global norm couples the copies) {COPIES}"),
    "input_size against the data": (["--set", "network.input_size=7"], "network.input_size is 7 but the data needs 4"),
    "class weights: one per class": (["--class-weights", "[1,2]"],
                                     "training.class_weights lists 2 weights for 3 classes"),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_every_check_is_reached_through_the_cli(case: str, tmp_path: Path) -> None:
    flags, message = CLI_CASES[case]
    result = run_cli(["train", *DATA, *flags, "--out", tmp_path / "run"])
    assert assert_user_error(result) == f"error: {message}"
    assert not (tmp_path / "run").exists()


def test_resuming_an_ensemble_is_refused_by_resolve(tmp_path: Path) -> None:
    """`resume` reads the run's own config.yaml and runs the same mode checks."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("training: {ensemble: 2}\n")
    (run / "status.json").write_text('{"state": "failed"}')
    with pytest.raises(layerwise.LayerwiseError) as caught:
        layerwise.resume(run)
    assert str(caught.value) == f"{run}: an ensemble (training.ensemble) keeps no checkpoints to resume; train it again"


def test_resolved_choices_land_in_the_run_config(tmp_path: Path) -> None:
    """The resolve step's choices (task, loss, sizes, preset) are what config.yaml records, so the
    file alone retrains the same run."""
    from layerwise.spec import load_yaml

    run = layerwise.train({"preset": "auto", "training": {"epochs": 1}}, data=(X, CLASSES), out=tmp_path / "run",
                          quiet=True)
    saved = load_yaml(run.dir / "config.yaml")
    assert (saved["task"], saved["loss"]) == ("multiclass", "cross_entropy")
    assert (saved["network"]["input_size"], saved["network"]["output_size"]) == (4, 3)
    assert saved["training"]["batch_size"] == 256 and saved["training"]["optimizer"] == "adamw"  # the preset's
    assert saved["data"]["scaling"] == "robust"
    again = layerwise.train(run.dir / "config.yaml", data=(X, CLASSES), out=tmp_path / "again", quiet=True)
    assert again.summary["test"] == run.summary["test"]
