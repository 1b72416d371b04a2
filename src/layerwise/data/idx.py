"""Reader for the IDX files MNIST and Fashion-MNIST ship in (`train-images-idx3-ubyte[.gz]` ...).

IDX layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code, the number of
dimensions, then one big-endian uint32 per dimension, then the data, big-endian, row-major.
Hand-written because it is 30 lines and torchvision (the usual reader) has no CPU build here.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import LayerwiseError

# type code -> numpy dtype (big-endian where it matters)
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise LayerwiseError(f"{path}: cannot read IDX file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise LayerwiseError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise LayerwiseError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise LayerwiseError(
            f"{path}: IDX data has {len(raw) - header} bytes, header promises {expected} for shape {shape}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


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


def read_mnist_dir(directory: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) from a directory of IDX files."""
    directory = Path(directory)
    if not directory.is_dir():
        raise LayerwiseError(f"mnist:{directory}: directory not found")
    parts = [read_idx(_find(directory, stem)) for stem in (
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
