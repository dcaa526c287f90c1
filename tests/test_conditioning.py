"""Zero-centring and conditioning helpers (rectified.conditioning)."""

import math

import numpy as np
import pytest

from rectified import conditioning as C


def test_second_moment_and_condition_number_see_the_mean():
    rng = np.random.default_rng(0)
    centred = rng.standard_normal((2000, 3))
    M = C.second_moment(centred, bias=False)
    np.testing.assert_allclose(M, centred.T @ centred / 2000)
    assert C.second_moment(centred).shape == (4, 4)
    shifted = centred + 5.0                   # same spread, large mean
    assert C.condition_number(shifted) > 20 * C.condition_number(centred)
    assert C.condition_number(np.zeros((10, 2)), bias=False) == math.inf
    with pytest.raises(ValueError, match="2-D"):
        C.second_moment(np.ones(5))


def test_same_sign_fraction():
    assert C.same_sign_fraction([[1, 2, 0], [-1, -3, -2], [1, -1, 0], [0, 0, 0]]) == 0.75
    rng = np.random.default_rng(1)
    positive = rng.uniform(0.1, 1, (500, 5))
    delta = rng.standard_normal(500)
    assert C.same_sign_fraction(delta[:, None] * positive) == 1.0
    assert C.same_sign_fraction(delta[:, None] * (positive - 0.55)) < 0.2


def test_sgd_path_converges_and_marks_divergence():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 2))
    w = np.array([1.0, -2.0])
    path = C.sgd_path(X, X @ w, [0, 0], lr=0.2, steps=300, seed=0)
    assert path.shape == (301, 2) and np.allclose(path[0], 0)
    np.testing.assert_allclose(path[-1], w, atol=1e-6)
    blown = C.sgd_path(X, X @ w, [0, 0], lr=50.0, steps=300, seed=0)
    assert np.isnan(blown[-1]).all() and np.isfinite(blown[0]).all()
    with pytest.raises(ValueError, match="same length"):
        C.sgd_path(X, np.ones(3), [0, 0], 0.1, 5)
    with pytest.raises(ValueError, match="lr"):
        C.sgd_path(X, X @ w, [0, 0], 0.0, 5)


def test_readout_gd_and_first_below():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 300)
    F = np.eye(3)[y] + 0.1 * rng.standard_normal((300, 3))      # separable features
    losses = C.readout_gd(F, y, [0.1, 1.0], max_steps=100)
    assert losses.shape == (2, 101)
    np.testing.assert_allclose(losses[:, 0], math.log(3))        # zero weights: uniform
    assert losses[1, -1] < losses[0, -1] < math.log(3)            # larger step, faster
    steps = C.first_below(losses, 0.5)
    assert steps[1] < steps[0] or steps[0] == math.inf
    assert C.first_below([[3.0, 2.0, 1.0]], 2.5)[0] == 1
    assert C.first_below([1.0, 0.9], 0.1)[0] == math.inf
    with pytest.raises(ValueError, match="same length"):
        C.readout_gd(F, y[:10], [0.1], 5)
    with pytest.raises(ValueError, match="positive"):
        C.readout_gd(F, y, [-1.0], 5)


def test_readout_gd_marks_a_blown_up_run_as_inf():
    y = np.array([0, 1] * 50)
    F = np.c_[np.where(y == 0, 1e200, -1e200), np.ones(100)]
    losses = C.readout_gd(F, y, [1e300], max_steps=10)
    assert np.isfinite(losses[0, 0]) and np.isinf(losses[0, -1])
