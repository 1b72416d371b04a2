"""scikit-learn estimators: `NetClassifier` and `NetRegressor`, on layerwise's own engine.

    from sklearn.pipeline import make_pipeline
    from sklearn.impute import SimpleImputer
    from layerwise.sklearn import NetClassifier
    model = make_pipeline(SimpleImputer(), NetClassifier(hidden=(64,), epochs=50)).fit(X, y)

`fit` builds a layerwise config from the constructor arguments and trains through the same
preprocessing, resident-tensor batcher and loop as `layerwise train`; the fitted estimator keeps
the resulting `Predictor` as `predictor_` (export it with `layerwise.export`). `warm_start=True`
and `partial_fit` keep the first fit's preprocessing, label map, weights and optimizer state.

scikit-learn's own conformance suite runs on both classes in CI (tests/test_sklearn_checks.py);
the checks that cannot hold for a stochastic minibatch trainer are listed with their reasons in
`EXPECTED_FAILED_CHECKS`.
"""

from __future__ import annotations

import copy
import numbers
import sys
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from .errors import LayerwiseError

__all__ = ["NetClassifier", "NetRegressor", "EXPECTED_FAILED_CHECKS", "expected_failed_checks"]

# check name -> why it cannot pass; handed to sklearn's `check_estimator(expected_failed_checks=)`.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "integer weights equal repeated rows only in expectation for minibatch SGD: repeating rows "
        "changes the epoch length and batch composition, and the standardisation statistics are "
        "learned per row, unweighted (zero weights, which drop rows, are exact)"),
}


def expected_failed_checks(estimator) -> dict[str, str]:
    """The `expected_failed_checks` argument for sklearn's check_estimator / parametrize_with_checks."""
    return dict(EXPECTED_FAILED_CHECKS)


class EstimatorInputError(LayerwiseError, ValueError):
    """A layerwise user error raised through the scikit-learn API: catchable as either type."""


_FLOATS = (np.float64, np.float32)


