"""Where a study lives: an Optuna RDB storage (sqlite:///PATH.db by default) or a journal file.

Several local workers on one SQLite file: SQLite allows one writer at a time, and a writer that
finds the file locked fails at once with "database is locked" unless it is told to wait. Optuna's
documented remedy is to pass the driver's busy timeout through `engine_kwargs`; we wait up to
SQLITE_TIMEOUT seconds, far longer than any of Optuna's writes take, so workers queue instead of
failing. Optuna's heartbeat (`heartbeat_interval` + `grace_period`) marks a trial FAIL when the
process running it died (kill -9, a lost machine), so a rerun can replace it. `journal:PATH` gives
Optuna's JournalStorage (an append-only log file with its own file lock, the store Optuna
recommends for many processes on one machine without a database server); it has no heartbeat,
so there the dead-process check in `study.py` is what frees a killed trial.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from ..errors import LayerwiseError

SQLITE_TIMEOUT = 120.0  # seconds a worker waits for SQLite's write lock
HEARTBEAT_INTERVAL = 5  # seconds between a running trial's heartbeats
GRACE_PERIOD = 60  # a RUNNING trial silent this long is failed (generous: a busy CPU delays threads)


def check_url(url: str) -> None:
    if not (url.startswith("journal:") and len(url) > len("journal:")) and "://" not in url:
        raise LayerwiseError(f"--storage {url}: expected sqlite:///PATH.db, journal:PATH, "
                             "or another database URL (postgresql://...)")


def open_storage(url: str):
    import optuna

    check_url(url)
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        path = Path(url.removeprefix("journal:"))
        _need_parent(path, url)
        return JournalStorage(JournalFileBackend(str(path)))
    engine_kwargs = {}
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:///")
        if path and path != url and not path.startswith(":memory:"):
            _need_parent(Path(path), url)
        engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT}}
    for attempt in range(4):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat: stable for years
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                                  heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD)
        except Exception as exc:  # a bad URL, a missing driver, a file that is not a database
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "already exists" in first and attempt < 3:  # two processes created the tables at once
                time.sleep(0.5)
                continue
            raise LayerwiseError(f"--storage {url}: cannot open ({first})") from None


def _need_parent(path: Path, url: str) -> None:
    if path.exists() and path.is_dir():
        raise LayerwiseError(f"--storage {url}: {path} is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent that is a file, or a read-only place
        raise LayerwiseError(f"--storage {url}: cannot create the folder {path.parent} ({exc.strerror or exc})") from None
