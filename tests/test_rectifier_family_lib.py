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


# --- initialisation gains and dropout through depth ----------------------------------------

def test_fixed_point_gain_is_he_lecun_and_the_prelu_formula():
    assert moments.fixed_point_gain("relu") == pytest.approx(2.0, abs=1e-6)
    assert moments.fixed_point_gain("selu") == pytest.approx(1.0, abs=1e-6)
    assert moments.fixed_point_gain("leaky_relu", slope=0.2) == \
        pytest.approx(2 / 1.04, abs=1e-6)
    for name in ("elu", "softplus", "gelu", "silu"):
        g = moments.fixed_point_gain(name)
        assert moments.variance_map(name, 5, 1.0, g)[-1] == pytest.approx(1.0, abs=1e-6)
    # another variance: ReLU's gain does not depend on it, GELU's does
    assert moments.fixed_point_gain("relu", q=3.0) == pytest.approx(2.0, abs=1e-6)
    assert moments.fixed_point_gain("gelu", q=3.0) < moments.fixed_point_gain("gelu")
    with pytest.raises(ValueError, match="q must be"):
        moments.fixed_point_gain("relu", q=0.0)


def test_alpha_dropout_keeps_selu_at_mean_zero_variance_one():
    kw = dict(depth=20, width=128, n=512, init="lecun", seed=3)
    m0, v0 = moments.deep_moments("selu", **kw)
    m_d, v_d = moments.deep_moments("selu", dropout=0.2, **kw)
    m_a, v_a = moments.deep_moments("selu", dropout=0.2, dropout_kind="alpha", **kw)
    assert abs(v_a[-1] - 1) < 0.15 and abs(m_a[-1]) < 0.1
    assert v_d[-1] > 1.6 and m_d[-1] > 0.05
    # the same seed draws the same masks; without dropout nothing is random
    assert np.array_equal(moments.deep_moments("selu", dropout=0.2, **kw)[1], v_d)
    assert np.array_equal(v0, moments.deep_moments("selu", **kw)[1])
    with pytest.raises(ValueError, match="dropout_kind"):
        models.MLP(4, [4], 2, dropout=0.1, dropout_kind="gaussian")


def test_layer_moments_training_flag_turns_dropout_on_and_restores_the_mode():
    net = models.MLP(8, [64, 64], 2, dropout=0.5, seed=0)
    X = np.ones((32, 8))
    _, v_eval = moments.layer_moments(net, X)
    torch.manual_seed(0)
    _, v_train = moments.layer_moments(net, X, training=True)
    assert v_train[1] != v_eval[1] and net.training      # back in its own mode
    net.eval()
    moments.layer_moments(net, X, training=True)
    assert not net.training


# --- CReLU: concatenated layers ------------------------------------------------------------

def test_concatenated_mlp_outputs_both_halves_and_doubles_the_fan_in():
    net = models.MLP(5, [3, 4], 2, activation="relu", concatenated=True, seed=0)
    assert [lin.in_features for lin in net.linears] == [5, 6]
    assert net.out.in_features == 8
    x = torch.randn(7, 5)
    out, pres, posts = net.forward_hidden(x)
    assert posts[0].shape == (7, 6) and pres[0].shape == (7, 3)
    assert torch.equal(posts[0], torch.cat([pres[0].relu(), (-pres[0]).relu()], -1))
    # the two halves give back z: a CReLU layer loses nothing
    assert torch.allclose(posts[0][:, :3] - posts[0][:, 3:], pres[0])
    # from_weights chains concatenated shapes
    W = [(np.eye(2), np.zeros(2)), (np.hstack([np.eye(2), -np.eye(2)]), np.zeros(2))]
    ident = models.MLP.from_weights(W, "relu", concatenated=True)
    assert torch.allclose(ident(x[:, :2]), x[:, :2])
    with pytest.raises(ValueError, match="do not chain"):
        models.MLP.from_weights(W, "relu")
    with pytest.raises(ValueError, match="element-wise"):
        models.MLP(4, [4], 2, activation="maxout", concatenated=True)
    with pytest.raises(TypeError, match="concatenated must be a bool"):
        models.MLP(4, [4], 2, concatenated=1)
    bn = models.MLP(4, [3], 2, concatenated=True, batchnorm="after")
    assert bn.norms[0].num_features == 6


@pytest.mark.parametrize("activation,params,concatenated",
                         [("prelu", {"alpha": 0.25}, False), ("relu", {}, True),
                          ("prelu", {"alpha": 0.1}, True)])
def test_ensemble_of_prelu_or_crelu_nets_matches_separate_runs(activation, params,
                                                                concatenated):
    from rectified import data, train
    digits = data.digits(test_fraction=0.5, seed=0)
    nets = [models.MLP(64, [8, 6], 10, activation=activation, seed=s,
                       concatenated=concatenated, **params) for s in (0, 1)]
    ens = models.MLPEnsemble(nets)
    assert len(ens.slopes) == (2 if activation == "prelu" else 0)
    cfgs = [train.TrainConfig(optimizer="momentum", lr=lr, epochs=2, batch_size=32,
                              seed=s, diagnostics=False, weight_decay=1e-3)
            for s, lr in ((0, 0.02), (1, 0.04))]
    hists = train.train(ens, digits, cfgs)
    X = torch.as_tensor(digits.X_test[:40])
    for k, cfg in enumerate(cfgs):
        net = models.MLP(64, [8, 6], 10, activation=activation, seed=k,
                         concatenated=concatenated, **params)
        ref = train.train(net, digits, cfg)
        np.testing.assert_allclose(hists[k].loss, ref.loss, rtol=1e-4)
        member = ens.member(k)
        with torch.no_grad():
            np.testing.assert_allclose(member(X).numpy(), net(X).numpy(), atol=1e-3)
        if activation == "prelu":        # the slopes learned, as in the single run
            np.testing.assert_allclose(member.acts[0].weight.detach().numpy(),
                                       net.acts[0].weight.detach().numpy(), atol=1e-4)
            assert not np.allclose(net.acts[0].weight.detach().numpy(), params["alpha"])
    # only members from one run: ens(X, members=...) picks slopes too
    with torch.no_grad():
        np.testing.assert_allclose(ens(X, members=[1])[0].numpy(),
                                   ens.member(1)(X).numpy(), atol=1e-4)


