"""The run directory's one owner: its file names, the model card (model.json: schema and format
version), status.json, the decision to write, and atomic writes. Everything that reads or writes
a run directory (run.py, checkpoints, reports, evaluate, serve, explain) goes through here.

Every file is written to a temporary file in the same directory, flushed, fsynced and renamed
over its final name, so a reader sees either the old file or the new one, never half of one.
`status.json` says whether a run is `running` (with the pid, host and process start time),
`complete` or `failed` (with the reason); a `running` run whose process has died reads as
`crashed`. Only a `complete` run is a finished one.

Only the writing process writes (`is_writer()`, True unless `set_writer(False)`): in a
data-parallel run every rank but 0 trains without touching the directory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from ._version import __version__
from .errors import LayerwiseError

# ---- the files of a run directory (docs/contracts.md) ----------------------------------------------
STATUS = "status.json"  # {"state": running|complete|failed|interrupted, "reason", "updated", ...}
CONFIG = "config.yaml"  # the resolved config: retraining from it gives the same run
METRICS = "metrics.csv"  # one row per epoch (the History)
SUMMARY = "summary.json"  # final metrics per split, best epoch, outcome, timing
MODEL_CARD = "model.json"  # task, network, preprocessing, classes: everything `load` needs
WEIGHTS = "model.safetensors"  # the network's tensors, checksummed in model.json
CHECKPOINT = "checkpoint.safetensors"  # full training state while a run is unfinished
REPORT, LOSS_PLOT, CONFUSION_PLOT = "report.html", "loss.png", "confusion.png"
EVAL = "eval.json"  # written by `layerwise evaluate`
COMPARISON = "comparison.csv"  # the parent directory of `--repeat` copies
RUN_FILES = (STATUS, CONFIG, METRICS, LOSS_PLOT, CONFUSION_PLOT, WEIGHTS, MODEL_CARD, SUMMARY, REPORT,
             EVAL, CHECKPOINT)

MODEL_FORMAT = "layerwise-model"
MODEL_FORMAT_VERSION = 1  # a version-1 card is tests/fixtures/v1: it must keep loading identically

_writer = True


def set_writer(is_writer: bool) -> None:
    """Whether this process writes run directories (False on data-parallel ranks other than 0)."""
    global _writer
    _writer = bool(is_writer)


def is_writer() -> bool:
    return _writer


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    if not _writer:  # every write goes through here: one place decides
        return
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600 files; the file we leave behind gets what open() would give (0644 at umask 022)
        os.chmod(tmp, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def current_umask() -> int:
    """The process umask, read without changing it where possible (os.umask sets it process-wide)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    # The rename itself is durable only once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=True) + "\n")


def write_yaml(path: str | Path, obj: Any) -> None:
    import yaml

    atomic_write_text(path, yaml.safe_dump(obj, sort_keys=False))


def write_metrics_csv(path: str | Path, history: list[dict]) -> None:
    buffer = io.StringIO()
    columns = list(dict.fromkeys(key for row in history for key in row))
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    atomic_write_text(path, buffer.getvalue())