class _NetBase(BaseEstimator):
    """Shared fit/predict machinery; subclasses fix the task and the label handling."""

    def __init__(self, hidden=(100,), activation="relu", *, epochs=100, batch_size=32, optimizer="adam",
                 lr=1e-3, weight_decay=0.0, dropout=0.0, val_split=0.0, patience=10, min_delta=1e-4,
                 random_state=0, device="cpu", warm_start=False, verbose=False, config=None):
        self.hidden = hidden  # hidden layer sizes, like MLPClassifier's hidden_layer_sizes
        self.activation = activation  # one name, or one per hidden layer
        self.epochs = epochs  # at most this many passes over the data per fit
        self.batch_size = batch_size  # rows per optimizer step; 0 = full batch
        self.optimizer = optimizer  # sgd | adam | adamw | rmsprop
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.val_split = val_split  # > 0: stop on the loss of this held-out fraction, else on train loss
        self.patience = patience  # epochs without improvement before stopping; None = run all epochs
        self.min_delta = min_delta  # smallest loss decrease that counts as an improvement
        self.random_state = random_state  # int seed (default 0: reproducible), None or a RandomState
        self.device = device  # cpu | cuda | mps | auto
        self.warm_start = warm_start  # True: a second fit continues from the fitted network
        self.verbose = verbose  # print one line per epoch
        self.config = config  # extra layerwise config (nested dict), e.g. {"training": {"schedule": "cosine"}}

    # ---- the config ----------------------------------------------------------------------------
    def _run_config(self, task: str, seed: int):
        from .spec import RunConfig

        hidden = [self.hidden] if isinstance(self.hidden, numbers.Integral) else list(self.hidden)
        activation = self.activation if isinstance(self.activation, str) else list(self.activation)
        stopping = {"enabled": self.patience is not None, "min_delta": self.min_delta}
        if self.patience is not None:
            stopping["patience"] = self.patience
        training = {"epochs": self.epochs, "batch_size": self.batch_size, "optimizer": self.optimizer,
                    "lr": self.lr, "weight_decay": self.weight_decay, "seed": seed, "device": self.device,
                    "early_stopping": stopping}
        weights = getattr(self, "class_weight", None)
        if isinstance(weights, dict):  # layerwise keys class weights by the label's text
            weights = {str(label): weight for label, weight in weights.items()}
        if weights is not None:
            training["class_weights"] = weights
        # plain: the constructor's arguments are the whole recipe, as in scikit-learn
        raw = {"preset": "plain", "task": task, "data": {"val_split": self.val_split, "test_split": 0.0},
               "network": {"hidden": hidden, "activation": activation, "dropout": self.dropout},
               "training": training}
        _merge(raw, self.config or {})
        try:
            return RunConfig.from_dict(raw, where=type(self).__name__)
        except LayerwiseError as exc:
            raise EstimatorInputError(str(exc)) from None

    def _seed(self) -> int:
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    # ---- fitting -------------------------------------------------------------------------------
    def _validate_fit(self, X, y, reset: bool, sample_weight):
        if _has_text_columns(X) or (not reset and self._takes_tables()):
            # a DataFrame with text/categorical columns: kept as a table, so it gets `train`'s own
            # preprocessing (one-hot categories, medians + indicators for gaps), matched by name
            if reset:
                validate_data(self, X, reset=True, skip_check_array=True)  # feature_names_in_, n_features_in_
            y = np.asarray(y) if self._classifier else np.asarray(y, dtype=np.float64)
            if len(y) != len(X):
                raise EstimatorInputError(f"X has {len(X)} rows but y has {len(y)}")
        else:
            X, y = validate_data(self, X, y, reset=reset, dtype=_FLOATS, ensure_all_finite="allow-nan",
                                 multi_output=self._multi_output, y_numeric=not self._classifier)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            keep = sample_weight > 0  # a zero weight is the same as leaving the row out
            X = X[keep] if not hasattr(X, "iloc") else X.iloc[np.flatnonzero(keep)]
            y, sample_weight = y[keep], sample_weight[keep]
            if np.all(sample_weight == sample_weight[0]):
                sample_weight = None  # equal weights change nothing: take the unweighted path
        return X, y, sample_weight

    def _train(self, X, y, sample_weight, task: str, *, keep: bool, partial: bool):
        """Train on validated (X, y); `keep`: continue from the fitted network and preprocessing;
        `partial`: one pass over all of (X, y), nothing held out."""
        from .artifacts import model_card
        from .run import resolve_device
        from .training.session import TrainingSession

        config = self._run_config(task, self._seed())
        if partial:
            config.data.val_split = 0.0
        epochs = 1 if partial else config.training.epochs
        encoder = self.predictor_.encoder if keep else self._new_encoder(task, y, config.data.scales_target())
        try:
            prepared = _prepare(config, X, y, sample_weight, encoder, self.predictor_ if keep else None)
            session = TrainingSession(config, prepared, resolve_device(config.training.device))
        except LayerwiseError as exc:
            raise EstimatorInputError(str(exc)) from None
        start = self.n_iter_ + 1 if keep else 1
        if keep:  # copy the fitted values into the tensors the new optimizer holds
            session.model.load_state_dict(self.predictor_.module.state_dict())
            session.optimizer.load_state_dict(self._optimizer_state)
        if self.verbose:
            from .training.callbacks import Progress

            session.trainer.callbacks.append(Progress(start + epochs - 1, sys.stdout))
        history = session.trainer.fit(start + epochs - 1, start_epoch=start)
        self._store(session, prepared, model_card(prepared), history, keep)
        return self

    def _store(self, session, prepared, meta, history, keep: bool) -> None:
        from .predictor import Predictor

        self.history_ = (self.history_ if keep else []) + list(history)  # one logs dict per epoch
        self.n_iter_ = len(self.history_)
        self.loss_ = float(self.history_[-1]["train_loss"])
        self.best_epoch_ = session.early_stopping.best_epoch or self.n_iter_
        self._optimizer_state = session.optimizer.state_dict()
        self.predictor_ = Predictor(session.model.cpu(), prepared.preprocessor, prepared.encoder, meta)
        self._module64 = copy.deepcopy(self.predictor_.module).double()

    def _fit(self, X, y, sample_weight, partial: bool, classes=None):
        keep = (partial or self.warm_start) and hasattr(self, "predictor_")
        X, y, sample_weight = self._validate_fit(X, y, reset=not keep, sample_weight=sample_weight)
        if len(X) == 0:
            raise EstimatorInputError("sample_weight: every weight is zero; at least one row must count")
        y, task = self._targets(y, keep, classes, partial)
        return self._train(X, y, sample_weight, task, keep=keep, partial=partial)

    # ---- predicting ----------------------------------------------------------------------------
    def _outputs(self, X) -> np.ndarray:
        """Network outputs in float64. float32 GEMM kernels differ with the number of rows (by an
        ulp), so a row's float32 prediction would depend on its batch; float64 makes it stable."""
        import torch

        from .training.loop import predict_outputs

        check_is_fitted(self, "predictor_")
        if not self._takes_tables():  # tables: columns matched by name, extras ignored with a warning,
            # as predict, evaluate and serve do (scikit-learn's own check would also demand the order)
            X = validate_data(self, X, reset=False, dtype=_FLOATS, ensure_all_finite="allow-nan")
        try:
            features = self.predictor_.transform(X, where="X")  # float32 (n, input_size)
        except LayerwiseError as exc:
            raise EstimatorInputError(str(exc)) from None
        return predict_outputs(self._module64, torch.from_numpy(features).double()).numpy()

    def _takes_tables(self) -> bool:
        predictor = getattr(self, "predictor_", None)
        return predictor is not None and predictor.preprocessor.kind == "table"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN -> the training median (+ a missing-indicator column)
        return tags


