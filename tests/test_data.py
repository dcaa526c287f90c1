import numpy as np
import pytest

from rectified import data


@pytest.mark.parametrize("name", list(data.DATASETS_2D))
def test_2d_sets_are_seeded_balanced_and_bounded(name):
    X, y = data.DATASETS_2D[name](n=300, seed=3)
    X2, y2 = data.DATASETS_2D[name](n=300, seed=3)
    X3, _ = data.DATASETS_2D[name](n=300, seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, X3)
    assert X.shape == (300, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1} and abs(y.mean() - 0.5) < 0.1
    assert np.abs(X).max() < 2.0


def test_ring_geometry_separates_classes_by_radius():
    X, y = data.ring(n=1000, noise=0.0, seed=0)
    r = np.linalg.norm(X, axis=1)
    assert r[y == 0].max() <= 0.5 and r[y == 1].min() >= 0.7


def test_xor_labels_follow_quadrants_without_noise():
    X, y = data.xor(n=500, noise=0.0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_split_is_disjoint_and_complete():
    X = np.arange(100)[:, None].astype(float)
    ds = data.split(X, np.arange(100), test_fraction=0.2, seed=1)
    assert len(ds.X_test) == 20 and len(ds.X_train) == 80
    assert sorted(np.r_[ds.y_train, ds.y_test].tolist()) == list(range(100))
    assert "regression" in repr(ds)


def test_classification_2d_wraps_a_split():
    ds = data.classification_2d("spiral", n=200, noise=0.1, seed=0)
    assert ds.n_classes == 2 and ds.n_features == 2 and ds.is_classification
    assert len(ds.X_train) == 150 and "2 classes" in repr(ds)


@pytest.mark.parametrize("target", list(data.TARGETS_1D))
def test_regression_targets(target):
    ds = data.regression_1d(target, n=100, noise=0.0, seed=0)
    assert ds.X_train.shape == (75, 1) and ds.y_train.shape == (75, 1)
    f = data.TARGETS_1D[target]
    np.testing.assert_allclose(ds.y_train, f(ds.X_train.astype(float)), atol=1e-5)
    assert not ds.is_classification


def test_adding_problem_structure_and_baseline():
    X, y = data.adding_problem(n=2000, length=20, seed=0)
    assert X.shape == (2000, 20, 2) and y.shape == (2000, 1)
    marks = X[:, :, 1]
    assert np.all(marks.sum(1) == 2)
    assert np.all(marks[:, :10].sum(1) == 1) and np.all(marks[:, 10:].sum(1) == 1)
    np.testing.assert_allclose(y[:, 0], (X[:, :, 0] * marks).sum(1), rtol=1e-6)
    mse_of_predicting_one = float(((y - 1) ** 2).mean())
    assert abs(mse_of_predicting_one - data.ADDING_BASELINE_MSE) < 0.01


def test_digits_split_and_standardisation_use_training_statistics():
    ds = data.digits(seed=0)
    assert ds.X_train.shape[1] == 64 and ds.n_classes == 10
    assert len(ds.X_train) + len(ds.X_test) == 1797
    varying = ds.X_train.std(0) > 0
    np.testing.assert_allclose(ds.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.X_train.std(0)[varying], 1, atol=1e-4)
    raw = data.digits(seed=0, standardize=False)
    assert raw.X_train.max() == 16 and raw.X_train.min() == 0
    img = data.digits(seed=0, images=True)
    assert img.X_train.shape[1:] == (1, 8, 8)
