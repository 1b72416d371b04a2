"""NetClassifier / NetRegressor against references: layerwise's own `fit` (same engine, same
numbers), scikit-learn's linear models (same data, comparable scores), and exact identities
(warm start 5+5 epochs = 10 epochs, zero weight = row removed, pickle = same predictions)."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import layerwise
from helpers import mixed_table
from layerwise.errors import LayerwiseError
from layerwise.sklearn import NetClassifier, NetRegressor


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]


def test_classifier_is_layerwise_fit_with_the_same_settings(iris):
    X, y = iris
    model = NetClassifier(hidden=(16,), epochs=25, lr=0.01, random_state=3).fit(X, y)
    config = {"task": "multiclass", "data": {"val_split": 0.0, "test_split": 0.0}, "network": {"hidden": [16]},
              "training": {"epochs": 25, "lr": 0.01, "seed": 3, "device": "cpu",
                           "early_stopping": {"patience": 10, "min_delta": 1e-4}}}
    run = layerwise.fit(config, data=(X, y))
    np.testing.assert_allclose(model.predict_proba(X), run.predict_proba(X), atol=1e-6)
    assert [row["train_loss"] for row in model.history_] == [row["train_loss"] for row in run.history]
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]


def test_string_labels_binary_and_multiclass_score_like_logistic_regression():
    for loader, names in ((load_breast_cancer, ["malignant", "benign"]), (load_wine, ["a", "b", "c"])):
        X, y = loader(return_X_y=True)
        y = np.array(names, dtype=object)[y]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        net = NetClassifier(hidden=(32,), epochs=60).fit(X_train, y_train)
        reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
        assert set(net.predict(X_test)) <= set(names) and list(net.classes_) == sorted(names)
        assert net.predict_proba(X_test).shape == (len(X_test), len(names))
        assert net.score(X_test, y_test) >= reference.score(X_test, y_test) - 0.04


def test_regressor_multi_output_matches_linear_regression_on_linear_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    Y = X @ rng.normal(size=(5, 3)) + 0.05 * rng.normal(size=(400, 3))
    model = NetRegressor(hidden=(32,), epochs=150, lr=0.01).fit(X, Y)
    assert model.predict(X).shape == (400, 3) and model.n_outputs_ == 3
    assert model.score(X, Y) > LinearRegression().fit(X, Y).score(X, Y) - 0.02


def test_pipeline_grid_search_and_cross_val_score(iris):
    X, y = iris
    search = GridSearchCV(make_pipeline(StandardScaler(), NetClassifier(epochs=40, lr=0.01)),
                          {"netclassifier__hidden": [(4,), (32,)]}, cv=3).fit(X, y)
    assert search.best_params_["netclassifier__hidden"] in [(4,), (32,)] and search.best_score_ > 0.9
    X, y = load_diabetes(return_X_y=True)
    net = TransformedTargetRegressor(NetRegressor(hidden=(16,), epochs=60, weight_decay=1e-3),
                                     transformer=StandardScaler())
    net_r2 = cross_val_score(net, X, y, cv=3).mean()
    ridge_r2 = cross_val_score(Ridge(), X, y, cv=3).mean()  # 0.46 on this split
    assert net_r2 > ridge_r2 - 0.08


def test_column_transformer_output_and_raw_nans():
    table = mixed_table(n=300)
    X, y = table.drop(columns="label"), table["label"].to_numpy()
    columns = ColumnTransformer([("num", SimpleImputer(), ["size", "weight"]),
                                 ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])])
    model = make_pipeline(columns, NetClassifier(hidden=(16,), epochs=60)).fit(X[:200], y[:200])
    assert model.score(X[200:], y[200:]) > 0.85
    # NaN in numeric columns needs no imputer: layerwise fills the training median and adds an
    # indicator column, as it does for `layerwise train`.
    numeric = X[["size", "weight"]].to_numpy()
    net = NetClassifier(hidden=(16,), epochs=60).fit(numeric[:200], y[:200])
    assert np.isnan(numeric).any() and net.predictor_.preprocessor.n_features == 3
    assert net.score(numeric[200:], y[200:]) > 0.75


def test_dataframe_input_records_feature_names(iris):
    import pandas as pd

    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    model = NetClassifier(hidden=(8,), epochs=5).fit(frame, y)
    assert list(model.feature_names_in_) == ["sl", "sw", "pl", "pw"] and model.n_features_in_ == 4


def test_pickle_and_joblib_round_trips_predict_the_same(iris, tmp_path):
    X, y = iris
    model = NetClassifier(hidden=(8,), epochs=10, warm_start=True).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    joblib.dump(model, tmp_path / "net.joblib")
    loaded = joblib.load(tmp_path / "net.joblib")
    for copy in (again, loaded):
        np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(copy.predict(X), model.predict(X))
    loaded.fit(X, y)  # a loaded estimator keeps training where it stopped
    assert loaded.n_iter_ == 20


def test_warm_start_five_plus_five_epochs_equals_ten(iris):
    X, y = iris
    settings = dict(hidden=(8,), lr=1e-3, patience=None, random_state=1)
    warm = NetClassifier(epochs=5, warm_start=True, **settings).fit(X, y).fit(X, y)
    cold = NetClassifier(epochs=10, **settings).fit(X, y)
    assert warm.n_iter_ == 10 and len(warm.history_) == 10
    np.testing.assert_allclose(warm.predict_proba(X), cold.predict_proba(X), rtol=0, atol=1e-12)
    refit = NetClassifier(epochs=5, **settings).fit(X, y).fit(X, y)  # warm_start=False starts afresh
    assert refit.n_iter_ == 5


def test_partial_fit_passes_equal_epochs_and_keep_all_classes(iris):
    X, y = iris
    classes = np.unique(y)
    settings = dict(hidden=(8,), patience=None, random_state=2)
    online = NetClassifier(**settings)
    for _ in range(4):
        online.partial_fit(X, y, classes=classes)
    batch = NetClassifier(epochs=4, **settings).fit(X, y)
    np.testing.assert_allclose(online.predict_proba(X), batch.predict_proba(X), rtol=0, atol=1e-12)
    # a first batch without virginica still gives three probability columns
    first = NetClassifier(hidden=(8,)).partial_fit(X[:100], y[:100], classes=classes)
    assert first.predict_proba(X).shape == (150, 3) and list(first.classes_) == list(classes)
    with pytest.raises(ValueError, match="classes must be passed"):
        NetClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="never saw"):
        first.partial_fit(X[:5], np.array(["daisy"] * 5, dtype=object))
    with pytest.raises(ValueError, match="features"):
        first.partial_fit(X[:, :3], y)
    regressor = NetRegressor(hidden=(8,)).partial_fit(X[:, :3], X[:, 3]).partial_fit(X[:, :3], X[:, 3])
    assert regressor.n_iter_ == 2


def test_sample_weight_zero_is_removal_and_weights_shift_predictions(iris):
    X, y = iris
    settings = dict(hidden=(8,), epochs=20, lr=0.01)
    weights = np.r_[np.ones(100), np.zeros(50)]
    weighted = NetClassifier(**settings).fit(X, y, sample_weight=weights)
    removed = NetClassifier(**settings).fit(X[:100], y[:100], sample_weight=None)
    np.testing.assert_array_equal(weighted.predict_proba(X[:100]), removed.predict_proba(X[:100]))
    base = NetClassifier(**settings).fit(X, y)
    heavy = NetClassifier(**settings).fit(X, y, sample_weight=np.where(y == "virginica", 20.0, 1.0))
    assert (heavy.predict(X) == "virginica").sum() > (base.predict(X) == "virginica").sum()
    with pytest.raises(ValueError, match="[Nn]egative"):
        NetClassifier(**settings).fit(X, y, sample_weight=-np.ones(150))
    with pytest.raises(ValueError):
        NetClassifier(**settings).fit(X, y, sample_weight=np.zeros(150))


def test_bad_hyper_parameters_fail_at_fit_naming_the_setting(iris):
    X, y = iris
    model = NetClassifier(activation="swoosh")  # no checks in __init__ (scikit-learn's rule)
    with pytest.raises(ValueError, match="swoosh") as caught:
        model.fit(X, y)
    assert isinstance(caught.value, LayerwiseError) and "\n" not in str(caught.value)
    with pytest.raises(LayerwiseError, match="training.lr"):
        NetClassifier(lr=-1.0).fit(X, y)
    with pytest.raises(LayerwiseError, match="unknown key"):
        NetClassifier(config={"training": {"epoch": 3}}).fit(X, y)


def test_config_passes_other_layerwise_settings_through(iris):
    X, y = iris
    model = NetClassifier(hidden=(8,), epochs=3, config={"network": {"batch_norm": True}}).fit(X, y)
    assert model.predictor_.architecture.batch_norm
    assert model.predict_proba(X).shape == (150, 3)
