"""The fast path (resident tensors, index-sliced batches, fused optimizers, one sync per epoch)
must train exactly like the plain tutorial loop, and `--repeat` exactly like separate runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import layerwise
from layerwise.training.batches import ResidentBatches


def tutorial_loop(X, y, hidden, epochs, batch_size, seed, lr):
    """Seed 2's loop written plainly: nn.Sequential, CrossEntropyLoss, Adam, per-batch steps."""
    torch.manual_seed(seed)
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=False)  # the unfused reference
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    for epoch in range(1, epochs + 1):
        # the same data order layerwise uses: a permutation seeded by (seed, epoch)
        order = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
        total, rows = 0.0, 0
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss = loss_fn(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            rows += len(idx)
        losses.append(total / rows)
    return losses, model


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(700, 20)).astype("float32")
    y = (X[:, :3] @ np.array([1.0, -2.0, 0.5]) > 0).astype("int64") + 2 * (X[:, 3] > 0.8)
    return X, y


def test_fast_path_matches_the_tutorial_loop_epoch_by_epoch(blobs):
    X, y = blobs
    config = {"task": "multiclass", "network": {"hidden": [32, 16]},
              "data": {"val_split": 0, "test_split": 0, "standardize": False},
              "training": {"epochs": 4, "batch_size": 64, "lr": 1e-3, "seed": 7, "early_stopping": False}}
    run = layerwise.fit(config, data=(X, y))
    expected, reference = tutorial_loop(X, y, [32, 16], 4, 64, seed=7, lr=1e-3)
    got = [row["train_loss"] for row in run.history]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    logits = run.predictor.outputs(X)
    np.testing.assert_allclose(logits, reference(torch.from_numpy(X)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_resident_batches_visit_every_row_once_per_epoch():
    X = torch.arange(10.0).reshape(10, 1)
    batches = ResidentBatches(X, torch.arange(10), torch.arange(10), batch_size=4, seed=3)
    seen = torch.cat([x for x, _ in batches.epoch(1)]).reshape(-1)
    assert sorted(seen.tolist()) == list(range(10)) and len(batches) == 3
    again = torch.cat([x for x, _ in batches.epoch(1)]).reshape(-1)
    other = torch.cat([x for x, _ in batches.epoch(2)]).reshape(-1)
    assert torch.equal(seen, again) and not torch.equal(seen, other)
    resumed = torch.cat([x for x, _ in batches.epoch(1, start_step=1)]).reshape(-1)
    assert torch.equal(resumed, seen[4:])


def test_repeat_equals_separate_runs(blobs, tmp_path):
    X, y = blobs
    np.savez(tmp_path / "blobs.npz", x=X, y=y)
    config = {"data": {"source": str(tmp_path / "blobs.npz")}, "network": {"hidden": [16]},
              "training": {"epochs": 3, "batch_size": 50, "seed": 5, "schedule": "cosine"}}
    copies = layerwise.train(config, out=tmp_path / "many", quiet=True, repeat=3)
    for i, copy in enumerate(copies):
        alone = layerwise.train(copy.dir / "config.yaml", out=tmp_path / f"alone{i}", quiet=True)
        assert copy.config.training.seed == 5 + i
        np.testing.assert_allclose([r["train_loss"] for r in copy.history],
                                   [r["train_loss"] for r in alone.history], rtol=1e-5)
        np.testing.assert_allclose([r["val_loss"] for r in copy.history],
                                   [r["val_loss"] for r in alone.history], rtol=1e-5)
        np.testing.assert_allclose(copy.predictor.outputs(X), alone.predictor.outputs(X), rtol=1e-4, atol=1e-5)
