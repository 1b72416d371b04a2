"""`layerwise train`: a YAML config, `--set key=value` overrides, and/or flags."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import LayerwiseError

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
    "precision": "training.precision", "log": "training.log", "features": "data.features",
    "ignore": "data.ignore", "id_column": "data.id_column", "drop_missing_target": "data.drop_missing_target", "mlflow_uri": "training.mlflow_uri",
}


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("resume")(resume)


def train(
    config: Optional[Path] = typer.Argument(None, help="YAML config file (optional when flags say enough)."),
    data: Optional[str] = typer.Option(None, "--data", help="Data source: builtin:NAME, file.csv|.tsv|.parquet|.npz, mnist:DIR."),
    target: Optional[List[str]] = typer.Option(None, "--target", help="Target column(s) of a table: --target price, or --target a b."),
    features: Optional[List[str]] = typer.Option(None, "--features", help="Use only these columns as features: --features age fare."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Columns never used as features: --ignore rownames."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="Row ID column: not a feature; copied into predictions."),
    drop_missing_target: Optional[bool] = typer.Option(None, "--drop-missing-target/--no-drop-missing-target", help="Skip rows whose target is missing (default: stop with an error)."),
    hidden: Optional[List[int]] = typer.Option(None, "--hidden", help="Hidden layer sizes: --hidden 100 50."),
    activation: Optional[List[str]] = typer.Option(None, "--activation", help="relu|sigmoid|tanh|leaky_relu|gelu|elu|softplus|identity; one, or one per hidden layer."),
    epochs: Optional[int] = typer.Option(None, "--epochs"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Rows per step; 0 = full batch."),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="sgd|adam|adamw|rmsprop"),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate."),
    momentum: Optional[float] = typer.Option(None, "--momentum"),
    nesterov: Optional[bool] = typer.Option(None, "--nesterov/--no-nesterov"),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay"),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="none|step|cosine|onecycle|plateau"),
    grad_clip: Optional[float] = typer.Option(None, "--grad-clip", help="Max global gradient norm."),
    class_weights: Optional[str] = typer.Option(None, "--class-weights", help="'balanced' or a list like [1,2,1]."),
    dropout: Optional[float] = typer.Option(None, "--dropout"),
    batch_norm: Optional[bool] = typer.Option(None, "--batch-norm/--no-batch-norm"),
    bias: Optional[bool] = typer.Option(None, "--bias/--no-bias"),
    init: Optional[str] = typer.Option(None, "--init", help="default|xavier|kaiming"),
    task: Optional[str] = typer.Option(None, "--task", help="auto|multiclass|binary|regression"),
    loss: Optional[str] = typer.Option(None, "--loss", help="auto|cross_entropy|bce|mse|l1|huber"),
    val_split: Optional[float] = typer.Option(None, "--val-split", help="Validation fraction of train (default 0.2)."),
    test_split: Optional[float] = typer.Option(None, "--test-split", help="Test fraction when the source has no test part."),
    val_data: Optional[str] = typer.Option(None, "--val-data", help="Explicit validation source."),
    test_data: Optional[str] = typer.Option(None, "--test-data", help="Explicit test source."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Early-stopping patience in epochs."),
    no_early_stopping: bool = typer.Option(False, "--no-early-stopping", help="Train all epochs; still restores the best weights."),
    seed: Optional[int] = typer.Option(None, "--seed"),
    checkpoint_every: Optional[int] = typer.Option(None, "--checkpoint-every", help="Also checkpoint every N steps (epoch ends always)."),
    on_nan: Optional[str] = typer.Option(None, "--on-nan", help="stop (default) | skip-batch"),
    precision: Optional[str] = typer.Option(None, "--precision", help="fp32 (default) | bf16 autocast"),
    folds: Optional[int] = typer.Option(None, "--folds", min=2, help="k-fold cross-validation: train K models (stratified folds of train+validation), print per-fold and mean metrics; writes nothing."),
    log: Optional[List[str]] = typer.Option(None, "--log", help="Also log metrics to tensorboard (<run>/tensorboard) or mlflow; repeatable. Optional extras."),
    mlflow_uri: Optional[str] = typer.Option(None, "--mlflow-uri", help="MLflow tracking store for --log mlflow (default sqlite:///mlflow.db)."),
    repeat: int = typer.Option(1, "--repeat", min=1, help="Train N copies at once (seeds seed..seed+N-1), one run directory each."),
    nproc_per_node: Optional[int] = typer.Option(None, "--nproc-per-node", min=1, help="Train one run with N processes on this machine (DDP: gloo on CPU, NCCL with a GPU each); torchrun works too."),
    resume_dir: Optional[Path] = typer.Option(None, "--resume", help="Continue this run directory instead of starting a new one."),
    device: Optional[str] = typer.Option(None, "--device", help="auto|cpu|cuda|mps"),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default runs/<data>-<timestamp>)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run in --out."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override any config key: --set training.lr=0.01"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output; print only the run directory."),
) -> None:
    """Train a network and write its run directory (metrics, plots, model, report)."""
    import yaml

    from ..run import train as train_run
    from ..safe_yaml import parse_value

    if resume_dir is not None:
        return resume(resume_dir, quiet=quiet)
    flags = {name: value for name, value in locals().items() if name in FLAG_KEYS and value is not None}
    overrides = list(set_ or [])
    for name, value in flags.items():
        if name == "activation" and len(value) == 1:
            value = value[0]
        if name in ("class_weights",):
            value = parse_value(value, "--class-weights")
        overrides.append(f"{FLAG_KEYS[name]}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}")
    if no_early_stopping:
        overrides.append("training.early_stopping.enabled=false")
    if folds is not None:
        if repeat > 1:
            raise LayerwiseError("--folds and --repeat cannot be combined")
        if nproc_per_node is not None:
            raise LayerwiseError("--folds and --nproc-per-node cannot be combined")
        from ..cv import cross_validate, print_cv
        from ..run import as_config

        return print_cv(cross_validate(as_config(config if config is not None else {}, overrides), folds))
    if nproc_per_node is not None:
        return _launch_train(nproc_per_node, config, overrides, out, overwrite, quiet, repeat)
    run = train_run(config if config is not None else {}, overrides=overrides, out=out, quiet=quiet,
                    overwrite=overwrite, repeat=repeat)
    if run is None:  # a DDP rank other than 0: rank 0 reports
        return
    if isinstance(run, list):
        print(f"runs: {run[0].dir.parent} ({len(run)} copies, comparison.csv)")
        return
    test = run.summary.get("test") or {}
    headline = "  ".join(f"{k} {test[k]:.4f}" for k in ("accuracy", "f1_macro", "rmse", "r2") if k in test)
    if not quiet and headline:
        print(f"test: {headline}")
    print(f"report: {run.dir / 'report.html'}")


def resume(
    run_dir: Path = typer.Argument(..., help="The run directory of an interrupted or crashed run."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
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
        print(f"report: {run.dir / 'report.html'}")


def _launch_train(nproc_per_node: int, config: Optional[Path], overrides: list[str], out: Optional[Path],
                  overwrite: bool, quiet: bool, repeat: int) -> None:
    """Check what can be checked here (one line, no workers started), then start the workers:
    each runs this same command without --nproc-per-node, with the flags as --set overrides."""
    from .. import distributed
    from ..errors import LayerwiseError
    from ..run import as_config

    if distributed.worker_env() is not None:
        raise LayerwiseError("--nproc-per-node: already started by torchrun (RANK is set); leave the flag out")
    if repeat > 1:
        raise LayerwiseError("--nproc-per-node cannot be combined with --repeat: train the copies "
                             "in one process, or one DDP run at a time")
    settings = as_config(config if config is not None else {}, overrides)
    distributed.check_batch(settings.training.batch_size, nproc_per_node)
    command = ["train"] + ([str(config)] if config is not None else [])
    for item in overrides:
        command += ["--set", item]
    command += (["--out", str(out)] if out is not None else []) + (["--overwrite"] if overwrite else [])
    distributed.launch(nproc_per_node, command + (["--quiet"] if quiet else []))