def test_ensemble_prelu_slopes_are_decayed_only_with_decay_prelu():
    from rectified import data, train
    digits = data.digits(test_fraction=0.5, seed=0)

    def slopes_after(decay_prelu):
        ens = models.MLPEnsemble([models.MLP(64, [6], 10, activation="prelu", seed=0)])
        train.train(ens, digits, train.TrainConfig(
            optimizer="sgd", lr=0.01, epochs=1, batch_size=64, weight_decay=5.0,
            decay_prelu=decay_prelu, diagnostics=False))
        return ens.slopes[0].detach().numpy()

    assert slopes_after(True).mean() < slopes_after(False).mean() - 0.05


# --- one tuned arm of an activation comparison ---------------------------------------------

@pytest.fixture(scope="module")
def small_task():
    from rectified import data
    d = data.digits(seed=0)
    fit = data.split(d.X_train[:600], d.y_train[:600], 0.25, seed=0, n_classes=10)
    return fit, (d.X_test, d.y_test)


def test_tuned_arm_brackets_its_rate_and_scores_on_the_held_out_set(small_task):
    from rectified import compare
    fit, test = small_task
    state = compare.TunedArmState("ELU", "elu", widths=(16,), epochs=3,
                                  seeds=(0, 1, 2), lrs=(0.01, 0.02, 0.04))
    arm = compare.compute_tuned_arm(state, fit, test)
    assert arm.gain == pytest.approx(moments.fixed_point_gain("elu"))
    assert arm.val_acc.shape == arm.test_acc.shape == (len(arm.lrs), 3)
    # a grid of small rates puts the best at the top edge: tune_lr extends it
    assert arm.lrs[:3] == (0.01, 0.02, 0.04) and len(arm.lrs) > 3
    assert arm.best_lr == arm.choice.best and arm.lrs == arm.choice.grid
    np.testing.assert_array_equal(arm.values, arm.test_acc[arm.lrs.index(arm.best_lr)])
    assert np.all((arm.values > 0.5) & (arm.values <= 1))
    assert arm.n_params == 64 * 16 + 16 + 16 * 10 + 10
    assert arm.never_positive_at_init.shape == (3,)
    # the stored net is the trained member: it scores what the arm recorded
    net = arm.net(1)
    X, y = torch.as_tensor(test[0]), torch.as_tensor(test[1])
    with torch.no_grad():
        acc = float((net(X).argmax(-1) == y).float().mean())
    assert acc == pytest.approx(arm.values[1], abs=1e-6)
    # largest rate reaching a validation accuracy, per seed
    top = arm.largest_lr(0.0)
    assert np.all(top == max(arm.lrs))
    assert np.all(arm.largest_lr(1.01) == 0.0)
    with pytest.raises(ValueError, match="lr must be one of"):
        arm.at("test_acc", 0.5)
    with pytest.raises(ValueError, match="no run"):
        arm.net(7)


def test_tuned_arm_runs_prelu_and_crelu_and_rejects_bad_states(small_task):
    from rectified import compare
    fit, test = small_task
    crelu = compare.compute_tuned_arm(compare.TunedArmState(
        "CReLU", "relu", widths=(4, 4), concatenated=True, epochs=1, seeds=(0,),
        lrs=(0.05,), gain=2.0), fit, test)
    assert crelu.n_params == 64 * 4 + 4 + 8 * 4 + 4 + 8 * 10 + 10
    assert crelu.gain == 2.0 and crelu.lrs == (0.05,)
    prelu = compare.compute_tuned_arm(compare.TunedArmState(
        "PReLU", "prelu", (("alpha", 0.25),), widths=(4,), epochs=1, seeds=(0,),
        lrs=(0.05,)), fit, test)
    assert prelu.gain == pytest.approx(2 / (1 + 0.25 ** 2), abs=1e-6)
    assert prelu.net(0).acts[0].weight.shape == (4,)
    with pytest.raises(TypeError, match="TunedArmState"):
        compare.compute_tuned_arm("relu", fit, test)
    with pytest.raises(ValueError, match="seeds"):
        compare.compute_tuned_arm(compare.TunedArmState("x", seeds=(1, 1)), fit, test)
    with pytest.raises(ValueError, match="gain"):
        compare.compute_tuned_arm(compare.TunedArmState("x", gain=-1.0), fit, test)


def test_never_positive_share_counts_units_silent_on_every_input():
    from rectified import compare
    net = models.MLP.from_weights([(np.array([[1.0], [-1.0], [0.0]]), np.zeros(3)),
                                   (np.ones((1, 3)), np.zeros(1))])
    X = np.array([[1.0], [2.0]])
    assert compare.never_positive_share(net, X) == pytest.approx([2 / 3])
    ens = models.MLPEnsemble([net, net])
    np.testing.assert_allclose(compare.never_positive_share(ens, X), [2 / 3, 2 / 3])
