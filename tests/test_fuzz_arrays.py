"""Fuzzed arrays for train and predict: NPZ files with odd shapes, dtypes and values, and MNIST IDX
folders with damaged headers, sizes, gzip streams and labels. Same promises as the table fuzz:
exit 0 or one line with exit 2, no traceback, no hang, nothing written outside the run directory."""

from __future__ import annotations

import gzip
import io
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples, fuzz_cli, fuzz_limited, gzip_bomb, idx_bytes, npy_header, synthetic_digits, zip_bytes

TRAIN = ["--epochs", "1", "--hidden", "3", "--batch-size", "0", "--out", "run", "-q"]

EXTREMES = [np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 3.5e38, 0.0]
DTYPES = ["float64", "float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex64", "<U3", "object"]


def _array(shape: tuple, dtype: str, rng: np.random.Generator, extreme) -> np.ndarray:
    values = rng.normal(size=shape) * 3
    if extreme is not None and values.size:
        values.flat[rng.integers(0, values.size)] = extreme
    if dtype == "<U3":
        return values.astype(str).astype("<U3")
    if dtype == "object":
        return np.array(values.tolist(), dtype=object) if values.ndim else values.astype(object)
    with np.errstate(all="ignore"):
        return values.astype(dtype)


@st.composite
def npz_files(draw):
    rng = np.random.default_rng(draw(st.integers(0, 9)))
    clean = draw(st.integers(0, 2)) == 0  # a third of the cases are valid files, to exercise exit 0 too
    n = 30 if clean else draw(st.sampled_from([0, 1, 2, 5, 12, 30]))
    feature_shape = draw(st.sampled_from([(3,), (4, 4)] if clean else [(), (1,), (3,), (4, 4), (2, 3, 2), (0,)]))
    extreme = None if clean else draw(st.sampled_from([None, None, *EXTREMES]))
    dtype = draw(st.sampled_from(["float64", "float32", "uint8"] if clean else DTYPES))
    arrays = {"x": _array((n, *feature_shape), dtype, rng, extreme)}
    y_kind = draw(st.sampled_from(["binary", "classes", "float", "float2", "text"] if clean else
                                  ["binary", "classes", "float", "float2", "text", "short", "nan", "one", "none", "2d"]))
    y = {"binary": lambda: rng.integers(0, 2, size=n), "classes": lambda: rng.integers(0, 4, size=n),
         "float": lambda: rng.normal(size=n), "float2": lambda: rng.normal(size=(n, 2)),
         "text": lambda: rng.choice(["a", "b"], size=n), "short": lambda: np.zeros(max(n - 1, 0)),
         "nan": lambda: np.where(rng.random(n) > 0.7, np.nan, 1.0), "one": lambda: np.ones(n, dtype=np.int64),
         "none": lambda: None, "2d": lambda: rng.integers(0, 2, size=(n, 1, 1))}[y_kind]()
    if y is not None:
        arrays["y"] = y
    test = draw(st.sampled_from(["none", "same"] if clean else ["none", "none", "same", "other_width", "x_only"]))
    if test != "none":
        width = feature_shape if test != "other_width" else (7,)
        arrays["x_test"] = _array((3, *width), "float64", rng, None)
        if test != "x_only":
            arrays["y_test"] = arrays["y"][:3] if y is not None else np.zeros(3)
    if not clean and draw(st.booleans()):
        arrays[draw(st.sampled_from(["X", "labels", "x_val"]))] = np.zeros(2)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # object arrays are pickled; layerwise loads with allow_pickle=False
    data = buffer.getvalue()
    damage = "none" if clean else draw(st.sampled_from(["none"] * 3 + ["cut", "flip", "not_zip", "empty_zip"]))
    if damage == "cut":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:]
    elif damage == "not_zip":
        data = draw(st.binary(max_size=64))
    elif damage == "empty_zip":
        buffer = io.BytesIO()
        zipfile.ZipFile(buffer, "w").close()
        data = buffer.getvalue()
    return data


@settings(max_examples=examples(40))
@given(data=npz_files())
def test_fuzzed_npz_train(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "d.npz").write_bytes(data)
        fuzz_cli("npz", ["train", "--data", "d.npz", *TRAIN], work)


# ---- MNIST IDX folders -------------------------------------------------------------------------

STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
IDX_DAMAGE = ["none", "none", "none", "magic", "type", "ndim", "size", "cut", "extra", "gzip_cut", "missing",
              "labels_out_of_range", "flat_images", "float_images", "one_class", "empty"]


@st.composite
def idx_folders(draw):
    n_train, n_test = draw(st.sampled_from([(20, 8), (3, 2), (1, 1), (0, 0)])), None
    n_train, n_test = n_train
    side = draw(st.sampled_from([4, 28]))
    x, y = synthetic_digits(n_train + n_test, seed=draw(st.integers(0, 3)), side=side)
    parts = [x[:n_train], y[:n_train], x[n_train:], y[n_train:]]
    damage = draw(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(IDX_DAMAGE)), max_size=2))
    files, gz = {}, draw(st.booleans())
    for index, stem in enumerate(STEMS):
        array = parts[index]
        kinds = [kind for i, kind in damage if i == index]
        if "labels_out_of_range" in kinds and array.ndim == 1:
            array = array.astype(np.int32) * 1000
        if "one_class" in kinds and array.ndim == 1:
            array = np.zeros_like(array)
        if "flat_images" in kinds and array.ndim == 3:
            array = array.reshape(len(array), side * side)
        if "float_images" in kinds:
            array = array.astype(">f4") * np.float32(1e30)
        if "empty" in kinds:
            array = array[:0]
        raw = idx_bytes(array)
        if "magic" in kinds:
            raw = b"\x08\x03" + raw[2:]
        if "type" in kinds:
            raw = raw[:2] + bytes([draw(st.sampled_from([0x00, 0x07, 0x0A, 0xFF]))]) + raw[3:]
        if "ndim" in kinds:
            raw = raw[:3] + bytes([draw(st.sampled_from([0, 2, 9, 255]))]) + raw[4:]
        if "size" in kinds and len(raw) >= 8:
            raw = raw[:4] + draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x00\x00\x07"])) + raw[8:]
        if "cut" in kinds:
            raw = raw[:draw(st.integers(0, max(len(raw) - 1, 0)))]
        if "extra" in kinds:
            raw = raw + b"\x00\x01"
        if "missing" in kinds:
            continue
        name = stem + (".gz" if gz else "")
        data = gzip.compress(raw) if gz else raw
        if "gzip_cut" in kinds:
            data = gzip.compress(raw)[:draw(st.integers(0, 30))]
            name = stem + ".gz"
        files[name] = data
    return files


@settings(max_examples=examples(40))
@given(files=idx_folders())
def test_fuzzed_mnist_idx_train(files: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "m").mkdir()
        for name, data in files.items():
            (work / "m" / name).write_bytes(data)
        fuzz_cli("idx", ["train", "--data", "mnist:m", *TRAIN], work)


# ---- hostile array files: lying headers and compressed bombs (issue 15) ------------------------
# Each case runs as a real process held to 10 s and 1 GiB of heap (helpers.fuzz_limited), where the
# memory budget is half of that: files declaring more must be refused before they are read.

GIB = 2**30
LIE_SIZES = [0, 7, 60_000, 65_536, 2**31, 2**32 - 1]