class NetClassifier(ClassifierMixin, _NetBase):
    """A feed-forward network classifier: binary (one logit, BCE) or multiclass (softmax, CE).

    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> NetClassifier(hidden=(16,), epochs=60).fit(X, y).score(X, y) > 0.9
    True
    """

    _classifier, _multi_output = True, False

    def __init__(self, hidden=(100,), activation="relu", *, epochs=100, batch_size=32, optimizer="adam",
                 lr=1e-3, weight_decay=0.0, dropout=0.0, val_split=0.0, patience=10, min_delta=1e-4,
                 class_weight=None, random_state=0, device="cpu", warm_start=False, verbose=False, config=None):
        super().__init__(hidden, activation, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
                         weight_decay=weight_decay, dropout=dropout, val_split=val_split, patience=patience,
                         min_delta=min_delta, random_state=random_state, device=device,
                         warm_start=warm_start, verbose=verbose, config=config)
        self.class_weight = class_weight  # None, "balanced", or {label: weight}

    def fit(self, X, y, sample_weight=None):
        """Train on (X, y); a second call starts afresh unless `warm_start=True`."""
        return self._fit(X, y, sample_weight, partial=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass over (X, y); the first call needs `classes`, all the labels there will be."""
        return self._fit(X, y, sample_weight, partial=True, classes=classes)

    def _targets(self, y, keep: bool, classes, partial: bool):
        check_classification_targets(y)
        y = column_or_1d(y, warn=True)
        if keep:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise EstimatorInputError(f"classes={list(classes)} differs from the first call's "
                                          f"{list(self.classes_)}")
            return y, self.predictor_.task
        if partial and classes is None:
            raise EstimatorInputError("classes must be passed on the first call to partial_fit")
        self.classes_ = np.unique(y if classes is None else np.asarray(classes))
        if len(self.classes_) < 2:
            raise EstimatorInputError(f"y: only one class ({self.classes_[0]!r}) in the training data; "
                                      "need at least 2")
        return y, "binary" if len(self.classes_) == 2 else "multiclass"

    def _new_encoder(self, task: str, y=None, standardize: bool = False):
        from .data.targets import TargetEncoder

        labels = [label.item() if hasattr(label, "item") else label for label in self.classes_]
        return TargetEncoder(task, labels, 1 if task == "binary" else len(labels))

    def predict_proba(self, X) -> np.ndarray:
        """(n, n_classes) probabilities, columns in `classes_` order."""
        from .head import probabilities

        outputs = self._outputs(X)  # first: an unfitted estimator raises NotFittedError there
        return probabilities(self.predictor_.task, outputs)

    def predict_log_proba(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        from .head import label_indices

        outputs = self._outputs(X)  # first: an unfitted estimator raises NotFittedError there
        return self.classes_[label_indices(self.predictor_.task, outputs)]


class NetRegressor(RegressorMixin, _NetBase):
    """A feed-forward network regressor with one or several outputs (MSE loss by default).

    Targets are standardised (mean and std of the y given to `fit`, per column) and predictions
    mapped back; `config={"data": {"standardize_target": False}}` trains on y as given.
    """

    _classifier, _multi_output = False, True

    def fit(self, X, y, sample_weight=None):
        """Train on (X, y); a second call starts afresh unless `warm_start=True`."""
        return self._fit(X, y, sample_weight, partial=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One pass over (X, y), keeping the first call's preprocessing."""
        return self._fit(X, y, sample_weight, partial=True)

    def _targets(self, y, keep: bool, classes, partial: bool):
        y = np.asarray(y, dtype=np.float64)
        if not keep:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        elif (1 if y.ndim == 1 else y.shape[1]) != self.n_outputs_:
            raise EstimatorInputError(f"y has {1 if y.ndim == 1 else y.shape[1]} outputs; "
                                      f"the network was fitted with {self.n_outputs_}")
        return y, "regression"

    def _new_encoder(self, task: str, y=None, standardize: bool = True):
        from .data.targets import TargetEncoder

        # scaled on every row given (the held-out split is a slice of the same y)
        return TargetEncoder.fit(y, task, "y", standardize=standardize)

    def predict(self, X) -> np.ndarray:
        """(n,) for one target (also when fitted on a one-column y), else (n, n_outputs)."""
        outputs = self._outputs(X)  # checks it is fitted first
        outputs = self.predictor_.encoder.values(outputs)
        return outputs[:, 0] if outputs.shape[1] == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _prepare(config, X, y, sample_weight, encoder, kept=None):
    """`training.prepare.prepare` on the arrays, with the label map given (so partial_fit's `classes`
    can name labels this batch lacks) and, when continuing a fit, the kept preprocessing."""
    from .data.sources import Dataset
    from .resolve import Modes
    from .training.prepare import prepare

    kind = "table" if hasattr(X, "columns") else "array"
    dataset = Dataset(name="X", X=X, y=np.asarray(y), kind=kind)
    fitted = None if kept is None else (kept.preprocessor, kept.architecture)
    return prepare(config, dataset, sample_weight, encoder=encoder, fitted=fitted, modes=Modes(in_memory=True, estimator=True))


def _has_text_columns(X) -> bool:
    """A DataFrame with a column that is not numeric (text, category, object)."""
    if not hasattr(X, "dtypes"):
        return False
    import pandas as pd

    return any(not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)) for t in X.dtypes)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
