"""Library pieces of the rectifier family chapter: Gaussian moments of activations and their
propagation through depth, RReLU, and the activation-signal experiment."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rectified import activations as A
from rectified import models, moments, plots, propagation


# --- moments --------------------------------------------------------------------------------

def test_gaussian_moments_match_closed_forms():
    # ReLU of N(0, 1): mean 1/√(2π), second moment 1/2
    m, v = moments.gaussian_moments("relu")
    assert m == pytest.approx(1 / math.sqrt(2 * math.pi), abs=1e-5)
    assert v == pytest.approx(0.5 - 1 / (2 * math.pi), abs=1e-5)
    # the identity keeps mean and variance
    assert moments.gaussian_moments("linear", 0.3, 2.0) == pytest.approx((0.3, 2.0), abs=1e-6)
    # SELU's constants make N(0, 1) → mean 0, variance 1
    assert moments.gaussian_moments("selu") == pytest.approx((0.0, 1.0), abs=1e-4)
    # parameters reach the activation: a leaky slope of 1 is the identity
    assert moments.gaussian_moments("leaky_relu", slope=1.0) == pytest.approx((0.0, 1.0),
                                                                                abs=1e-6)


def test_gaussian_moments_agree_with_sampling():
    z = np.random.default_rng(0).normal(0.5, 1.5, 400_000)
    for name in ("elu", "gelu", "silu", "softplus"):
        f = A.get(name)(z)
        m, v = moments.gaussian_moments(name, 0.5, 1.5 ** 2)
        assert m == pytest.approx(f.mean(), abs=0.01)
        assert v == pytest.approx(f.var(), rel=0.02)


def test_variance_map_fixed_points():
    # ReLU with He's gain keeps any variance; SELU with LeCun's returns to 1
    assert np.allclose(moments.variance_map("relu", 10, 3.0, "he"), 3.0, rtol=1e-4)
    q = moments.variance_map("selu", 30, 4.0, gain=1.0)
    assert q.shape == (31,) and q[0] == 4.0 and abs(q[-1] - 1.0) < 1e-3
    # ELU with He's gain grows
    assert moments.variance_map("elu", 10, 1.0, "he")[-1] > 2.0


def test_layer_and_deep_moments():
    m, v = moments.deep_moments("selu", depth=30, width=128, n=256, init="lecun",
                                input_var=4.0, seed=1)
    assert m.shape == v.shape == (31,)
    assert v[0] == pytest.approx(4.0, rel=0.05)
    assert abs(m[-1]) < 0.1 and abs(v[-1] - 1) < 0.2
    net = models.MLP(4, [8, 8], 2, seed=0)
    means, variances = moments.layer_moments(net, np.ones((5, 4)))
    assert means.shape == (2,) and np.all(variances >= 0)


def test_moments_reject_bad_input():
    with pytest.raises(ValueError, match="var"):
        moments.gaussian_moments("relu", 0.0, -1.0)
    with pytest.raises(ValueError, match="unknown init"):
        moments.variance_map("relu", 3, 1.0, "glorot")
    with pytest.raises(ValueError, match="depth"):
        moments.variance_map("relu", -1)
    with pytest.raises(ValueError, match="q0"):
        moments.variance_map("relu", 2, q0=0.0)
    with pytest.raises(ValueError, match="input_var"):
        moments.deep_moments("relu", 2, 4, input_var=float("nan"))
    with pytest.raises(TypeError, match="forward_hidden"):
        moments.layer_moments(torch.nn.Linear(2, 2), np.ones((1, 2)))


# --- RReLU ----------------------------------------------------------------------------------

def test_rrelu_test_mode_matches_torch():
    x = np.linspace(-3, 3, 61)
    expected = F.rrelu(torch.tensor(x), training=False).numpy()
    assert np.allclose(A.rrelu(x), expected)
    slope = (A.RRELU_LOWER + A.RRELU_UPPER) / 2
    assert np.allclose(A.rrelu_grad(x), np.where(x > 0, 1.0, slope))
    assert np.allclose(A.rrelu(x, 0.1, 0.3), np.where(x >= 0, x, 0.2 * x))


def test_rrelu_training_draws_slopes_in_range_like_torch():
    x = -np.ones(50_000)
    ours = -A.rrelu(x, training=True, rng=0)
    torch.manual_seed(0)
    theirs = -F.rrelu(torch.tensor(x), training=True).numpy()
    for s in (ours, theirs):
        assert s.min() >= A.RRELU_LOWER - 1e-12 and s.max() <= A.RRELU_UPPER + 1e-12
        assert s.mean() == pytest.approx((A.RRELU_LOWER + A.RRELU_UPPER) / 2, abs=0.002)
    # a seed or a generator give the same draw; positive inputs are untouched
    gen = np.random.default_rng(0)
    assert np.array_equal(A.rrelu(x, training=True, rng=gen), -ours)
    assert np.array_equal(A.rrelu(np.arange(5.0), training=True, rng=1), np.arange(5.0))


def test_rrelu_rejects_a_bad_range():
    with pytest.raises(ValueError, match="lower"):
        A.rrelu(np.ones(3), lower=0.5, upper=0.1)
    with pytest.raises(ValueError, match="lower"):
        A.rrelu_grad(np.ones(3), lower=-0.1)


# --- the activation-signal experiment ------------------------------------------------------

def _signal(*args, **kwargs):
    return propagation.compute_activation_signal(propagation.ActivationSignalState(*args,
                                                                                   **kwargs))


def test_activation_signal_sets_the_shape_parameter_and_tracks_each_layer():
    r = _signal("leaky_relu", param=0.2, init="he", depth=5, width=16)
    assert r.curve.param_name == "slope" and r.curve.param == 0.2
    assert r.means.shape == r.variances.shape == (6,)            # the input and 5 layers
    assert r.exact_means.shape == r.exact_variances.shape == (5,)
    assert (r.final_mean, r.final_variance) == (r.means[-1], r.variances[-1])
    m, v = moments.gaussian_moments("leaky_relu", slope=0.2)
    assert (r.one_layer_mean, r.one_layer_variance) == (m, v)
    assert r.samples.shape == (20000,) and r.samples.mean() == pytest.approx(m, abs=0.02)
    # an activation without a shape parameter ignores param
    r = _signal("gelu", param=3.0, depth=3, width=8)
    assert r.curve.param_name is None and r.curve.param is None


def test_activation_signal_survives_an_exploding_variance():
    # the identity with He's gain doubles the variance at every layer: past 1e12 the
    # infinite-width curve is left out
    r = _signal("linear", init="he", depth=45, width=8)
    assert r.exact_means is None and r.exact_variances is None
    fig = plots.draw_activation_signal(r)
    assert len(fig.get_axes()[3].get_lines()) >= 1


def test_activation_signal_rejects_bad_states():
    with pytest.raises(ValueError, match="unknown activation"):
        _signal("swish")
    with pytest.raises(ValueError, match="init"):
        _signal(init="xavier")
    with pytest.raises(ValueError, match="depth"):
        _signal(depth=0)
    with pytest.raises(ValueError, match="param must be a finite number"):
        _signal("elu", param=float("nan"))


def test_draw_activation_signal_draws_four_panels():
    fig = plots.draw_activation_signal(_signal("leaky_relu", param=0.2, init="he", depth=5,
                                               width=16))
    axes = fig.get_axes()
    assert len(axes) == 4 and axes[3].get_yscale() == "log"
    assert len(axes[2].get_lines()) == 3           # measured, infinite width, the zero line
