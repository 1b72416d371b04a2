""".npy / .npz headers read and judged before numpy allocates or reads any array data.

A .npy header names the dtype and shape; numpy allocates `prod(shape) * itemsize` bytes from it
before it reads a byte of data, and an object (`|O`) dtype means the data is a pickle. So the
header is read first (numpy's own parser, `numpy.lib.format`), and refused when it declares
Python objects (layerwise never unpickles), more bytes than the file or zip member holds, or more
than the memory budget allows.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import LayerwiseError
from . import budget

MAX_HEADER_BYTES = 10_000  # numpy's own default bound on a header's length


def _header(handle, where: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length in bytes) of the .npy stream at its start."""
    from numpy.lib import format as npy_format

    try:
        version = npy_format.read_magic(handle)
        read = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
        shape, _fortran, dtype = read(handle, max_header_size=MAX_HEADER_BYTES)
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerwiseError(f"{where}: not a readable .npy array ({first})") from None
    if dtype.hasobject:
        raise LayerwiseError(f"{where}: holds Python objects (dtype {dtype}), which only unpickling could read; "
                             "layerwise never unpickles: save numbers or text (e.g. arr.astype(float))")
    return tuple(int(n) for n in shape), dtype, handle.tell()


def _nbytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return math.prod(shape) * dtype.itemsize  # Python ints: no overflow for lying shapes


def check_npy(path: Path, max_bytes: Optional[int] = None) -> int:
    """Judge a .npy file's header; returns the bytes its data declares."""
    try:
        with open(path, "rb") as handle:
            shape, dtype, offset = _header(handle, str(path))
    except OSError as exc:
        raise LayerwiseError(f"{path}: cannot read .npy ({exc.strerror or exc})") from None
    needed = _nbytes(shape, dtype)
    held = path.stat().st_size - offset
    if needed > held:
        raise LayerwiseError(f"{path}: header declares shape {shape} of {dtype} ({needed:,} bytes), "
                             f"the file holds {held:,} bytes of data")
    budget.check(path, f"shape {shape} of {dtype}", needed, max_bytes)
    return needed


def check_npz(path: Path, names: tuple[str, ...], max_bytes: Optional[int] = None) -> list[str]:
    """Judge the headers of the arrays `names` in a .npz (a zip of .npy files) before numpy reads
    them; returns every array name in the archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            total = 0
            for name in names:
                if name in members:
                    total += _check_member(archive, members[name], f"{path}:{name}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerwiseError(f"{path}: cannot read .npz ({first})") from None
    budget.check(path, f"arrays {', '.join(n for n in names if n in members)}", total, max_bytes)
    return list(members)


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> int:
    # The zip's own sizes first: DEFLATE expands at most 1032:1, so a member declaring more than
    # that per compressed byte lies (zipfile stops at the declared size, numpy at the header's).
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > budget.MAX_GZIP_RATIO * max(info.compress_size, 1):
        raise LayerwiseError(f"{where}: zip entry declares {info.file_size:,} bytes from {info.compress_size:,} "
                             f"compressed, more than DEFLATE can expand (at most {budget.MAX_GZIP_RATIO}:1)")
    with archive.open(info) as handle:
        shape, dtype, offset = _header(handle, where)
    needed = _nbytes(shape, dtype)
    if offset + needed > info.file_size:
        raise LayerwiseError(f"{where}: header declares shape {shape} of {dtype} ({needed:,} bytes), "
                             f"the archive entry holds {max(info.file_size - offset, 0):,} bytes of data")
    return needed
