"""The report's figures (matplotlib, drawn off-screen to PNG bytes). Each is small (about
6.4 x 3.4 inches at 100 dpi) so the report stays quick to write and readable at phone width."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

class _AggFigures:
    """The two pyplot calls used here, on Figures with the Agg canvas made directly: files only,
    never a display, and no pyplot (its import and backend choice cost ~0.3 s of every train)."""

    @staticmethod
    def subplots(figsize):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot()

    @staticmethod
    def close(fig) -> None:
        """Nothing to close: these figures are not in pyplot's registry; garbage collection frees them."""


def _pyplot():
    return _AggFigures


def _png_bytes(fig, tight: bool = True) -> bytes:
    """tight=False for figures laid out with fixed margins (`_axes`): bbox_inches="tight" draws the
    figure twice, which doubles the cost of writing a plot (0.30 s -> 0.17 s on the shared CI box)."""
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # labels in scripts the font lacks draw as boxes; no stderr noise
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight" if tight else None)
    _pyplot().close(fig)
    return buffer.getvalue()


def loss_png(history: list[dict[str, Any]], title: str) -> bytes:
    """Train and validation loss per epoch, as in the seeds' matplotlib curve."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = _axes(title, "epoch", "loss", (6.4, 4.0))
    epochs = [row["epoch"] for row in history]
    ax.plot(epochs, [row["train_loss"] for row in history], marker="o", markersize=3, label="train loss")
    if history and "val_loss" in history[0]:
        ax.plot(epochs, [row["val_loss"] for row in history], marker="o", markersize=3, label="validation loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    losses = [row[key] for row in history for key in ("train_loss", "val_loss") if key in row]
    finite = [v for v in losses if v == v and abs(v) != float("inf")]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 100:
        ax.set_yscale("log")  # seed 3's loss falls from ~8,000 to ~3: linear would hide the tail
    ax.legend()
    return _png_bytes(fig, tight=False)


def confusion_png(matrix: list[list[int]], classes: list, title: str) -> bytes:
    plt = _pyplot()
    n = len(classes)
    size = min(2.5 + 0.45 * n, 12)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    labels = ["".join(ch if ch.isprintable() else "?" for ch in str(c)) for c in classes]  # no control characters
    slanted = n > 6 and max(map(len, labels)) > 2  # short labels ("0".."9") fit upright
    ax.set_xticks(range(n), labels, rotation=45 if slanted else 0, ha="right" if slanted else "center")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 20:
        peak = max(max(row) for row in matrix) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, str(count), ha="center", va="center",
                        color="white" if count > peak / 2 else "black", fontsize=8)
    return _png_bytes(fig)


def _axes(title: str, xlabel: str, ylabel: str, size=(6.4, 3.4)):
    """A figure with fixed margins that fit tick labels of up to ~7 characters (no tight bbox)."""
    fig, ax = _pyplot().subplots(figsize=size)
    width, height = size
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width, bottom=0.55 / height, top=1 - 0.35 / height)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def curves_png(history: list[dict[str, Any]], keys: list[str], title: str, ylabel: str) -> bytes:
    """Per-epoch values of `keys` (columns of metrics.csv) on one set of axes."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = _axes(title, "epoch", ylabel)
    epochs = [row["epoch"] for row in history]
    for key in keys:
        ax.plot(epochs, [row.get(key, float("nan")) for row in history], marker="o", markersize=2.5,
                label=key.replace("_", " "))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    values = [row[k] for row in history for k in keys if isinstance(row.get(k), float) and row[k] > 0]
    if ylabel == "learning rate" and values and max(values) / min(values) > 20:
        ax.set_yscale("log")  # warm-up and decay span decades
    ax.legend()
    return _png_bytes(fig, tight=False)


def roc_png(fpr: np.ndarray, tpr: np.ndarray, auc: float, split: str) -> bytes:
    fig, ax = _axes(f"ROC curve ({split} split)", "false positive rate", "true positive rate", (4.6, 4.0))
    ax.plot(fpr, tpr, label=f"model (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance (AUC 0.5)")
    ax.legend(loc="lower right")
    return _png_bytes(fig, tight=False)


def pr_png(recall: np.ndarray, precision: np.ndarray, average_precision: float, base_rate: float, split: str) -> bytes:
    fig, ax = _axes(f"Precision-recall curve ({split} split)", "recall", "precision", (4.6, 4.0))
    ax.step(recall, precision, where="post", label=f"model (AP {average_precision:.3f})")
    ax.axhline(base_rate, linestyle="--", color="grey", label=f"positive rate {base_rate:.3f}")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    return _png_bytes(fig, tight=False)


def calibration_png(predicted: np.ndarray, observed: np.ndarray, split: str) -> bytes:
    fig, ax = _axes(f"Calibration ({split} split)", "mean predicted probability", "fraction positive", (4.6, 4.0))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(predicted, observed, marker="o", label="model (10 quantile bins)")
    ax.legend(loc="upper left")
    return _png_bytes(fig, tight=False)


def predicted_vs_actual_png(actual: np.ndarray, predicted: np.ndarray, split: str) -> bytes:
    fig, ax = _axes(f"Predicted vs actual ({split} split)", "actual", "predicted", (4.6, 4.0))
    ax.scatter(actual, predicted, s=8, alpha=0.5)
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    ax.plot([low, high], [low, high], linestyle="--", color="grey", label="predicted = actual")
    ax.legend(loc="upper left")
    return _png_bytes(fig, tight=False)


def residuals_png(actual: np.ndarray, predicted: np.ndarray, split: str) -> bytes:
    fig, ax = _axes(f"Residuals ({split} split)", "predicted", "actual - predicted", (4.6, 4.0))
    ax.scatter(predicted, actual - predicted, s=8, alpha=0.5)
    ax.axhline(0.0, linestyle="--", color="grey")
    return _png_bytes(fig, tight=False)


def overlay_png(names: list[str], histories: list[list[dict]], key: str, dashed: str, title: str) -> bytes:
    """`key` per epoch for several runs (one colour each), `dashed` in the same colour."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = _axes(title, "epoch", key.removeprefix("val_"), (7.0, 4.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for index, (name, history) in enumerate(zip(names, histories)):
        colour = f"C{index % 10}"
        epochs = [row.get("epoch") for row in history]
        if any(key in row for row in history):
            ax.plot(epochs, [row.get(key, float("nan")) for row in history], color=colour, label=name)
        if any(dashed in row for row in history):
            ax.plot(epochs, [row.get(dashed, float("nan")) for row in history], color=colour, linestyle="--")
    if len(names) <= 12:
        ax.legend(fontsize=7)
    return _png_bytes(fig, tight=False)
