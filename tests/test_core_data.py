"""Data sources: built-ins equal scikit-learn's sets, tables read the same from CSV/TSV/Parquet,
NPZ with its own test part, IDX files (gzipped and not) written here byte by byte."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import idx_bytes, make_mnist_dir, mixed_table, run_cli, synthetic_digits, write_bytes
from layerwise.data.idx import read_idx, read_mnist_dir
from layerwise.data.sources import load_source
from layerwise.data.targets import TargetEncoder, infer_task
from layerwise.errors import LayerwiseError


@pytest.mark.parametrize(("name", "loader", "rows", "features", "task"), [
    ("digits", "load_digits", 1797, 64, "multiclass"),
    ("iris", "load_iris", 150, 4, "multiclass"),
    ("wine", "load_wine", 178, 13, "multiclass"),
    ("breast_cancer", "load_breast_cancer", 569, 30, "binary"),
    ("diabetes", "load_diabetes", 442, 10, "regression"),
])
def test_builtin_sets_are_sklearns(name, loader, rows, features, task) -> None:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader)()
    data = load_source(f"builtin:{name}")
    assert (len(data), int(np.prod(data.X.shape[1:])), data.task) == (rows, features, task)
    np.testing.assert_array_equal(np.asarray(data.X, dtype=np.float64).reshape(rows, -1), bunch.data)
    # class names where scikit-learn has them (mapped back on predict); digits' labels are 0-9
    expected_y = bunch.target if name in ("digits", "diabetes") else bunch.target_names[bunch.target]
    np.testing.assert_array_equal(data.y, expected_y)


def test_seed_builtins_hold_the_tutorials_rows() -> None:
    apples = load_source("builtin:apples_oranges")
    assert apples.X.shape == (15, 3) and apples.y.shape == (15, 2)
    assert apples.X.iloc[2].tolist() == [87, 134, 58] and apples.y[2].tolist() == [119, 133]
    sums = load_source("builtin:sum3")
    np.testing.assert_array_equal(sums.X.to_numpy().sum(axis=1), sums.y)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", "semicolon.csv"])
def test_tables_read_the_same_from_every_format(tmp_path: Path, suffix: str) -> None:
    frame = mixed_table(40)
    path = tmp_path / ("data" + suffix if suffix.startswith(".") else suffix)
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep={".tsv": "\t", "semicolon.csv": ";"}.get(suffix, ","))
    data = load_source(str(path), ["label"])
    assert list(data.X.columns) == ["size", "weight", "colour"] and data.target_names == ["label"]
    np.testing.assert_allclose(data.X[["size", "weight"]].to_numpy(dtype=float),
                               frame[["size", "weight"]].to_numpy(dtype=float), rtol=1e-12)
    assert data.X["colour"].isna().tolist() == frame["colour"].isna().tolist()
    np.testing.assert_array_equal(data.y, frame["label"].to_numpy())


def test_train_from_parquet_with_two_targets_is_two_output_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "s": x.sum(axis=1),
                  "d": x[:, 0] - x[:, 1]}).to_parquet(tmp_path / "t.parquet")
    result = run_cli(["train", "--data", tmp_path / "t.parquet", "--target", "s", "d", "--epochs", "2",
                      "--out", tmp_path / "run", "-q"])
    assert result.code == 0, result.err
    import json

    meta = json.loads((tmp_path / "run" / "model.json").read_text())
    assert (meta["task"], meta["targets"], meta["network"]["output_size"]) == ("regression", ["s", "d"], 2)
    assert meta["preprocessing"]["columns"] == ["a", "b", "c"]


def test_npz_with_its_own_test_part_and_image_arrays(tmp_path: Path) -> None:
    images, labels = synthetic_digits(30, seed=1, side=8)
    np.savez(tmp_path / "img.npz", x=images, y=labels, x_test=images[:5], y_test=labels[:5])
    data = load_source(str(tmp_path / "img.npz"))
    assert data.kind == "image" and data.pixel_scale == 255.0
    np.testing.assert_array_equal(data.X_test, images[:5])
    np.savez(tmp_path / "flat.npz", x=np.arange(12.0).reshape(4, 3), y=np.array([0.5, 1, 2, 3]))
    flat = load_source(str(tmp_path / "flat.npz"))
    assert flat.kind == "array" and flat.X_test is None and flat.y.tolist() == [0.5, 1, 2, 3]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_idx_reader_reads_every_type_code(tmp_path: Path, dtype: str, gz: bool) -> None:
    rng = np.random.default_rng(3)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = write_bytes(tmp_path / ("a.idx" + (".gz" if gz else "")), idx_bytes(array), gz=gz)
    got = read_idx(path)
    assert got.shape == (3, 4, 5) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_idx_reader_reads_the_published_mnist_header() -> None:
    # The first 16 bytes of train-images-idx3-ubyte: magic 0x00000803, 60000 images of 28x28.
    header = bytes.fromhex("00000803 0000ea60 0000001c 0000001c".replace(" ", ""))
    assert idx_bytes(np.zeros((60000, 28, 28), np.uint8))[:16] == header


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_directory_source(tmp_path: Path, gz: bool) -> None:
    make_mnist_dir(tmp_path, n_train=50, n_test=20, gz=gz, seed=4)
    images, labels = synthetic_digits(70, seed=4)
    x, y, x_test, y_test = read_mnist_dir(tmp_path)
    np.testing.assert_array_equal(x, images[:50])
    np.testing.assert_array_equal(y_test, labels[50:])
    data = load_source(f"mnist:{tmp_path}")
    assert data.kind == "image" and data.pixel_scale == 255.0 and data.X_test.shape == (20, 28, 28)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda raw: b"\x01" + raw[1:], "bad magic number"),
    (lambda raw: raw[:-1], "header promises"),
    (lambda raw: raw[:6], "truncated IDX header"),
    (lambda raw: b"", "bad magic number"),
])
def test_damaged_idx_files_are_one_line_errors(tmp_path: Path, damage, message: str) -> None:
    raw = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    path = write_bytes(tmp_path / "x.idx", damage(raw))
    with pytest.raises(LayerwiseError, match=message) as caught:
        read_idx(path)
    assert str(path) in str(caught.value)


def test_truncated_gzip_is_a_one_line_error(tmp_path: Path) -> None:
    data = gzip.compress(idx_bytes(np.zeros((20, 28, 28), np.uint8)))
    path = tmp_path / "x.idx.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LayerwiseError, match="cannot read IDX file"):
        read_idx(path)


def test_mnist_dir_with_mismatched_labels(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path, n_train=10, n_test=5)
    write_bytes(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(9, np.uint8)))
    with pytest.raises(LayerwiseError, match=r"train images \(10, 28, 28\) and labels \(9,\) do not match"):
        read_mnist_dir(tmp_path)


def test_string_labels_map_to_sorted_indices_and_back() -> None:
    y = np.array(["pear", "apple", "fig", "apple"], dtype=object)
    assert infer_task(y) == "multiclass"
    encoder = TargetEncoder.fit(y, "multiclass")
    assert encoder.classes == ["apple", "fig", "pear"] and encoder.n_outputs == 3
    codes = encoder.encode(y)
    assert codes.tolist() == [2, 0, 1, 0]
    assert encoder.decode(codes).tolist() == y.tolist()
    binary = TargetEncoder.fit(np.array(["no", "yes", "no"]), "binary")
    assert binary.encode(np.array(["yes", "no"])).tolist() == [[1.0], [0.0]] and binary.n_outputs == 1


@pytest.mark.parametrize(("y", "task"), [
    (np.array([0.5, 1.5, 2.0, 3.25]), "regression"),
    (np.array([3, 7, 9, 3, 7, 9, 9, 3]), "multiclass"),
    (np.array([1, 0, 1, 0]), "binary"),
    (np.arange(100), "regression"),  # every value distinct: a count, not a class
    (np.arange(11, 59).repeat(3), "regression"),  # 48 integers from 11: miles per gallon, not labels
    (np.arange(0, 30).repeat(3), "multiclass"),  # 0..29: label codes
    (np.arange(1, 13).repeat(3), "multiclass"),  # 1..12: label codes (months)
    (np.array([True, False, True]), "binary"),
])
def test_task_inference(y: np.ndarray, task: str) -> None:
    assert infer_task(y) == task


@pytest.mark.parametrize(("text", "columns"), [
    ("x\n1\n2\n3\n", ["x"]),  # pandas' sep=None sniffer split this on the letter 'x'
    ("x\n1.5\n2.5\n", ["x"]),
    ("a;b\n1;2\n", ["a", "b"]),
    ("a|b\n1|2\n", ["a", "b"]),
    ("a, b\n1, 2\n", ["a", "b"]),
    ('name,n\n"Smith; J",1\n"Lee",2\n', ["name", "n"]),
    # csv.Sniffer read pandas' own output of movie titles as space-delimited with ' quotes
    ('title,year\n"Movie 0, The",1930\nSay \'Cheese 1\' Now,1931\n"Movie 2, The",1932\nSay \'Hi 3\' Again,1933\n',
     ["title", "year"]),
])
def test_csv_delimiter_detection(tmp_path: Path, text: str, columns: list[str]) -> None:
    from layerwise.data.tables import read_table

    (tmp_path / "t.csv").write_text(text)
    assert list(read_table(tmp_path / "t.csv").columns) == columns


def test_one_feature_model_predicts_from_a_one_column_csv(tmp_path: Path) -> None:
    x = np.linspace(-1, 1, 40)
    pd.DataFrame({"x": x, "y": 3 * x}).to_csv(tmp_path / "d.csv", index=False)
    assert run_cli(["train", "--data", tmp_path / "d.csv", "--target", "y", "--epochs", "1",
                    "--out", tmp_path / "run", "-q"]).code == 0
    pd.DataFrame({"x": [0.5, -0.5]}).to_csv(tmp_path / "new.csv", index=False)
    result = run_cli(["predict", tmp_path / "run", "--input", tmp_path / "new.csv"])
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "prediction" and len(result.out.splitlines()) == 3


def test_standardisation_matches_sklearns_standard_scaler() -> None:
    from sklearn.preprocessing import StandardScaler

    from layerwise.data.preprocess import Preprocessor

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "plain": rng.normal(3.0, 2.0, size=200),
        "timestamp": 1.6e9 + rng.normal(size=200) * 1e-3,  # E[x²] - mean² cancels all digits here
        "tiny": rng.normal(size=200) * 1e-300,
        "constant": np.full(200, 7.0),
    })
    got = Preprocessor.fit(frame, "table").transform(frame)
    expected = StandardScaler().fit_transform(frame.to_numpy())
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_standardisation_of_numbers_near_the_float64_limit() -> None:
    from layerwise.data.preprocess import Preprocessor

    frame = pd.DataFrame({"x": [1e308, -1e308, 0.0]})
    stats = Preprocessor.fit(frame, "table").state["numeric"][0]
    assert stats["mean"] == 0.0 and stats["std"] == pytest.approx(np.sqrt(2 / 3) * 1e308, rel=1e-12)
    np.testing.assert_allclose(Preprocessor.fit(frame, "table").transform(frame)[:, 0],
                               [np.sqrt(1.5), -np.sqrt(1.5), 0.0], rtol=1e-6)


def test_values_beyond_float32_at_predict_time_are_a_one_line_error() -> None:
    from layerwise.data.preprocess import Preprocessor

    fitted = Preprocessor.fit(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), "table", standardize=False)
    with pytest.raises(LayerwiseError, match=r"rows.csv: row 2, feature 'x' is infinite or beyond float32"):
        fitted.transform(pd.DataFrame({"x": [1.0, 1e39]}), where="rows.csv")
    array = Preprocessor.fit(np.array([[1.0], [2.0]]), "array")
    with pytest.raises(LayerwiseError, match=r"row 1, feature 'x0' is infinite"):
        array.transform(np.array([[np.inf]]))


def test_the_largest_seed_splits_like_any_other() -> None:
    from layerwise.data.split import split_indices

    labels = np.repeat([0, 1, 2], 20)
    for seed in (0, 2 ** 32 - 1, 2 ** 32):  # the validation split uses seed + 1
        kept, held = split_indices(np.arange(60), 0.25, seed, labels)
        assert len(held) == 15 and np.bincount(labels[held]).tolist() == [5, 5, 5]  # stratified
        assert sorted([*kept, *held]) == list(range(60))
