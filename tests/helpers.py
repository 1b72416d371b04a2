"""Shared test helpers: run the CLI (in-process or as a real subprocess), check the
"one line, exit 2, no traceback" contract for user mistakes, and write small data files.

Data writers here are written independently of layerwise's own readers/writers (IDX headers are
packed with `struct` from the format description), so a reader test cannot pass by symmetry.
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import io
import json
import os
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

# ---- running the CLI ---------------------------------------------------------------------------


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(args: Iterable, cwd: Optional[Path] = None) -> CliResult:
    """`layerwise ARGS` inside this process: (exit code, stdout, stderr).

    A LayerwiseError becomes exit 2 inside `main`; any other exception is a bug and propagates,
    so the calling test fails with the real traceback.
    """
    from layerwise.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _chdir(cwd):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _chdir(path: Optional[Path]):
    if path is None:
        yield
        return
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_subprocess(args: Iterable, cwd: Optional[Path] = None, timeout: float = 120,
                   env: Optional[dict] = None) -> CliResult:
    """`python -m layerwise ARGS` as the user runs it (warnings and all reach stderr)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}, **(env or {})}
    done = subprocess.run([sys.executable, "-m", "layerwise", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return CliResult(done.returncode, done.stdout, done.stderr)


LIMIT_SECONDS = 10  # one hostile input: refused (or trained) within this wall time...
LIMIT_BYTES = 2**30  # ...and this much heap (RLIMIT_DATA)


def _limit_memory(limit: int = LIMIT_BYTES) -> None:
    # RLIMIT_DATA (heap and private anonymous mappings), not RLIMIT_AS: torch's shared libraries
    # alone reserve ~600 MB of address space, so `import torch` fails under a 1 GB RLIMIT_AS.
    import resource

    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def run_limited(args: Iterable, cwd: Optional[Path] = None, seconds: float = LIMIT_SECONDS) -> Optional[CliResult]:
    """`python -m layerwise ARGS` with at most `seconds` of wall time and 1 GiB of heap; None when
    the time ran out (the process is killed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    try:
        done = subprocess.run([sys.executable, "-m", "layerwise", *map(str, args)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=seconds, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        return None
    return CliResult(done.returncode, done.stdout, done.stderr)


def assert_user_error(result: CliResult, *fragments: str) -> str:
    """Exit 2, exactly one stderr line `error: ...` containing every fragment, no traceback. Lines
    `warning: ...` may come before it: what reading the data noticed before the mistake stopped it
    (a CSV read as Windows-1252, stray words read as gaps) is said too, each on its own line."""
    where = f"exit {result.code}\nstdout: {result.out[-2000:]}\nstderr: {result.err[-2000:]}"
    assert result.code == 2, where
    assert "Traceback" not in result.err + result.out, where
    lines = [line for line in result.err.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), where
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def assert_not_complete(run_dir: Path) -> None:
    """After a failure there is no run directory, or one whose status says it is not complete."""
    if not run_dir.exists():
        return
    status = run_dir / "status.json"
    assert status.is_file(), f"{run_dir} exists without status.json: {sorted(os.listdir(run_dir))}"
    assert json.loads(status.read_text())["state"] != "complete"


RUN_FILES = ("config.yaml", "metrics.csv", "loss.png", "model.safetensors", "model.json", "summary.json",
             "report.html", "status.json")


def assert_complete(run_dir: Path, classification: bool) -> None:
    for name in RUN_FILES + (("confusion.png",) if classification else ()):
        assert (run_dir / name).is_file(), f"{run_dir} lacks {name}"
    assert json.loads((run_dir / "status.json").read_text())["state"] == "complete"


def files_under(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


# ---- fuzz bookkeeping --------------------------------------------------------------------------

# (suite, command, exit code) -> cases; conftest.py sums these over xdist workers and prints them.
FUZZ_OUTCOMES: collections.Counter = collections.Counter()


def record_fuzz(suite: str, command: str, code: int) -> None:
    FUZZ_OUTCOMES[(suite, command, code)] += 1


# ---- data files --------------------------------------------------------------------------------

_IDX_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (http://yann.lecun.com/exdb/mnist/): 0, 0, type code, ndim, big-endian
    uint32 sizes, then big-endian data."""
    kind = array.dtype.kind + str(array.dtype.itemsize)
    header = struct.pack(">BBBB", 0, 0, _IDX_CODES[kind], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_bytes(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def synthetic_digits(n: int, seed: int, side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """(n, side, side) uint8 images and uint8 labels 0-9: class k lights a bar at a k-dependent
    place, plus noise; a small MLP separates them, a constant guess gets ~10%."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, side, side)).astype(np.float64)
    band = side // 5
    for i, k in enumerate(labels):
        row, col = (k // 5) * (side // 2), (k % 5) * band
        images[i, row:row + side // 2, col:col + band] += 150
    return np.clip(images, 0, 255).astype(np.uint8), labels


def make_mnist_dir(directory: Path, n_train: int = 600, n_test: int = 200, gz: bool = False,
                   seed: int = 0) -> Path:
    """A folder with the four MNIST IDX files holding synthetic digits."""
    directory.mkdir(parents=True, exist_ok=True)
    x, y = synthetic_digits(n_train + n_test, seed)
    suffix = ".gz" if gz else ""
    for stem, array in (("train-images-idx3-ubyte", x[:n_train]), ("train-labels-idx1-ubyte", y[:n_train]),
                        ("t10k-images-idx3-ubyte", x[n_train:]), ("t10k-labels-idx1-ubyte", y[n_train:])):
        write_bytes(directory / (stem + suffix), idx_bytes(array), gz)
    return directory


def mixed_table(n: int = 160, seed: int = 0):
    """A DataFrame with a numeric column, a numeric column with gaps, a categorical column with
    gaps and a string label that depends on all of them (learnable: ~90%+ for a small MLP)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    size = rng.normal(10.0, 3.0, size=n)
    weight = rng.normal(50.0, 10.0, size=n)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    score = (size - 10) / 3 + (weight - 50) / 10 + np.where(colour == "red", 1.5, -0.5)
    label = np.where(score > 0, "ripe", "raw").astype(object)
    weight[::7] = np.nan
    colour[::11] = None
    return pd.DataFrame({"size": size, "weight": weight, "colour": colour, "label": label})


# ---- one fuzz case -----------------------------------------------------------------------------

def examples(n: int) -> int:
    """A fuzz test's fixed example count; LAYERWISE_FUZZ_SCALE=10 tries ten times as many locally."""
    return n * int(os.environ.get("LAYERWISE_FUZZ_SCALE", "1"))


HANG_SECONDS = 120  # a generous bound on one tiny case: beyond it the case is stuck, not slow


class Hang(Exception):
    pass


@contextlib.contextmanager
def hang_guard(seconds: int = HANG_SECONDS):
    """Fail a case that runs longer than `seconds` (SIGALRM; pytest runs tests in the main thread)."""
    import signal

    def _stop(signum, frame):
        raise Hang(f"no result after {seconds} s: the case hangs")

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def fuzz_cli(suite: str, args: list, workdir: Path, run_dir: Optional[Path] = None) -> CliResult:
    """Run one fuzz case in `workdir` and check the promises that hold for every input:
    exit 0 or a one-line error with exit 2, no traceback, no hang, and nothing written except the
    run directory (`--out run` for train; eval.json inside `run_dir` for evaluate)."""
    before = files_under(workdir)
    watched = files_under(run_dir) if run_dir is not None else set()
    with hang_guard():
        result = run_cli(args, cwd=workdir)
    command = str(args[0])
    record_fuzz(suite, command, result.code)
    log_fuzz_case(suite, args, workdir, result.code, result.err)
    check_fuzz_outcome(command, result, workdir, before)
    if run_dir is not None:
        allowed = {"eval.json"} if command == "evaluate" and result.code == 0 else set()
        assert files_under(run_dir) - watched <= allowed
    return result


def fuzz_limited(suite: str, args: list, workdir: Path) -> CliResult:
    """One hostile case (a bomb, a lying header) as a real process held to LIMIT_SECONDS and
    LIMIT_BYTES of heap, with fuzz_cli's promises; a case past the time limit counts as a timeout."""
    before = files_under(workdir)
    result = run_limited(args, cwd=workdir)
    command = str(args[0])
    record_fuzz(suite, command, "timeout" if result is None else result.code)
    log_fuzz_case(suite, args, workdir, "timeout" if result is None else result.code, result.err if result else "")
    assert result is not None, f"{args}: no answer within {LIMIT_SECONDS} s"
    check_fuzz_outcome(command, result, workdir, before)
    return result


def log_fuzz_case(suite: str, args: list, workdir: Path, code, err: str) -> None:
    if os.environ.get("LAYERWISE_FUZZ_LOG"):  # one JSON line per case, to compare two runs
        with open(os.environ["LAYERWISE_FUZZ_LOG"], "a", encoding="utf-8") as log:
            data = sorted((p.name, p.stat().st_size) for p in workdir.iterdir() if p.is_file())
            log.write(json.dumps({"suite": suite, "args": [str(a)[:200] for a in args], "files": data,
                                  "code": code, "error": err.strip()[-300:]}) + "\n")


def check_fuzz_outcome(command: str, result: CliResult, workdir: Path, before: set[str]) -> None:
    assert "Traceback" not in result.out + result.err, result.err[-3000:]
    assert result.code in (0, 2), f"exit {result.code}: {result.err[-3000:]}"
    if result.code == 2:
        assert_user_error(result)
    new = files_under(workdir) - before
    if command == "train":
        assert all(p == "run" or p.startswith("run/") for p in new), sorted(new)
        if result.code == 0:
            assert_complete(workdir / "run", classification=json.loads(
                (workdir / "run" / "model.json").read_text())["task"] != "regression")
        else:
            assert_not_complete(workdir / "run")
    else:
        assert not new, sorted(new)


# ---- hostile files (tests/test_hardening.py and the fuzz suites) -------------------------------

def alias_bomb(levels: int, fanout: int, leaf: str = "1") -> tuple[str, str]:
    """("anchors" YAML lines defining &a0..&aN, "*aN"): level k lists `fanout` aliases of level
    k-1, so *aN expands to fanout**(levels+1) leaves from a few hundred bytes ("billion laughs")."""
    lines = [f"a0: &a0 [{', '.join([leaf] * fanout)}]"]
    for k in range(1, levels + 1):
        lines.append(f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * fanout)}]")
    return "\n".join(lines) + "\n", f"*a{levels}"


def gzip_bomb(header: bytes, expanded: int, chunk: int = 2**24) -> bytes:
    """`header` then `expanded` zero bytes, gzip-compressed as repeated members (gzip readers
    concatenate members): ~1 KB on disk per 1 MB out, built in milliseconds."""
    member = gzip.compress(bytes(chunk), compresslevel=9)
    return gzip.compress(header) + member * max(1, expanded // chunk)


def npy_header(shape: tuple, descr: str = "<f8") -> bytes:
    """A .npy v1.0 header (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
    magic, little-endian header length, a dict literal padded with spaces to a 64-byte boundary."""
    text = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, tuple(shape))
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def zip_bytes(members: dict[str, tuple[bytes, int]], claimed: Optional[dict[str, int]] = None) -> bytes:
    """A zip (PKWARE APPNOTE 4.3) of DEFLATE members, each `prefix` then `zeros` zero bytes.
    The zeros are one fully flushed 16 MiB block repeated (a block after Z_FULL_FLUSH refers to
    nothing before it), so a 1 GB member costs ~1 MB and milliseconds. `claimed` overrides a
    member's declared uncompressed size (a lie)."""
    import zlib

    chunk = 2**24
    local, central = b"", b""
    for name, (prefix, zeros) in members.items():
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
        if zeros:
            block = packer.compress(bytes(chunk)) + packer.flush(zlib.Z_FULL_FLUSH)
            data += block * (zeros // chunk) + packer.compress(bytes(zeros % chunk))
        data += packer.flush(zlib.Z_FINISH)
        size = (claimed or {}).get(name, len(prefix) + zeros)
        encoded = name.encode()
        crc = 0 if zeros else zlib.crc32(prefix)  # a bomb's CRC is never reached: readers stop first
        fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(data), size)
        central += b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0,
                                                                               len(local)) + encoded
        local += b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded + data
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    return local + central + end
