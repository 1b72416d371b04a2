"""The run directory: atomic writes, the run's state, and the saved model.

Every file is written to a temporary file in the same directory, flushed, fsynced and renamed
over its final name, so a reader sees either the old file or the new one, never half of one.
`status.json` says whether a run is `running` (with the pid, host and process start time),
`complete` or `failed` (with the reason); a `running` run whose process has died reads as
`crashed`. Only a `complete` run is a finished one.
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

MODEL_FORMAT = "layerwise-model"
MODEL_FORMAT_VERSION = 1


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
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
        if not ((run_dir / "status.json").exists() or (run_dir / "model.json").exists()):
            raise LayerwiseError(f"--out {run_dir}: directory is not empty and is not a layerwise run")
        if not overwrite:
            state = read_status(run_dir).get("state", "unknown")
            raise LayerwiseError(f"--out {run_dir}: already holds a {state} run; pass --overwrite to replace it")
        _clear_run_files(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


RUN_FILES = ("status.json", "config.yaml", "metrics.csv", "loss.png", "confusion.png", "model.safetensors",
             "model.json", "summary.json", "report.html", "eval.json", "checkpoint.safetensors",
             "checkpoint.json")


def _clear_run_files(run_dir: Path) -> None:
    # Only our own files: --overwrite must never delete something the user put there.
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)


def set_status(run_dir: Path, state: str, reason: Optional[str] = None) -> None:
    status = {"state": state, "reason": reason, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "layerwise_version": __version__}
    if state == "running":  # who is running it, so a reader can tell a live run from a killed one
        status.update(pid=os.getpid(), host=socket.gethostname(), process_started=_process_start(os.getpid()))
    write_json(run_dir / "status.json", status)


def read_status(run_dir: Path) -> dict:
    """status.json; a `running` run whose process is gone (killed by the OS or kill -9, so it never
    wrote `failed`) reads as `crashed`, which `layerwise resume` continues."""
    path = Path(run_dir) / "status.json"
    if not path.is_file():
        return {}
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
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


# ---- model -------------------------------------------------------------------------------------
def save_model(run_dir: Path, model, meta: dict) -> None:
    from safetensors.torch import save

    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    weights = save(state)
    atomic_write_bytes(run_dir / "model.safetensors", weights)
    # The checksum ties the two files together: a flipped bit or a swapped weights file is an
    # error at load time, not a silently different model.
    write_json(run_dir / "model.json", {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
                                        "layerwise_version": __version__,
                                        "weights_sha256": hashlib.sha256(weights).hexdigest(), **meta})


def load_model_files(run_dir: str | Path) -> tuple[dict, dict]:
    """(model.json dict, state dict of CPU tensors) with clear errors for every bad case."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise LayerwiseError(f"{run_dir}: run directory not found")
    meta = read_json(run_dir / "model.json", "model.json")
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise LayerwiseError(f"{run_dir}/model.json: not a layerwise model file")
    if meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise LayerwiseError(f"{run_dir}/model.json: format version {meta.get('format_version')} "
                             f"is not supported by layerwise {__version__} (expects {MODEL_FORMAT_VERSION})")
    weights = run_dir / "model.safetensors"
    if not weights.is_file():
        raise LayerwiseError(f"{weights}: model weights not found")
    from safetensors.torch import load

    data = weights.read_bytes()
    expected = meta.get("weights_sha256")
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise LayerwiseError(f"{weights}: does not match model.json (checksum differs: truncated, corrupted or replaced)")
    try:
        state = load(data)
    except Exception as exc:  # safetensors raises its own error type for bad headers and sizes
        raise LayerwiseError(f"{weights}: corrupt or truncated weights file ({type(exc).__name__})") from None
    return meta, state
