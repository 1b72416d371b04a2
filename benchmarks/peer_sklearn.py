"""scikit-learn's MLPClassifier / MLPRegressor, one `partial_fit` (one epoch) at a time.

alpha=0 turns off sklearn's default L2 penalty so the objective matches the torch peers;
nesterov momentum is off for the same reason. sklearn keeps float32 input in float32.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .workloads import Data, Workload

REQUIRES = ("sklearn",)
DEVICES = ("cpu",)  # NumPy only


def _estimator(w: Workload):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    kind = MLPRegressor if w.task == "regression" else MLPClassifier
    return kind(hidden_layer_sizes=w.hidden, activation="relu", solver=w.optimizer,
                batch_size=w.batch, learning_rate_init=w.lr, momentum=w.momentum,
                nesterovs_momentum=False, alpha=0.0, max_iter=1, shuffle=True,
                random_state=w.seed)


def train(w: Workload, data: Data, device: str, epochs: int) -> list[float]:
    from sklearn.exceptions import ConvergenceWarning

    x, y = data.arrays()
    estimator = _estimator(w)
    classes = {} if w.task == "regression" else {"classes": np.unique(y)}
    seconds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(epochs):
            start = time.perf_counter()
            # `classes` is required on the first call only
            estimator.partial_fit(x, y, **(classes if epoch == 0 else {}))
            seconds.append(time.perf_counter() - start)
    return seconds
