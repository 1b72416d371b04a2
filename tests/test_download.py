"""The optional MNIST download: verified by checksum, atomic, one-line errors without a network."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from layerwise.data import download as dl
from layerwise.data.idx import write_idx
from layerwise.data.sources import load_source
from layerwise.errors import LayerwiseError


@pytest.fixture
def local_mirror(tmp_path, monkeypatch):
    """A loopback HTTP server holding small MNIST-format files, with their sums registered."""
    served = tmp_path / "served"
    served.mkdir()
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 20, dtype=np.uint8),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 5, dtype=np.uint8)}
    sums = {}
    for name, array in arrays.items():
        write_idx(served / name, array)
        sums[name] = hashlib.md5((served / name).read_bytes()).hexdigest()
    monkeypatch.setitem(dl.SETS, "mnist", ("unused", sums))
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served, arrays
    server.shutdown()


def test_download_writes_verified_files_that_mnist_source_reads(local_mirror, tmp_path):
    url, _, arrays = local_mirror
    folder = dl.download("mnist", tmp_path / "mnist", base_url=url)
    data = load_source(f"mnist:{folder}")
    assert np.array_equal(data.X, arrays["train-images-idx3-ubyte.gz"])
    assert np.array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte.gz"])


def test_corrupted_download_is_not_saved(local_mirror, tmp_path):
    url, served, _ = local_mirror
    path = served / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(b"not the published file"))
    with pytest.raises(LayerwiseError, match="checksum mismatch"):
        dl.download("mnist", tmp_path / "out", base_url=url)
    assert not (tmp_path / "out" / "train-labels-idx1-ubyte.gz").exists()


def test_no_network_is_a_one_line_error_and_leaves_no_empty_folder(tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(LayerwiseError, match="no network"):
        dl.download("mnist", tmp_path / "new" / "mnist", base_url="http://127.0.0.1:9/", timeout=2)
    with pytest.raises(LayerwiseError, match="no network"):
        dl.download("mnist", kept, base_url="http://127.0.0.1:9/", timeout=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # the folders it made are gone, the user's stays
