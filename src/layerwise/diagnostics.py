"""The report's judgements of a trained model, made as a user would make them: raw held-out rows
in, the run's own predictor, scikit-learn's reference metrics out.

Everything here is bounded so that writing the report stays cheap next to training: at most
HOLDOUT_ROWS rows are scored and IMPORTANCE_ROWS x IMPORTANCE_REPEATS predictions per column are
made for permutation importance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

HOLDOUT_ROWS = 5_000  # rows scored for curves and per-class tables (a 1M-row test split: evenly spaced rows)
IMPORTANCE_ROWS = 1_000  # rows permuted per column: ~1-3% noise on accuracy, milliseconds per repeat
IMPORTANCE_REPEATS = 3
IMPORTANCE_MAX_COLUMNS = 200  # beyond this (pixels, wide arrays) per-column importance is not shown


@dataclass
class Holdout:
    split: str  # "test" | "validation" | "train": the rows the report judges on
    X: Any  # raw rows: a DataFrame (tables) or an ndarray
    y: np.ndarray  # raw labels or values
    kind: str  # "table" | "array" | "image"


@dataclass
class Judgement:
    holdout: Holdout
    per_class: list[dict] = field(default_factory=list)  # classification: label, precision, recall, f1, support
    baseline: dict = field(default_factory=dict)  # the same metrics for a majority-class / mean prediction
    curves: dict = field(default_factory=dict)  # binary: roc, pr, calibration; regression: actual, predicted
    importance: list[dict] = field(default_factory=list)  # column, mean drop, std, sorted by drop
    importance_note: str = ""


def holdout(prepared) -> Optional[Holdout]:
    """The test rows, else the validation rows, else the training rows, raw and subsampled."""
    dataset, parts = prepared.dataset, prepared.raw_parts or {}
    for key, name in (("test", "test"), ("val", "validation"), ("train", "train")):
        part = parts.get(key)
        if part is not None and part.y is not None:
            X, y, kind = part.X, np.asarray(part.y), part.kind
            rows = np.arange(len(y))
        else:
            X, y, kind = dataset.X, np.asarray(dataset.y), dataset.kind
            rows = {"test": prepared.test_idx, "val": prepared.val_idx, "train": prepared.train_idx}[key]
        if len(rows):
            if len(rows) > HOLDOUT_ROWS:
                rows = rows[np.linspace(0, len(rows) - 1, HOLDOUT_ROWS).astype(np.int64)]
            return Holdout(name, X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows], y[rows], kind)
    return None


def judge(predictor, prepared, bagged: bool = False) -> Optional[Judgement]:
    """bagged: the model is a bagged ensemble (training/bagging.py), whose validation rows are
    member 0's; the other members trained on most of them, so the rows are judged by member 0
    alone, honestly (the run's out-of-fold scores are the whole ensemble's)."""
    import warnings

    from .errors import LayerwiseWarning

    part = holdout(prepared)
    if part is None:
        return None
    if bagged and part.split == "validation":
        from .predictor import Predictor

        members = predictor.module.members
        predictor = Predictor(members[0], predictor.preprocessor, predictor.encoder, predictor.meta)
        part.split = "member 1's validation"
    with warnings.catch_warnings():  # training already warned about these rows (unseen categories, ...)
        warnings.simplefilter("ignore", LayerwiseWarning)
        return _judge(predictor, prepared, part)


def _judge(predictor, prepared, part: Holdout) -> Judgement:
    judgement = Judgement(part)
    train_targets = prepared.targets[prepared.train_idx]
    if predictor.task == "regression":
        _judge_regression(judgement, predictor, train_targets)
    else:
        _judge_classification(judgement, predictor, train_targets)
    _importance(judgement, predictor)
    return judgement


def _judge_classification(judgement: Judgement, predictor, train_targets: np.ndarray) -> None:
    from .metrics import binary_log_loss, classification_metrics, confusion_matrix, per_class_scores

    part, encoder = judgement.holdout, predictor.encoder
    k = len(encoder.classes)
    truth = encoder.encode(part.y, where=f"{part.split} target").reshape(-1).astype(np.int64)
    proba = predictor.predict_proba(part.X, where=f"{part.split} rows")
    predicted = proba.argmax(axis=1)
    precision, recall, f1, support = per_class_scores(confusion_matrix(truth, predicted, k))
    judgement.per_class = [{"class": label, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                           for label, p, r, f, s in zip(encoder.classes, precision, recall, f1, support)]
    # Baseline: always the training split's most frequent class, with its class frequencies as probabilities
    counts = np.bincount(train_targets.reshape(-1).astype(np.int64), minlength=k).astype(np.float64)
    prior = counts / counts.sum()
    majority = np.full(len(truth), int(counts.argmax()))
    scores = classification_metrics(truth, majority, k)  # NumPy, equal to sklearn's (no sklearn import)
    judgement.baseline = {key: scores[key] for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro")}
    if predictor.task == "binary":
        judgement.baseline["roc_auc"] = 0.5  # a constant score ranks no row above another
        judgement.baseline["log_loss"] = binary_log_loss(truth, np.tile(prior[1], len(truth)))
        judgement.curves = _binary_curves(truth, proba[:, 1])


def _binary_curves(truth: np.ndarray, positive: np.ndarray) -> dict:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    if len(np.unique(truth)) < 2:
        return {}
    fpr, tpr, _ = roc_curve(truth, positive)
    precision, recall, _ = precision_recall_curve(truth, positive)
    observed, predicted = calibration_curve(truth, positive, n_bins=10, strategy="quantile")
    return {"roc": (fpr, tpr, float(roc_auc_score(truth, positive))),
            "pr": (recall, precision, float(average_precision_score(truth, positive)), float(truth.mean())),
            "calibration": (predicted, observed)}


def _judge_regression(judgement: Judgement, predictor, train_targets: np.ndarray) -> None:
    from .metrics import regression_metrics

    part = judgement.holdout
    actual = np.asarray(part.y, dtype=np.float64).reshape(len(part.y), -1)
    predicted = np.asarray(predictor.predict(part.X, where=f"{part.split} rows"), dtype=np.float64).reshape(actual.shape)
    train_values = predictor.encoder.values(np.asarray(train_targets).reshape(len(train_targets), -1))
    mean = train_values.mean(axis=0)  # in the targets' own units
    baseline = regression_metrics(actual, np.broadcast_to(mean, actual.shape))
    judgement.baseline = {k: v for k, v in baseline.items() if k != "rows"}
    judgement.curves = {"actual": actual[:, 0], "predicted": predicted[:, 0]}


def _column_blocks(preprocessor) -> list[tuple[str, list[int]]]:
    """(raw column, its positions among the network inputs), in the order `feature_names` lays
    them out: numeric values, then missing-value indicators, then each one-hot block."""
    from .data.categories import width

    state = preprocessor.state
    numeric, blocks = state["numeric"], {}
    for j, column in enumerate(numeric):
        blocks[column["name"]] = [j]
    position = len(numeric)
    for column in numeric:
        if column["indicator"]:
            blocks[column["name"]].append(position)
            position += 1
    for column in state.get("categorical", []):
        blocks[column["name"]] = list(range(position, position + width(column)))
        position += width(column)
    order = state.get("columns") or [c["name"] for c in numeric]
    return [(str(name), blocks[name]) for name in order]


def _importance(judgement: Judgement, predictor) -> None:
    part = judgement.holdout
    blocks = _column_blocks(predictor.preprocessor) if part.kind != "image" else []
    if not blocks or len(blocks) > IMPORTANCE_MAX_COLUMNS:
        width = int(np.prod(np.shape(part.X)[1:]))
        judgement.importance_note = f"not computed: {width} input values per row (at most {IMPORTANCE_MAX_COLUMNS} columns)"
        return
    rows = np.arange(len(part.y))
    if len(rows) > IMPORTANCE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, IMPORTANCE_ROWS, replace=False))
    X = part.X.iloc[rows] if hasattr(part.X, "iloc") else np.asarray(part.X)[rows]
    judgement.importance = permutation_importance(predictor, X, np.asarray(part.y)[rows], where=f"{part.split} rows")
    metric = "R²" if predictor.task == "regression" else "accuracy"
    judgement.importance_note = (f"mean drop in {metric} over {IMPORTANCE_REPEATS} shuffles of each column, "
                                 f"on {len(rows):,} {part.split} rows (higher = the model relies on it more)")


def permutation_importance(predictor, X, y, repeats: int = IMPORTANCE_REPEATS, where: str = "input") -> list[dict]:
    """Permutation importance of the raw columns of X: the drop in accuracy (R² for regression)
    when one column's values are shuffled among the rows; [{column, drop, std}], largest first.

    Preprocessing works column by column (a raw column only feeds its own block of network
    inputs), so shuffling a raw column is the same as shuffling its block of the transformed
    matrix: the rows are transformed once and each shuffle costs one forward pass. The numbers are
    scikit-learn's `permutation_importance(..., random_state=0)` (a test checks they are equal)."""
    import torch

    from .training.loop import predict_outputs

    features = torch.from_numpy(predictor.transform(X, where=where))
    score = _scorer(predictor, np.asarray(y))
    reference = score(predict_outputs(predictor.module, features).numpy())
    # scikit-learn's shuffling scheme: one seed for every column, successive in-place shuffles of
    # one index, each applied to the already shuffled column
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max + 1)
    found = []
    for name, block in _column_blocks(predictor.preprocessor):
        order, shuffled, drops = np.arange(len(features)), features.clone(), []
        generator = np.random.RandomState(seed)
        for _ in range(repeats):
            generator.shuffle(order)
            shuffled[:, block] = shuffled[torch.from_numpy(order)][:, block]
            drops.append(reference - score(predict_outputs(predictor.module, shuffled).numpy()))
        # rounded: a shuffle that changes nothing leaves float noise like 3.7e-17, not a finding
        found.append({"column": name, "drop": round(float(np.mean(drops)), 12), "std": round(float(np.std(drops)), 12)})
    return sorted(found, key=lambda row: -row["drop"])


def _scorer(predictor, y: np.ndarray):
    """outputs -> accuracy (classification) or R² averaged over targets (regression)."""
    from .head import label_indices
    from .metrics import r2_score

    if predictor.task == "regression":
        truth = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        # network outputs are standardised targets: map them back to the targets' units first
        return lambda outputs: r2_score(truth, predictor.encoder.values(outputs).reshape(truth.shape))
    truth = predictor.encoder.encode(y).reshape(-1).astype(np.int64)
    return lambda outputs: float((label_indices(predictor.task, outputs) == truth).mean())
