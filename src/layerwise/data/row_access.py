"""How preprocessing reads rows without copying a source whole: float64 row chunks of a DataFrame's
columns (FrameRows) or of a Parquet file's, a row group at a time (parquet_rows.py), and handing a
memory-mapped .npy's pages back to the kernel once a chunk is done."""

from __future__ import annotations

import sys

import numpy as np


class FrameRows:
    """Row chunks of a DataFrame's columns as float64 arrays, so big tables are never copied whole
    (a 1M x 100 float32 Parquet table would otherwise become an 800 MB float64 matrix)."""

    def __init__(self, frame):
        self.frame = frame
        self.shape = frame.shape

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, tuple):
            rows, column = key
            return self.frame.iloc[rows, column].to_numpy(dtype=np.float64, na_value=np.nan)
        return self.frame.iloc[key].to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_rows(frame, names: list[str]):
    """Row chunks of the numeric columns `names` as float64: a DataFrame's (FrameRows), or a
    Parquet file's read a row group at a time (data/parquet_rows.py, DDP ranks)."""
    return frame.numeric_rows(names) if hasattr(frame, "numeric_rows") else FrameRows(frame[names])


def file_backed(array) -> bool:
    """True for a memory-mapped array or any view of one (np.asarray drops the memmap type)."""
    import mmap

    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def release_pages(matrix, start: int, stop: int) -> None:
    """Tell the kernel that rows start..stop of a memory-mapped file are done with, so a scan
    over a big .npy keeps only a chunk resident (the file stays in the page cache; touching the
    rows again just maps them back). No-op for arrays in ordinary memory."""
    if not file_backed(matrix) or not matrix.flags.c_contiguous or sys.platform != "linux":
        return
    import ctypes
    import mmap

    row_bytes = matrix.strides[0]
    first = matrix.ctypes.data + start * row_bytes
    aligned = first - first % mmap.PAGESIZE
    length = matrix.ctypes.data + stop * row_bytes - aligned
    length -= length % mmap.PAGESIZE  # whole pages only: a partial page may hold the next rows
    if length > 0:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise(ctypes.c_void_p(aligned), ctypes.c_size_t(length), mmap.MADV_DONTNEED)
