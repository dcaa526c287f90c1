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


def test_settling_step_finds_the_last_entry_into_the_ball():
    target = np.array([1.0, 0.0])
    path = np.array([[0, 0], [0.95, 0], [0.5, 0], [0.99, 0], [1.0, 0]], dtype=float)
    assert C.settling_step(path, target, radius=0.1) == 3.0
    assert C.settling_step(path[[0, 1]], target, radius=0.1) == 1.0
    assert C.settling_step(path[[3, 4]], target, radius=0.1) == 0.0
    assert C.settling_step(path[:3], target, radius=0.1) == math.inf
    blown = np.array([[0.0, 0.0], [np.nan, np.nan]])
    assert C.settling_step(blown, target) == math.inf


def test_mean_to_variance_matches_the_gaussian_values():
    from rectified import moments

    u = np.random.default_rng(5).standard_normal((200_000, 2))
    for name, f in (("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
                    ("relu", lambda z: np.maximum(z, 0))):
        m, v = moments.gaussian_moments(name)
        assert C.mean_to_variance(f(u)) == pytest.approx(m * m / v, rel=0.02)
    assert C.mean_to_variance(np.tanh(u)) < 1e-3
    with pytest.raises(ValueError, match="vary"):
        C.mean_to_variance(np.ones((5, 2)))


def test_random_features_and_their_treatments():
    X = np.random.default_rng(6).standard_normal((300, 16))
    raw = C.random_features(X, "relu", 8, seed=1)
    assert raw.shape == (300, 8) and (raw >= 0).all()
    np.testing.assert_array_equal(raw, C.random_features(X, "relu", 8, seed=1))
    centred = C.random_features(X, "relu", 8, seed=1, treatment="centred")
    np.testing.assert_allclose(centred, raw - raw.mean(0))
    bn = C.random_features(X, "relu", 8, seed=1, treatment="batchnorm")
    np.testing.assert_allclose(bn.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(bn.std(0), 1)
    with pytest.raises(ValueError, match="treatment"):
        C.random_features(X, "relu", treatment="whitened")
    with pytest.raises(ValueError, match="n_features"):
        C.random_features(X, "relu", n_features=0)


def test_readout_gd_trains_a_stack_of_feature_sets_on_their_own():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 120)
    sets = np.stack([np.eye(3)[y] + s * rng.standard_normal((120, 3)) for s in (0.1, 0.5)])
    stacked = C.readout_gd(sets, y, [0.5, 2.0], max_steps=30)
    assert stacked.shape == (2, 2, 31)
    for k in range(2):
        np.testing.assert_allclose(stacked[k], C.readout_gd(sets[k], y, [0.5, 2.0], 30))
    assert C.first_below(stacked, 0.5).shape == (2, 2)
    with pytest.raises(ValueError, match="same length"):
        C.readout_gd(sets, y[:100], [0.5], 5)


def test_compute_readout_sees_the_mean():
    raw = C.compute_readout(C.ReadoutState("sigmoid", "raw", max_steps=150))
    centred = C.compute_readout(C.ReadoutState("sigmoid", "centred", max_steps=150))
    assert raw.mean_to_variance > 3 and centred.mean_to_variance < 1e-9
    assert raw.condition > 10 * centred.condition
    assert centred.best_steps < raw.best_steps
    assert raw.losses.shape == (len(raw.state.lrs), 151)
    assert raw.best_lr in raw.state.lrs and raw.sample.size > 0
    with pytest.raises(TypeError, match="ReadoutState"):
        C.compute_readout("sigmoid")
    with pytest.raises(ValueError, match="lrs"):
        C.compute_readout(C.ReadoutState(lrs=(2.0, 1.0)))
    with pytest.raises(ValueError, match="n_examples"):
        C.compute_readout(C.ReadoutState(n_examples=3))


def test_draw_readout_returns_its_figure():
    import matplotlib.pyplot as plt

    from rectified import plots

    fig = plots.draw_readout(C.compute_readout(C.ReadoutState("relu", max_steps=40)))
    assert len(fig.axes) == 2
    plt.close(fig)
