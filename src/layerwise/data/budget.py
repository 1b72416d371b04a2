"""How much memory one data file may make layerwise allocate, decided before allocating it.

Every reader learns from the file's own header (IDX dimensions, .npy shape and dtype, Parquet
metadata) or size (CSV text) how many bytes it would need, and asks `check` first. A file whose
header lies about its size, or whose compressed data would expand past the budget, is refused
in one line that names the file, what it declares and the limit.

The budget is `data.max_bytes` when the config sets it, else `DEFAULT_FRACTION` of the memory
this process may still use: the machine's available RAM, or a resource limit (ulimit -v / -d)
when one is lower.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..errors import LayerwiseError

# Half of what is free: the decoded array plus the float32 copy preprocessing makes fit beside it.
DEFAULT_FRACTION = 0.5
# DEFLATE cannot expand more than 1032:1 (RFC 1951 longest match per 2-bit code); a gzip member
# that claims more than this many bytes out per byte in is lying about its size.
MAX_GZIP_RATIO = 1032


def available_bytes() -> int:
    """Bytes this process may still allocate: free RAM, or a lower ulimit on memory."""
    candidates = []
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    if not candidates and hasattr(os, "sysconf"):
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            pass
    try:
        import resource

        for which in (resource.RLIMIT_AS, getattr(resource, "RLIMIT_DATA", resource.RLIMIT_AS)):
            soft = resource.getrlimit(which)[0]
            if soft != resource.RLIM_INFINITY and soft > 0:
                candidates.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    return min(candidates) if candidates else 8 * 2**30


def limit(max_bytes: Optional[int] = None) -> int:
    return int(max_bytes) if max_bytes else int(available_bytes() * DEFAULT_FRACTION)


def human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def check(path: str | Path, declared: str, needed: int, max_bytes: Optional[int] = None) -> None:
    """Refuse `needed` bytes (what `declared` says the file holds) over the budget."""
    budget = limit(max_bytes)
    if needed > budget:
        source = "data.max_bytes" if max_bytes else f"{DEFAULT_FRACTION:.0%} of available memory; set data.max_bytes"
        raise LayerwiseError(f"{path}: {declared} would take {human(needed)}; the memory budget is {human(budget)} ({source})")


# pandas' peak while parsing a CSV, per byte of text: measured 9.5x for one-digit integers (each
# 2-byte "1," becomes an 8-byte int64 plus parser buffers), 1.8x for random floats; the worst case
# is what is checked.
CSV_EXPANSION = 10


def check_table(path: Path, max_bytes: Optional[int] = None) -> None:
    """A CSV is judged by its size; a Parquet file by what its footer declares (rows x columns
    as 8-byte values, or the row groups' uncompressed bytes, whichever is larger)."""
    if path.suffix.lower() not in (".parquet", ".pq"):
        size = path.stat().st_size
        check(path, f"{size:,} bytes of text (x{CSV_EXPANSION} while parsing)", size * CSV_EXPANSION, max_bytes)
        return
    try:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        rows, columns = int(meta.num_rows), int(meta.num_columns)
        unpacked = sum(int(meta.row_group(i).total_byte_size) for i in range(meta.num_row_groups))
    except ImportError:
        return  # pandas will say that Parquet needs pyarrow
    except Exception as exc:  # pyarrow's own error types for a corrupt footer
        raise LayerwiseError(f"{path}: cannot read table ({type(exc).__name__}: corrupt Parquet footer)") from None
    check(path, f"{rows:,} rows x {columns:,} columns", max(rows * columns * 8, unpacked), max_bytes)
