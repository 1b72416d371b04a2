"""Output files the user names (-o), checked before any work: a folder where a file is meant is one
line naming the flag, not an OSError traceback from the last step (the atomic rename)."""

from __future__ import annotations

from pathlib import Path


def output_file(path: Path, flag: str, make_parents: bool = False) -> Path:
    """`path` if a file can be written there; `make_parents`: the command creates missing folders."""
    from ..errors import LayerwiseError

    if path.is_dir():
        raise LayerwiseError(f"{flag} {path}: is a directory; name a file in it")
    folder = path.parent
    while make_parents and not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the nearest folder that exists must be one, the rest are made
    if folder.exists() and not folder.is_dir():
        raise LayerwiseError(f"{flag} {path}: {folder} is not a folder")
    if not folder.is_dir():
        raise LayerwiseError(f"{flag} {path}: folder {folder} does not exist")
    return path