def read_json(path: str | Path, what: str) -> Any:
    path = Path(path)
    if not path.is_file():
        raise LayerwiseError(f"{path}: {what} not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:  # Recursion: nested too deeply
        raise LayerwiseError(f"{path}: {what} is corrupt ({type(exc).__name__})") from None


# ---- run directory -----------------------------------------------------------------------------
def default_run_dir(name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{name}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def create_run_dir(out: Optional[str | Path], name: str, overwrite: bool = False) -> Path:
    """Make the run directory; refuse to reuse one holding another run unless `overwrite`."""
    run_dir = Path(out) if out else default_run_dir(name)
    if run_dir.exists() and not run_dir.is_dir():
        raise LayerwiseError(f"--out {run_dir}: exists and is not a directory")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        if not ((run_dir / STATUS).exists() or (run_dir / MODEL_CARD).exists()):
            raise LayerwiseError(f"--out {run_dir}: directory is not empty and is not a layerwise run")
        if not overwrite:
            state = read_status(run_dir).get("state", "unknown")
            raise LayerwiseError(f"--out {run_dir}: already holds a {state} run; pass --overwrite to replace it")
        if _writer:
            _clear_run_files(run_dir)
    if _writer:
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a read-only or impossible place: the user's path, not a bug
            raise LayerwiseError(f"--out {run_dir}: cannot create the run directory ({exc.strerror or exc})") from None
    return run_dir




def _clear_run_files(run_dir: Path) -> None:
    # Only our own files: --overwrite must never delete something the user put there.
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)


def set_status(run_dir: Path, state: str, reason: Optional[str] = None) -> None:
    status = {"state": state, "reason": reason, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "layerwise_version": __version__}
    if state == "running":  # who is running it, so a reader can tell a live run from a killed one
        status.update(pid=os.getpid(), host=socket.gethostname(), process_started=_process_start(os.getpid()))
    write_json(Path(run_dir) / STATUS, status)


def read_status(run_dir: Path) -> dict:
    """status.json; a `running` run whose process is gone (killed by the OS or kill -9, so it never
    wrote `failed`) reads as `crashed`, which `layerwise resume` continues."""
    path = Path(run_dir) / STATUS
    if not path.is_file():
        return {}
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return {"state": "unknown"}
    if not isinstance(status, dict):
        return {"state": "unknown"}
    if status.get("state") == "running" and not _still_running(status):
        status = {**status, "state": "crashed",
                  "reason": f"process {status.get('pid')} on {status.get('host')} ended while the run was "
                            f"running (killed?); continue with `layerwise resume {run_dir}`"}
    return status


def _process_start(pid: int) -> Optional[str]:
    """An identity for process `pid` that a reused PID does not share: the boot id and the start
    time in clock ticks after boot (/proc/PID/stat field 22). None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent: gone all the same
        return "ended"
    return f"{boot}:{fields[19]}"


def _still_running(status: dict) -> bool:
    pid = status.get("pid")
    if not isinstance(pid, int) or status.get("host") != socket.gethostname():
        return True  # an older status without a pid, or another machine: cannot tell from here
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        pass  # exists (another user's)
    now = _process_start(pid)
    if now == "ended":
        return False
    return now is None or status.get("process_started") in (None, now)


# ---- the model card and weights -------------------------------------------------------------------
def model_card(prepared) -> dict:
    """model.json's content (without the format fields) for a network trained on `prepared` data."""
    import torch

    return {"torch_version": str(torch.__version__), "task": prepared.task, "loss": prepared.loss,
            "network": prepared.arch.to_dict(), "preprocessing": prepared.preprocessor.to_dict(),
            "classes": prepared.encoder.classes, "targets": list(prepared.target_names or ["target"]),
            "target_scaling": prepared.encoder.scaling(),
            # columns of the training table that are not inputs: ignored without a warning at predict time
            "id_column": prepared.id_column,
            "unused_columns": list(prepared.dataset.unused_columns) if prepared.dataset is not None else []}


def save_model(run_dir: Path, model, card: dict) -> None:
    from safetensors.torch import save

    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    weights = save(state)
    atomic_write_bytes(run_dir / WEIGHTS, weights)
    # The checksum ties the two files together: a flipped bit or a swapped weights file is an
    # error at load time, not a silently different model.
    write_json(run_dir / MODEL_CARD, {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
                                      "layerwise_version": __version__,
                                      "weights_sha256": hashlib.sha256(weights).hexdigest(), **card})


def no_model_message(run_dir: Path) -> str:
    """Why a directory has no model.json: a run that has not finished yet, or no run at all."""
    state = read_status(run_dir).get("state")
    if state and state != "complete":  # an interrupted run was called "not a run directory"
        return f"{run_dir}: run is {state} and has no model yet; resume it (layerwise resume {run_dir}) or train again"
    return f"{run_dir}: not a run directory (no {MODEL_CARD})"


def read_model_card(run_dir: str | Path) -> dict:
    """model.json, checked: a layerwise model card of a format version this release reads."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise LayerwiseError(f"{run_dir}: run directory not found")
    path = run_dir / MODEL_CARD
    if not path.is_file():
        raise LayerwiseError(no_model_message(run_dir))
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LayerwiseError(f"{path}: {MODEL_CARD} is corrupt (not valid JSON: line {exc.lineno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise LayerwiseError(f"{path}: {MODEL_CARD} is corrupt (not UTF-8 text)") from None
    except RecursionError:  # json's decoder recurses once per nesting level
        raise LayerwiseError(f"{path}: {MODEL_CARD} is corrupt (nested too deeply)") from None
    if not isinstance(card, dict) or card.get("format") != MODEL_FORMAT:
        raise LayerwiseError(f"{path}: not a layerwise model file (format should be '{MODEL_FORMAT}')")
    if card.get("format_version") != MODEL_FORMAT_VERSION:
        raise LayerwiseError(f"{path}: format version {card.get('format_version')} "
                             f"is not supported by layerwise {__version__} (reads {MODEL_FORMAT_VERSION})")
    return card


def read_weights(run_dir: str | Path, card: dict) -> bytes:
    """model.safetensors' bytes, checked against the card's checksum."""
    weights = Path(run_dir) / WEIGHTS
    if not weights.is_file():
        raise LayerwiseError(f"{weights}: model weights not found")
    data = weights.read_bytes()
    expected = card.get("weights_sha256")
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise LayerwiseError(f"{weights}: does not match {MODEL_CARD} (checksum differs: truncated, corrupted or replaced)")
    return data


def load_model_files(run_dir: str | Path, framework: str = "pt") -> tuple[dict, dict]:
    """(model.json dict, state dict of CPU tensors) with clear errors for every bad case;
    framework="np" gives NumPy arrays instead and does not import torch."""
    if framework == "np":
        from safetensors.numpy import load
    else:
        from safetensors.torch import load

    card = read_model_card(run_dir)
    data = read_weights(run_dir, card)
    try:
        state = load(data)
    except Exception as exc:  # safetensors raises its own error type for bad headers and sizes
        raise LayerwiseError(f"{Path(run_dir) / WEIGHTS}: corrupt or truncated weights file ({type(exc).__name__})") from None
    return card, state
