"""The benchmark workloads W1-W5 and their seeded synthetic data.

Every peer trains on the arrays `make_data` returns, so all rows of a table see identical data.
W3 is read from .npy files written once per run (`write_w3_files`), chunk by chunk, so that
generating it never holds more than one 100,000-row chunk (40 MB) in memory.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_SEED = 1234  # one seed for every peer's data; `Workload.seed` only seeds init and shuffling
W3_CHUNK_ROWS = 100_000  # 100,000 x 100 float32 = 40 MB per chunk while writing W3


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    rows: int
    features: int
    hidden: tuple[int, ...]
    outputs: int
    task: str  # multiclass | binary | regression
    batch_size: int  # 0 = full batch
    optimizer: str  # adam | sgd
    lr: float
    momentum: float = 0.0
    run_epochs: int = 0  # > 0: a fixed-length run timed as a whole (W4); 0: timed epoch by epoch
    models: int = 1  # W5 trains 64 copies at once
    from_file: bool = False  # W3 reads its data from .npy files
    seed: int = 0
    threads: int = 0  # layerwise's training.threads (0: its auto policy); the contention row pins it

    @property
    def batch(self) -> int:
        return self.batch_size or self.rows

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.rows / self.batch)

    @property
    def layers(self) -> list[tuple[int, int]]:
        """(in_features, out_features) of each Linear layer."""
        sizes = [self.features, *self.hidden, self.outputs]
        return list(zip(sizes[:-1], sizes[1:]))

    @property
    def flops_per_epoch(self) -> float:
        # forward GEMM + the two backward GEMMs, 2 FLOPs per multiply-add; the first layer has no
        # input-gradient GEMM (its input, the data, needs no gradient, so autograd never runs it)
        macs = sum(i * o for i, o in self.layers)
        first_in, first_out = self.layers[0]
        per_sample = 2 * (3 * macs - first_in * first_out)
        return float(per_sample * self.rows * self.models)

    def single(self, seed: int = 0) -> "Workload":
        """One model of this workload (W5 -> W1's network) with its own init/shuffle seed."""
        return dataclasses.replace(self, models=1, seed=seed)


_MNIST_SHAPE = dict(rows=60_000, features=784, outputs=10, task="multiclass", batch_size=128,
                    optimizer="adam", lr=1e-3)

WORKLOADS: dict[str, Workload] = {
    "W1": Workload("W1", "784-100-50-10 ReLU, Adam, batch 128, 60,000 rows", hidden=(100, 50),
                   **_MNIST_SHAPE),
    "W2": Workload("W2", "784-512-512-10 ReLU, Adam, batch 128, 60,000 rows", hidden=(512, 512),
                   **_MNIST_SHAPE),
    "W3": Workload("W3", "100-64-1 binary, Adam, batch 1024, 1,000,000 rows from .npy",
                   rows=1_000_000, features=100, hidden=(64,), outputs=1, task="binary",
                   batch_size=1024, optimizer="adam", lr=1e-3, from_file=True),
    "W4a": Workload("W4a", "3-4-1 ReLU on 3 rows, full batch, SGD 0.01, 100 epochs", rows=3,
                    features=3, hidden=(4,), outputs=1, task="regression", batch_size=0,
                    optimizer="sgd", lr=0.01, run_epochs=100),
    "W4b": Workload("W4b", "Linear(3,2) on 15 rows, batch 3, SGD 1e-4 momentum 0.9, 100 epochs",
                    rows=15, features=3, hidden=(), outputs=2, task="regression", batch_size=3,
                    optimizer="sgd", lr=1e-4, momentum=0.9, run_epochs=100),
    "W5": Workload("W5", "64 copies of W1's network trained at once", hidden=(100, 50), models=64,
                   **_MNIST_SHAPE),
}
ALIASES = {"W4": ("W4a", "W4b"), "all": ("W1", "W2", "W3", "W4a", "W4b", "W5")}


def resolve(names: list[str]) -> list[Workload]:
    """['W1', 'W4'] -> [W1, W4a, W4b]; unknown names raise ValueError naming the choices."""
    out: list[Workload] = []
    for name in names:
        for key in ALIASES.get(name, (name,)):
            if key not in WORKLOADS:
                raise ValueError(f"unknown workload '{name}'; expected one of "
                                 f"{', '.join([*WORKLOADS, *ALIASES])}")
            out.append(WORKLOADS[key])
    return out


def smoke(w: Workload) -> Workload:
    """A seconds-long variant for tests: 2,000 rows (W3: 20,000), 10-epoch runs, 4 models."""
    rows = min(w.rows, 20_000 if w.from_file else 2_000)
    return dataclasses.replace(w, rows=rows, run_epochs=min(w.run_epochs, 10),
                               models=min(w.models, 4))


def make_data(w: Workload) -> tuple[np.ndarray, np.ndarray]:
    """X float32 (rows, features); y int64 (rows,) for multiclass, float32 otherwise.

    Targets come from a fixed random linear teacher so the loss really falls, which makes a
    peer that silently trains nothing visible in its loss (not in its time).
    """
    rng = np.random.default_rng(DATA_SEED)
    x = rng.standard_normal((w.rows, w.features), dtype=np.float32)
    return x, _teacher_targets(w, x, rng)


def _teacher_targets(w: Workload, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    teacher = rng.standard_normal((w.features, max(w.outputs, 2)), dtype=np.float32)
    scores = x @ teacher  # (rows, outputs)
    if w.task == "multiclass":
        return scores.argmax(axis=1).astype(np.int64)
    if w.task == "binary":
        return (scores[:, 0] > 0).astype(np.float32)
    return scores[:, : w.outputs].astype(np.float32)


def write_w3_files(w: Workload, folder: Path) -> tuple[Path, Path]:
    """Write X.npy (rows, features) float32 and y.npy (rows,) float32 without holding X whole."""
    x_path, y_path = folder / "X.npy", folder / "y.npy"
    x_file = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32,
                                       shape=(w.rows, w.features))
    y_file = np.lib.format.open_memmap(y_path, mode="w+", dtype=np.float32, shape=(w.rows,))
    rng = np.random.default_rng(DATA_SEED)
    teacher = rng.standard_normal(w.features, dtype=np.float32)
    for start in range(0, w.rows, W3_CHUNK_ROWS):
        stop = min(start + W3_CHUNK_ROWS, w.rows)
        chunk = rng.standard_normal((stop - start, w.features), dtype=np.float32)
        x_file[start:stop] = chunk
        y_file[start:stop] = chunk @ teacher > 0
    x_file.flush()
    y_file.flush()
    del x_file, y_file
    return x_path, y_path


class Data:
    """What a peer trains on: in-memory arrays, or (W3) .npy files the peer loads itself.

    W3 peers load inside their own measured process, so each peer's peak RSS includes its own
    way of reading the file (a plain `np.load`, or layerwise's file source).
    """

    def __init__(self, w: Workload, files: tuple[Path, Path] | None = None):
        self.workload, self.files = w, files
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is None:
            if self.files:
                self._arrays = (np.load(self.files[0]), np.load(self.files[1]))
            else:
                self._arrays = make_data(self.workload)
        return self._arrays
