"""`layerwise train`: a YAML config, `--set key=value` overrides, and/or flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import typer


# flag name -> dotted config key; a flag left unset leaves the config's value alone
FLAG_KEYS = {
    "data": "data.source", "target": "data.target", "val_split": "data.val_split",
    "test_split": "data.test_split", "val_data": "data.val", "test_data": "data.test",
    "hidden": "network.hidden", "activation": "network.activation", "dropout": "network.dropout",
    "batch_norm": "network.batch_norm", "init": "network.init", "bias": "network.bias",
    "task": "task", "loss": "loss",
    "epochs": "training.epochs", "batch_size": "training.batch_size", "optimizer": "training.optimizer",
    "lr": "training.lr", "momentum": "training.momentum", "nesterov": "training.nesterov",
    "weight_decay": "training.weight_decay", "schedule": "training.schedule",
    "grad_clip": "training.grad_clip", "class_weights": "training.class_weights",
    "patience": "training.early_stopping.patience", "seed": "training.seed", "device": "training.device",
    "checkpoint_every": "training.checkpoint_every", "on_nan": "training.on_nan",
    "precision": "training.precision", "log": "training.log", "features": "data.features", "categorical": "data.categorical",
    "ignore": "data.ignore", "id_column": "data.id_column", "drop_missing_target": "data.drop_missing_target", "mlflow_uri": "training.mlflow_uri",
    "threads": "training.threads", "ensemble": "training.ensemble",
    "ensemble_kind": "training.ensemble_kind", "preset": "preset",
}


def flags_to_overrides(flags: dict[str, Any], no_early_stopping: bool = False) -> dict[str, Any]:
    """The flags that were given, as a nested dict of typed values ({"training": {"lr": 0.01}}):
    no YAML text in between, so `--target yes` stays the string 'yes' and `--lr 1e-5` a float."""
    from ..safe_yaml import parse_value
    from ..spec import set_dotted_value

    nested: dict[str, Any] = {}
    for name, value in flags.items():
        if name == "activation" and len(value) == 1:
            value = value[0]
        if name == "class_weights":  # 'balanced' or a list like [1,2,1]: user text, like --set
            value = parse_value(value, "--class-weights")
        set_dotted_value(nested, FLAG_KEYS[name], value)
    if no_early_stopping:
        set_dotted_value(nested, "training.early_stopping.enabled", False)
    return nested


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for name, value in top.items():
        both = isinstance(value, dict) and isinstance(merged.get(name), dict)
        merged[name] = _merge(merged[name], value) if both else value
    return merged


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("resume")(resume)


def train(
    config: Optional[Path] = typer.Argument(None, help="YAML config file (optional when flags say enough)."),
    data: Optional[str] = typer.Option(None, "--data", help="Data source: builtin:NAME, a .csv/.tsv/.parquet/.npz/.npy file, or mnist:DIR. Required (here or in the config)."),
    target: Optional[List[str]] = typer.Option(None, "--target", help="Target column(s) of a table: --target price, or --target a b (several: multi-output regression). Required for tables."),
    features: Optional[List[str]] = typer.Option(None, "--features", help="Use only these columns as features: --features age fare (default: all but the target)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Columns never used as features: --ignore rownames (default: none)."),
    categorical: Optional[List[str]] = typer.Option(None, "--categorical", help="Numeric columns that are codes, not quantities, one-hot as categories: --categorical zip school (default: none)."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="Row ID column: not a feature; copied into prediction files and API answers (default: none)."),
    drop_missing_target: Optional[bool] = typer.Option(None, "--drop-missing-target/--no-drop-missing-target", help="Skip rows whose target is missing, with a warning (default: yes); --no-drop-missing-target stops with an error instead."),
    preset: Optional[str] = typer.Option(None, "--preset", help="auto (default): a tuned recipe fills in every setting you leave out (a hidden layer of 256 for tables, numeric embeddings, AdamW, one-cycle schedule, epochs from the data size; config.yaml records its choices); plain: exactly the config and the defaults below."),
    hidden: Optional[List[int]] = typer.Option(None, "--hidden", help="Hidden layer sizes: --hidden 100 50 (preset auto: 256 for a table, 256 256 256 for images; plain default: 64)."),
    activation: Optional[List[str]] = typer.Option(None, "--activation", help="Hidden activation, one or one per layer: relu, sigmoid, tanh, leaky_relu, gelu, elu, softplus, selu, silu, mish or identity (default relu)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Passes over the training data, at most (preset auto: from the data size; plain default: 20)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Rows per optimizer step; 0 = full batch (preset auto: 256; plain default: 32)."),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="sgd, adam, adamw or rmsprop (preset auto: adamw; plain default: adam)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (preset auto: 0.002; plain default: 0.001)."),
    momentum: Optional[float] = typer.Option(None, "--momentum", help="Momentum for sgd and rmsprop, in [0, 1) (default 0)."),
    nesterov: Optional[bool] = typer.Option(None, "--nesterov/--no-nesterov", help="Nesterov momentum, for sgd with --momentum > 0 (default off)."),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", help="L2 penalty / AdamW decoupled decay (default 0)."),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="Learning-rate schedule: none, step, cosine, onecycle or plateau (default none)."),
    grad_clip: Optional[float] = typer.Option(None, "--grad-clip", help="Clip the global gradient norm to this value (default: no clipping)."),
    class_weights: Optional[str] = typer.Option(None, "--class-weights", help="Loss weight per class: 'balanced' or a list like [1,2,1] (default: equal)."),
    dropout: Optional[float] = typer.Option(None, "--dropout", help="Dropout probability after each hidden layer, in [0, 1) (default 0)."),
    batch_norm: Optional[bool] = typer.Option(None, "--batch-norm/--no-batch-norm", help="Batch normalisation after each hidden layer (default off)."),
    bias: Optional[bool] = typer.Option(None, "--bias/--no-bias", help="Bias terms in the layers (default on)."),
    init: Optional[str] = typer.Option(None, "--init", help="Weight initialisation: default (as torch does it), xavier or kaiming (default: default)."),
    task: Optional[str] = typer.Option(None, "--task", help="auto, multiclass, binary or regression (default auto: inferred from the target)."),
    loss: Optional[str] = typer.Option(None, "--loss", help="auto, cross_entropy, bce, mse, l1 or huber (default auto: from the task)."),
    val_split: Optional[float] = typer.Option(None, "--val-split", help="Validation fraction of the training rows (default 0.2)."),
    test_split: Optional[float] = typer.Option(None, "--test-split", help="Test fraction when the source has no test part (default 0.2; preset auto: 0 for tables, every row trains the model)."),
    val_data: Optional[str] = typer.Option(None, "--val-data", help="An explicit validation source, instead of --val-split (default: none)."),
    test_data: Optional[str] = typer.Option(None, "--test-data", help="An explicit test source, instead of --test-split (default: none)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Early stopping: epochs without improvement before stopping (default 10)."),
    no_early_stopping: bool = typer.Option(False, "--no-early-stopping", help="Train all epochs; the best epoch's weights are still restored (default: stop early)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed for weights, shuffling and splits (default 0)."),
    checkpoint_every: Optional[int] = typer.Option(None, "--checkpoint-every", help="Also checkpoint every N steps; epoch ends always are (default 0: epoch ends only)."),
    on_nan: Optional[str] = typer.Option(None, "--on-nan", help="On a NaN/inf loss: stop, or skip-batch (default stop)."),
    precision: Optional[str] = typer.Option(None, "--precision", help="fp32, or bf16 autocast of the forward pass (default fp32)."),
    folds: Optional[int] = typer.Option(None, "--folds", min=2, help="k-fold cross-validation: train K models (stratified folds of train+validation), print per-fold and mean metrics; writes nothing."),
    log: Optional[List[str]] = typer.Option(None, "--log", help="Also log metrics to tensorboard (<run>/tensorboard) or mlflow; repeatable; optional extras (default: neither)."),
    mlflow_uri: Optional[str] = typer.Option(None, "--mlflow-uri", help="MLflow tracking store for --log mlflow (default sqlite:///mlflow.db)."),
    repeat: int = typer.Option(1, "--repeat", min=1, help="Train N copies at once (seeds seed..seed+N-1), one run directory each."),
    ensemble: Optional[int] = typer.Option(None, "--ensemble", min=1, help="Train K members at once as one model predicting their mean, early-stopped on that mean; see --ensemble-kind (default 1)."),
    ensemble_kind: Optional[str] = typer.Option(None, "--ensemble-kind", help="independent: K networks of their own; bagging: the same, each with its own validation rows (preset auto's choice on small tables); tabm or tabm-mini: K members sharing one network's weights, with their own adapters and output layers (default independent)."),
    nproc_per_node: Optional[int] = typer.Option(None, "--nproc-per-node", min=1, help="Train one run with N processes on this machine (DDP: gloo on CPU, NCCL with a GPU each); torchrun works too."),
    resume_dir: Optional[Path] = typer.Option(None, "--resume", help="Continue this run directory instead of starting a new one."),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda or mps (default auto: cuda, then mps, then cpu)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=0, help="CPU threads for torch: 0 = auto, 1 for small layers, else the free CPUs (default 0)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default runs/<data>-<timestamp>)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run in --out."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override any config key: --set training.lr=0.01"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output; print only the report path."),
    flags_json: Optional[str] = typer.Option(None, "--flags-json", hidden=True,
                                             help="Internal: typed flags from the DDP launcher, as JSON."),
) -> None:
    """Train a network and write its run directory (metrics, plots, model, report)."""
    from ..resolve import Modes, check_modes
    from ..run import as_config, train as train_run

    if resume_dir is not None:
        return resume(resume_dir, quiet=quiet)
    flags = {name: value for name, value in locals().items() if name in FLAG_KEYS and value is not None}
    typed = flags_to_overrides(flags, no_early_stopping)
    if flags_json is not None:  # a DDP worker: the launcher's flags, typed as the launcher had them
        typed = _merge(json.loads(flags_json), typed)
    overrides = list(set_ or []) + ([typed] if typed else [])  # flags win over --set, as before
    settings = as_config(config if config is not None else {}, overrides)
    modes = Modes(repeat=repeat, folds=folds, processes=nproc_per_node, launching=nproc_per_node is not None,
                  ensemble_flag=ensemble is not None)
    check_modes(settings, modes)  # resolve's first step: nothing is read or started before it
    if folds is not None:
        from ..cv import cross_validate, print_cv

        return print_cv(cross_validate(settings, folds))
    if nproc_per_node is not None:
        return _launch_train(nproc_per_node, config, overrides, out, overwrite, quiet)
    run = train_run(settings, out=out, quiet=quiet, overwrite=overwrite, repeat=repeat)
    if run is None:  # a DDP rank other than 0: rank 0 reports
        return
    if isinstance(run, list):
        print(f"runs: {run[0].dir.parent} ({len(run)} copies, comparison.csv)")
        return
    _say_done(run, quiet)


def _say_done(run, quiet: bool) -> None:
    """The last lines of train and resume alike: the scores (test, else validation: preset auto
    keeps no test rows out of a table), then where the report is."""
    summary = run.summary
    which = "test" if summary.get("test") else "validation"
    if which == "validation" and summary.get("ensemble_kind") == "bagging":
        which = "validation (out of fold)"
    scores = summary.get("test") or summary.get("val") or {}
    headline = "  ".join(f"{k} {scores[k]:.4f}" for k in ("accuracy", "f1_macro", "rmse", "r2") if k in scores)
    if not quiet and headline:
        print(f"{which}: {headline}")
    print(f"report: {run.dir / 'report.html'}")


def resume(
    run_dir: Path = typer.Argument(..., help="The run directory of an interrupted or crashed run."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output; print only the report path."),
) -> None:
    """Continue a run from its last checkpoint (bit-identical to an uninterrupted run on CPU).
    A run trained by several processes restarts with as many."""
    from .. import distributed
    from ..run import resume as resume_run, trained_by

    if distributed.worker_env() is None and trained_by(run_dir) > 1:
        distributed.launch(trained_by(run_dir), ["resume", str(run_dir)] + (["--quiet"] if quiet else []))
        return
    run = resume_run(run_dir, quiet=quiet)
    if run is not None:  # None: a DDP rank other than 0
        _say_done(run, quiet)  # resume printed no test scores, which train does


def _launch_train(nproc_per_node: int, config: Optional[Path], overrides: list, out: Optional[Path],
                  overwrite: bool, quiet: bool) -> None:
    """Start the workers (the config and modes were checked: one line, no workers started): each
    runs this same command without --nproc-per-node: --set text as given, flags as --flags-json."""
    from .. import distributed
    from ..errors import LayerwiseError

    if distributed.worker_env() is not None:
        raise LayerwiseError("--nproc-per-node: already started by torchrun (RANK is set); leave the flag out")
    command = ["train"] + ([str(config)] if config is not None else [])
    for item in overrides:  # user --set text as given; the typed flags once, as JSON
        command += ["--set", item] if isinstance(item, str) else ["--flags-json", json.dumps(item)]
    command += (["--out", str(out)] if out is not None else []) + (["--overwrite"] if overwrite else [])
    distributed.launch(nproc_per_node, command + (["--quiet"] if quiet else []))