def _honest_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@st.composite
def hostile_array_files(draw) -> tuple[dict, str]:
    """({file name: bytes}, --data source) with one lie or bomb that must be refused."""
    kind = draw(st.sampled_from(["idx_lie", "idx_gzip_bomb", "idx_gzip_claim", "npy_lie", "npz_bomb",
                                 "npz_zip_lie", "npz_object"]))
    x, y = synthetic_digits(6, seed=0, side=4)
    if kind.startswith("idx"):
        files = {f"m/{stem}": idx_bytes(part) for stem, part in zip(STEMS, (x[:4], y[:4], x[4:], y[4:]))}
        target = f"m/{draw(st.sampled_from(STEMS))}"
        dims = draw(st.lists(st.sampled_from(LIE_SIZES), min_size=1, max_size=4).filter(lambda d: 0 not in d[:1]))
        header = struct.pack(f">BBBB{len(dims)}I", 0, 0, 0x08, len(dims), *dims)
        if kind == "idx_lie":  # raw file whose data length disagrees with its header
            declared = int(np.prod(dims, dtype=object))
            files[target] = header + bytes(draw(st.sampled_from([0, 1, 100])) if declared > 100 else declared + 1)
        elif kind == "idx_gzip_bomb":  # an honest small header, then gigabytes of zeros
            files.pop(target)
            files[target + ".gz"] = gzip_bomb(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 2, 4, 4),
                                              draw(st.sampled_from([GIB // 4, GIB + 1, 3 * GIB])))
        else:  # a header claiming far more than its gzip stream could hold
            files.pop(target)
            files[target + ".gz"] = gzip.compress(header + bytes(64))
        return files, "mnist:m"
    y_npy = _honest_npy(np.arange(4) % 2)
    if kind == "npy_lie":
        rows = draw(st.sampled_from([5, 10**6, 10**12]))
        return {"x.npy": npy_header((rows, 2)) + bytes(64), "x.y.npy": y_npy}, "x.npy"
    if kind == "npz_bomb":  # an honest header over a deflated member of 0.6-3 GB: past the budget
        rows = draw(st.sampled_from([10_000_000, 20_000_000, 48_000_000]))
        return {"d.npz": zip_bytes({"x.npy": (npy_header((rows, 8)), rows * 64), "y.npy": (y_npy, 0)})}, "d.npz"
    if kind == "npz_zip_lie":  # the zip directory claims a size DEFLATE cannot reach
        x_npy = _honest_npy(np.ones((4, 2)))
        return {"d.npz": zip_bytes({"x.npy": (x_npy, 0), "y.npy": (y_npy, 0)},
                                   claimed={draw(st.sampled_from(["x.npy", "y.npy"])): 2**32 - 1})}, "d.npz"
    pickled = np.array([{"k": 1}, None, 1, "a"], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, x=np.ones((4, 2)), y=pickled) if draw(st.booleans()) else np.savez(buffer, x=pickled, y=np.ones(4))
    return {"d.npz": buffer.getvalue()}, "d.npz"


@settings(max_examples=examples(10))
@given(case=hostile_array_files())
def test_hostile_array_files_are_refused_within_bounds(case) -> None:
    files, source = case
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, data in files.items():
            (work / name).parent.mkdir(exist_ok=True)
            (work / name).write_bytes(data)
        result = fuzz_limited("hostile", ["train", "--data", source, *TRAIN], work)
        assert result.code == 2, f"a hostile file was accepted: {sorted(files)}"


# ---- predict / evaluate with a trained image model ---------------------------------------------

def _image_run(tmp_path_factory):
    import layerwise

    base = tmp_path_factory.mktemp("images")
    x, y = synthetic_digits(60, seed=5, side=8)
    np.savez(base / "digits.npz", x=x, y=y)
    return layerwise.train({"data": {"source": str(base / "digits.npz")}, "network": {"hidden": [8]},
                            "training": {"epochs": 2}}, out=base / "run", quiet=True)


@st.composite
def image_inputs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 5)))
    shape = draw(st.sampled_from([(2, 8, 8), (2, 64), (1, 8, 8), (2, 7, 8), (0, 8, 8), (2, 65), (8, 8), (2, 2, 4, 8)]))
    arrays = {"x": _array(shape, draw(st.sampled_from(DTYPES)), rng, draw(st.sampled_from([None, *EXTREMES])))}
    if draw(st.booleans()):
        arrays["y"] = rng.integers(0, draw(st.sampled_from([10, 12])), size=shape[0] if len(shape) > 2 else 1)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@settings(max_examples=examples(30))
@given(data=image_inputs(), command=st.sampled_from(["predict", "evaluate"]))
def test_fuzzed_arrays_for_an_image_model(tmp_path_factory, data: bytes, command: str) -> None:
    run = _cached_image_run(tmp_path_factory)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "x.npz").write_bytes(data)
        fuzz_cli("image-use", [command, run.dir, "--input" if command == "predict" else "--data", "x.npz"], work,
                 run_dir=run.dir)


_IMAGE_RUN = []


def _cached_image_run(tmp_path_factory):
    # a module-level cache: hypothesis calls the test body many times with the same fixtures
    if not _IMAGE_RUN:
        _IMAGE_RUN.append(_image_run(tmp_path_factory))
    return _IMAGE_RUN[0]
