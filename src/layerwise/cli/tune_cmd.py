"""`layerwise tune`: hyperparameter search over the config's `search:` section (needs optuna)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("tune")(tune)


def tune(
    config: Path = typer.Argument(..., help="YAML config with a `search:` section (dotted keys, as --set)."),
    trials: int = typer.Option(20, "--trials", help="Finished trials (complete + pruned) the study should hold."),
    storage: Optional[str] = typer.Option(None, "--storage", help="sqlite:///PATH.db (default OUT/study.db), journal:PATH, or a database URL."),
    study: Optional[str] = typer.Option(None, "--study", help="Study name (default: the config file's name)."),
    out: Path = typer.Option(Path("tune-out"), "--out", help="Folder for trials.csv, best.yaml, best/ and report.html."),
    workers: int = typer.Option(1, "--workers", help="Local worker processes sharing the study."),
    folds: Optional[int] = typer.Option(None, "--folds", help="Score each trial by K-fold cross-validation (mean)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Start no new trial after this many seconds."),
    seed: int = typer.Option(0, "--seed", help="Sampler and training seeds derive from this and the trial number."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a config key: --set training.epochs=30"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only where the outputs are."),
) -> None:
    """Search hyperparameters with Optuna; rerun the same command to continue a crashed study."""
    from ..errors import LayerwiseError

    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise LayerwiseError("layerwise tune needs optuna: pip install 'layerwise[tune]'") from None
    from ..tune import tune as run_tune

    run_tune(config, trials=trials, storage=storage, study=study, out=out, workers=workers, folds=folds,
             timeout=timeout, seed=seed, quiet=quiet, overrides=list(set_ or []))
