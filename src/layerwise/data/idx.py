"""Reader for the IDX files MNIST and Fashion-MNIST ship in (`train-images-idx3-ubyte[.gz]` ...).

IDX layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code, the number of
dimensions, then one big-endian uint32 per dimension, then the data, big-endian, row-major.
Hand-written because it is 30 lines and torchvision (the usual reader) has no CPU build here.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import LayerwiseError
from .budget import MAX_GZIP_RATIO
from .budget import check as check_budget

# type code -> numpy dtype (big-endian where it matters)
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path, max_bytes: Optional[int] = None) -> np.ndarray:
    """The array of one IDX file. The header's shape is checked against the file's size and the
    memory budget before any data is read; gzip is decompressed in bounded chunks, never more
    than the header declares plus one byte (to notice a longer stream)."""
    path = Path(path)
    packed = path.suffix == ".gz"
    try:
        with (gzip.open if packed else open)(path, "rb") as handle:
            dtype, shape, header = _read_header(handle, path)
            expected = math.prod(shape) * dtype.itemsize  # Python ints: 65535**4 does not wrap
            _check_size(path, packed, header + expected, shape)
            check_budget(path, f"IDX header shape {shape}", expected, max_bytes)
            raw, got, longer = _read_exactly(handle, expected)
    except (OSError, EOFError, zlib.error) as exc:
        raise LayerwiseError(f"{path}: cannot read IDX file ({exc})") from None
    if got != expected or longer:
        held = "more than" if longer else f"{got:,} bytes, not"
        raise LayerwiseError(f"{path}: IDX data has {held} the {expected:,} bytes its header promises for shape {shape}")
    return raw.view(dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def _read_header(handle, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    magic = handle.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _DTYPES:
        raise LayerwiseError(f"{path}: not an IDX file (bad magic number)")
    ndim = magic[3]
    sizes = handle.read(4 * ndim)
    if ndim == 0 or len(sizes) < 4 * ndim:
        raise LayerwiseError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(sizes[4 * i: 4 * i + 4], "big") for i in range(ndim))
    return np.dtype(_DTYPES[magic[2]]), shape, 4 + 4 * ndim


def _check_size(path: Path, packed: bool, total: int, shape: tuple) -> None:
    """The header's promise against the bytes on disk: exact for raw files; for gzip, at most what
    DEFLATE's largest ratio can expand the file to."""
    size = path.stat().st_size
    if not packed and size != total:
        raise LayerwiseError(f"{path}: IDX header promises shape {shape} ({total:,} bytes with the header), "
                             f"the file holds {size:,} bytes")
    if packed and total > size * MAX_GZIP_RATIO:
        raise LayerwiseError(f"{path}: IDX header promises shape {shape} ({total:,} bytes), more than a "
                             f"{size:,}-byte gzip file can hold (at most {MAX_GZIP_RATIO}:1)")


def _read_exactly(handle, expected: int, chunk: int = 16 * 2**20) -> tuple[np.ndarray, int, bool]:
    """(buffer, bytes read, whether more followed). One allocation of the declared size (already
    within the budget), filled in chunks, so a short stream never costs more than it declared."""
    buffer = np.empty(expected, dtype=np.uint8)  # np.empty: pages are touched only as data arrives
    view, got = memoryview(buffer), 0
    while got < expected:
        count = handle.readinto(view[got:got + chunk])
        if not count:
            break
        got += count
    return buffer, got, bool(handle.read(1))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write an IDX file (used by tests to make small MNIST-shaped data)."""
    path = Path(path)
    codes = {np.dtype(v).newbyteorder(">"): k for k, v in _DTYPES.items()}
    big = array.astype(np.dtype(array.dtype).newbyteorder(">"))
    header = bytes([0, 0, codes[big.dtype], array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(header + big.tobytes())


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise LayerwiseError(f"{directory}: missing {stem}[.gz] (expected the standard MNIST IDX files)")


def read_mnist_dir(directory: str | Path, max_bytes: Optional[int] = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) from a directory of IDX files."""
    directory = Path(directory)
    if not directory.is_dir():
        raise LayerwiseError(f"mnist:{directory}: directory not found")
    parts = [read_idx(_find(directory, stem), max_bytes) for stem in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
    for images, labels, split in ((parts[0], parts[1], "train"), (parts[2], parts[3], "t10k")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise LayerwiseError(
                f"mnist:{directory}: {split} images {images.shape} and labels {labels.shape} do not match"
            )
        if len(images) == 0:
            raise LayerwiseError(f"mnist:{directory}: the {split} files hold no images")
    return parts[0], parts[1], parts[2], parts[3]
