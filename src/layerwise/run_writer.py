"""Writing a run directory: status first and last, the resolved config, the training itself
(checkpoints and metrics.csv as it goes) and the result files. `train`/`resume` (run.py) and
`--repeat` (many_runs.py) both write through here; file names and the model card are artifacts'.
"""

from __future__ import annotations

import contextlib
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from . import artifacts
from ._version import __version__
from .errors import LayerwiseError
from .spec import RunConfig


@dataclass
class Run:
    dir: Optional[Path]  # None for in-memory fits
    config: RunConfig
    history: list[dict[str, Any]]
    summary: dict[str, Any]
    predictor: Any = field(repr=False, default=None)

    def predict(self, X):
        return self.predictor.predict(X)

    def predict_proba(self, X):
        return self.predictor.predict_proba(X)


def run_in(run_dir: Path, config: RunConfig, prepared, session, quiet: bool, stream) -> Run:
    """Train `session` in `run_dir` and write every result file, status first and last."""
    with _run_status(run_dir):
        resolved = resolved_config(config, prepared, session)
        resolved["resolved"]["threads"] = session.threads
        artifacts.write_yaml(run_dir / artifacts.CONFIG, resolved)
        started = time.perf_counter()
        history, best_epoch = session.fit(run_dir, quiet, stream)
        summary = session.summarise(best_epoch, time.perf_counter() - started)
        predictor = write_results(run_dir, prepared, session.model, history, summary, resolved)
    return Run(run_dir, config, history, summary, predictor)


def write_finished(run_dir: Path, config: RunConfig, prepared, session, model, history, summary) -> Run:
    """A run directory for a network trained in a group (one of `--repeat`'s copies)."""
    with _run_status(run_dir):
        resolved = resolved_config(config, prepared, session)
        artifacts.write_yaml(run_dir / artifacts.CONFIG, resolved)
        predictor = write_results(run_dir, prepared, model, history, summary, resolved)
    return Run(run_dir, config, history, summary, predictor)


def write_results(run_dir: Path, prepared, model, history, summary, resolved: dict):
    """model, metrics, summary and report files; returns the run's predictor."""
    from .report import write_report

    artifacts.save_model(run_dir, model, card(prepared, model))
    artifacts.write_metrics_csv(run_dir / artifacts.METRICS, history)
    artifacts.write_json(run_dir / artifacts.SUMMARY, summary)
    predictor = _predictor(model, prepared)
    write_report(run_dir, prepared, predictor, history, summary, resolved)
    return predictor


@contextlib.contextmanager
def _run_status(run_dir: Path):
    """status.json: `running` while the block runs, then `complete`, `failed` or `interrupted`."""
    artifacts.set_status(run_dir, "running")
    try:
        yield
    except KeyboardInterrupt:
        artifacts.set_status(run_dir, "interrupted", "stopped by Ctrl-C")
        print(f"interrupted: checkpoint saved; continue with `layerwise resume {run_dir}`", file=sys.stderr)
        raise
    except LayerwiseError as exc:
        _hold_sigterm()
        artifacts.set_status(run_dir, "failed", str(exc))
        raise
    except Exception as exc:
        _hold_sigterm()
        artifacts.set_status(run_dir, "failed", f"{type(exc).__name__}: {exc}")
        raise
    artifacts.set_status(run_dir, "complete")


def _hold_sigterm() -> None:
    from .distributed import hold_sigterm  # a DDP worker: nothing may cut the failed status short

    hold_sigterm()


def _predictor(model, prepared):
    from .predictor import Predictor

    return Predictor(model.cpu(), prepared.preprocessor, prepared.encoder, card(prepared, model))


def card(prepared, model) -> dict:
    """The model card; an ensemble (ensemble.py) adds its member count and kind, absent for one network."""
    meta = artifacts.model_card(prepared)
    size = getattr(model, "size", 1)
    if isinstance(size, int) and size > 1:
        meta["ensemble"], meta["ensemble_kind"] = size, model.kind
    return meta


def resolved_config(config: RunConfig, prepared, session) -> dict:
    import torch

    from .resolve import resolved_settings

    has_val = len(prepared.val_idx) > 0 or prepared.val is not None
    resolved = resolved_settings(config, prepared.task, prepared.loss, prepared.arch, has_val)
    resolved["resolved"] = {"device": session.device, **session.parallel(), "layerwise_version": __version__,
                            "torch_version": str(torch.__version__), "python_version": platform.python_version(),
                            "train_rows": int(len(prepared.train_idx)), "val_rows": int(len(prepared.val_idx)),
                            "test_rows": int(len(prepared.test_idx))}
    return resolved
