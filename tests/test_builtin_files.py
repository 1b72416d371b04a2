"""The toy sets read from scikit-learn's files equal what `sklearn.datasets` returns, array for
array, and loading a builtin does not import scikit-learn (its import costs ~0.9 s)."""

import subprocess
import sys

import numpy as np
import pytest

from layerwise.data.builtin import load_builtin
from layerwise.data.sklearn_files import load_toy

datasets = pytest.importorskip("sklearn.datasets")

LOADERS = {"digits": datasets.load_digits, "iris": datasets.load_iris, "wine": datasets.load_wine,
           "breast_cancer": datasets.load_breast_cancer, "diabetes": datasets.load_diabetes}


@pytest.mark.parametrize("name", list(LOADERS))
def test_arrays_equal_sklearns_loaders(name):
    ours, theirs = load_toy(name), LOADERS[name]()
    assert ours.data.dtype == theirs.data.dtype and ours.target.dtype == theirs.target.dtype
    np.testing.assert_array_equal(ours.data, theirs.data)  # bit-identical, not just close
    np.testing.assert_array_equal(ours.target, theirs.target)
    assert list(ours.feature_names) == [str(f) for f in theirs.feature_names]
    if "target_names" in theirs:
        np.testing.assert_array_equal(ours.target_names, theirs.target_names)
    if name == "digits":
        np.testing.assert_array_equal(ours.images, theirs.images)


def test_builtin_table_keeps_string_labels():
    data = load_builtin("iris")
    assert data.X.shape == (150, 4) and set(data.y) == {"setosa", "versicolor", "virginica"}


def test_loading_a_builtin_does_not_import_sklearn():
    code = ("import sys; from layerwise.data.builtin import load_builtin; "
            "[load_builtin(n) for n in ('digits', 'iris', 'wine', 'breast_cancer', 'diabetes')]; "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
