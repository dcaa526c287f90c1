"""Signal propagation helpers (rectified.propagation), the layer_lines plot, the
gradient-flow experiment of the why-ReLU part 1 chapter and the activation explorer."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import activations, data, diagnostics, models, plots, propagation


@pytest.fixture(scope="module")
def batch():
    ds = data.digits(seed=0)
    return ds.X_train[:128], ds.y_train[:128]


def test_layer_profile_shapes_and_agreement_with_diagnostics(batch):
    X, y = batch
    net = models.MLP(64, [32, 32, 32], 10, activation="relu", init="he", seed=1)
    prof = propagation.layer_profile(net, X, y)
    assert prof.depth == 3 and len(prof.weight_grad) == 4
    assert np.allclose(prof.weight_grad, diagnostics.gradient_norms(net, X, y), rtol=1e-5)
    assert np.allclose(prof.active, diagnostics.activation_rate(net, X))
    pres = diagnostics.pre_activations(net, X)
    assert np.isclose(prof.pre_var[1], float(pres[1].var()))
    assert np.isclose(prof.act_mean[0], float(torch.relu(pres[0]).mean()))
    assert prof.backprop_ratio == pytest.approx(prof.backprop[0] / prof.backprop[-1])
    assert all(p.grad is None for p in net.parameters())


def test_backprop_norm_matches_a_hand_computed_gradient(batch):
    X, y = batch
    net = models.MLP(64, [16, 16], 10, activation="tanh", init="xavier", seed=2)
    prof = propagation.layer_profile(net, X, y)
    # the gradient of the last hidden pre-activation, by hand: tanh'(z) ⊙ (W_outᵀ (p − onehot)/B)
    Xt = torch.as_tensor(X)
    with torch.no_grad():
        out, pres, _ = net.forward_hidden(Xt)
        p = torch.softmax(out, 1)
        p[torch.arange(len(y)), torch.as_tensor(y)] -= 1
        delta = (p / len(y)) @ net.out.weight * (1 - torch.tanh(pres[-1]) ** 2)
    assert prof.backprop[-1] == pytest.approx(float(delta.norm()), rel=1e-4)


def test_layer_profile_mse_and_bad_input():
    net = models.MLP(2, [8], 1, seed=0)
    X = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    prof = propagation.layer_profile(net, X, X[:, :1], loss="mse")
    assert prof.loss > 0 and net.training
    with pytest.raises(ValueError, match="loss"):
        propagation.layer_profile(net, X, X[:, :1], loss="hinge")
    with pytest.raises(TypeError, match="MLP"):
        propagation.layer_profile(torch.nn.Linear(2, 1), X, X[:, :1])


def test_relu_he_keeps_the_gradient_and_xavier_halves_its_square(batch):
    X, y = batch
    he = propagation.layer_profile(models.MLP(64, [128] * 8, 10, init="he", seed=0), X, y)
    xv = propagation.layer_profile(models.MLP(64, [128] * 8, 10, init="xavier", seed=0), X, y)
    assert 0.5 < he.backprop_ratio < 2
    assert 2 ** 3.5 / 3 < 1 / xv.backprop_ratio < 2 ** 3.5 * 3     # (√2)^7 ≈ 11


def test_unit_rates_and_cosine_similarity(batch):
    X, _ = batch
    net = models.MLP(64, [64] * 4, 10, seed=0)
    rates = propagation.unit_activation_rates(net, X)
    assert len(rates) == 4 and rates[0].shape == (64,)
    assert np.isclose(np.mean(rates[2]), diagnostics.activation_rate(net, X)[2])
    C = propagation.cosine_similarity(np.array([[1.0, 0], [1, 1], [0, 0]]))
    assert np.allclose(C, [[1, 2 ** -0.5, 0], [2 ** -0.5, 1, 0], [0, 0, 0]])
    assert np.allclose(propagation.cosine_similarity(torch.eye(3)), np.eye(3))
    with pytest.raises(ValueError, match="2-D"):
        propagation.cosine_similarity(np.ones(3))
    sims = propagation.layer_cosine_similarity(net, X)
    assert sims.shape == (4,) and sims[-1] > sims[0]
    with pytest.raises(ValueError, match="two inputs"):
        propagation.layer_cosine_similarity(net, X[:1])


def test_relu_correlation_map_fixed_point_and_monotone():
    rho = np.linspace(-1, 1, 201)
    out = propagation.relu_correlation_map(rho)
    assert np.isclose(propagation.relu_correlation_map(1.0), 1.0)
    assert np.isclose(propagation.relu_correlation_map(0.0), 1 / np.pi)
    assert np.isclose(propagation.relu_correlation_map(-1.0), 0.0)
    assert np.all(out >= rho - 1e-12) and np.all(np.diff(out) > 0)
    # agrees with a Monte Carlo estimate of E[relu(u) relu(v)] / E[relu(u)²] at ρ = 0.5
    g = np.random.default_rng(0).standard_normal((2, 400_000))
    u, v = g[0], 0.5 * g[0] + np.sqrt(0.75) * g[1]
    mc = np.mean(np.maximum(u, 0) * np.maximum(v, 0)) / np.mean(np.maximum(u, 0) ** 2)
    assert abs(mc - propagation.relu_correlation_map(0.5)) < 0.01


def test_layer_lines_draws_one_line_per_label():
    ax = plots.layer_lines({"relu, he": [1, 2, 3], "tanh": [3, 2, 1]}, log=True,
                           ylabel="norm", title="t", styles={"tanh": {"ls": "--"}})
    assert len(ax.get_lines()) == 2 and ax.get_yscale() == "log"
    assert ax.get_lines()[0].get_color() == plots.COLORS["relu"]
    assert ax.get_lines()[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match="at least one"):
        plots.layer_lines({})


def test_compute_gradient_flow():
    r = propagation.compute_gradient_flow(propagation.GradientFlowState(depth=6))
    assert r.reference is None                          # He/ReLU is its own reference
    assert r.profile.depth == 6 and r.backprop_ratio == r.profile.backprop_ratio
    r = propagation.compute_gradient_flow(propagation.GradientFlowState("sigmoid", "standard",
                                                                        depth=8))
    assert r.reference is not None and r.reference.depth == 8
    assert 0 < r.backprop_ratio < 1e-3                  # sigmoid's gradient vanishes
    r = propagation.compute_gradient_flow(propagation.GradientFlowState("sigmoid", "standard",
                                                                        depth=60))
    assert r.backprop_ratio == 0                        # underflows in float32
    with pytest.raises(ValueError, match="depth"):
        propagation.compute_gradient_flow(propagation.GradientFlowState(depth=0))
    with pytest.raises(ValueError, match="init_scale must be a finite number > 0"):
        propagation.compute_gradient_flow(propagation.GradientFlowState(init_scale=0.0))


def test_draw_gradient_flow_draws_both_profiles():
    r = propagation.compute_gradient_flow(propagation.GradientFlowState("tanh", "xavier",
                                                                        depth=5))
    fig = plots.draw_gradient_flow(r)
    assert len(fig.axes) == 2 and len(fig.axes[1].get_lines()) == 2
    plt.close("all")


def test_compute_activation_sets_the_shape_parameter():
    c = propagation.compute_activation(propagation.ActivationState("leaky_relu", param=0.2))
    assert c.param_name == "slope" and c.param == 0.2 and c.kinks == (0.0,)
    assert c.value[0] == pytest.approx(0.2 * c.x[0]) and c.derivative[0] == pytest.approx(0.2)
    c = propagation.compute_activation(propagation.ActivationState("tanh", param=3.0,
                                                                   derivative=False))
    assert c.param_name is None and c.derivative is None      # tanh has no shape parameter
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        propagation.compute_activation(propagation.ActivationState("swish"))
    with pytest.raises(ValueError, match="lo must be < hi"):
        propagation.compute_activation(propagation.ActivationState(lo=2.0, hi=1.0))
    with pytest.raises(ValueError, match="param must be a finite number"):
        propagation.compute_activation(propagation.ActivationState("elu", param=float("inf")))


def test_draw_activation_has_value_and_derivative_panels():
    fig = plots.draw_activation(propagation.compute_activation(
        propagation.ActivationState("leaky_relu", param=0.2)))
    assert len(fig.axes) == 2
    fig = plots.draw_activation(propagation.compute_activation(
        propagation.ActivationState("tanh", derivative=False)))
    assert len(fig.axes) == 1


# --- where a derivative is exactly zero in floating point --------------------

def test_autograd_derivative_matches_the_formula_in_float64():
    z = np.linspace(-6, 6, 25)
    for name in ("sigmoid", "tanh", "relu"):
        got = propagation.autograd_derivative(name, z[z != 0], "float64")
        want = activations.get(name).grad(z[z != 0])
        assert np.allclose(got, want, rtol=1e-12, atol=0)


def test_zero_derivative_onset_matches_rounding_of_the_output():
    # tanh(z) rounds to 1 once 1 - tanh z ≈ 2e^{-2z} is below half the spacing
    # of the numbers just under 1, 2^-(p+1) for p significand bits:
    # z > (p + 2) ln2 / 2
    for dtype, p in (("float32", 24), ("float64", 53)):
        onset = propagation.zero_derivative_onset("tanh", dtype)
        assert abs(onset - (p + 2) * math.log(2) / 2) < 1e-3
        assert propagation.zero_derivative_onset("tanh", dtype, -1) == onset
        # σ(z) = 1/(1 + e^{-z}) is 1 once 1 + e^{-z} rounds to 1: z > p ln 2;
        # on the other side e^{-z} overflows
        sig = propagation.zero_derivative_onset("sigmoid", dtype)
        assert abs(sig - p * math.log(2)) < 1e-3
        big = propagation.zero_derivative_onset("sigmoid", dtype, -1)
        largest = torch.finfo(propagation.FLOAT_DTYPES[dtype]).max
        assert abs(big - math.log(largest)) < 1e-3


def test_zero_derivative_onset_is_where_the_zeros_start():
    for name, dtype, side in (("tanh", "float32", 1),
                              ("sigmoid", "float32", -1),
                              ("sigmoid", "float64", 1)):
        onset = propagation.zero_derivative_onset(name, dtype, side)
        dt = propagation.FLOAT_DTYPES[dtype]
        below = float(torch.nextafter(torch.tensor(onset, dtype=dt),
                                      torch.tensor(0.0, dtype=dt)))
        beyond = onset * np.geomspace(1, 100, 200)
        derivative = propagation.autograd_derivative
        assert np.all(derivative(name, side * beyond, dtype) == 0)
        assert derivative(name, [side * below], dtype)[0] > 0
    onset = propagation.zero_derivative_onset("tanh", "bfloat16")
    assert 3 < onset < 4       # (8 + 2) ln 2 / 2 = 3.47, to bfloat16's spacing
    assert np.all(propagation.autograd_derivative(
        "tanh", onset * np.geomspace(1, 100, 50), "bfloat16") == 0)


def test_zero_derivative_onset_relu_and_linear_and_errors():
    assert propagation.zero_derivative_onset("relu", "float32", -1) == 0.0
    assert propagation.zero_derivative_onset("relu", "float32", 1) == math.inf
    assert propagation.zero_derivative_onset("linear", "float16",
                                             -1) == math.inf
    with pytest.raises(ValueError, match="dtype"):
        propagation.zero_derivative_onset("tanh", "float8")
    with pytest.raises(ValueError, match="side"):
        propagation.zero_derivative_onset("tanh", "float32", 0)
    with pytest.raises(ValueError, match="side"):
        propagation.zero_derivative_onset("tanh", "float32", True)
    with pytest.raises(ValueError, match="dtype"):
        propagation.autograd_derivative("tanh", [1.0], "int32")


# --- deep nets trained from an initialisation, each arm at its own rate ------

@pytest.fixture(scope="module")
def small_arm():
    state = propagation.DeepTrainingState(
        "tanh", "xavier", widths=(8, 8), optimizer="sgd", lrs=(0.05, 0.1, 0.2),
        seeds=(0, 1), steps=20, record_every=10, watch=32)
    return propagation.compute_deep_training(state, data.digits(seed=0))


def test_deep_training_runs_every_rate_and_seed(small_arm):
    r = small_arm
    assert r.lrs == r.choice.grid and set(r.lrs) >= {0.05, 0.1, 0.2}
    assert r.best_lr in r.lrs
    for lr in r.lrs:
        assert len(r.histories[lr]) == 2
        assert r.layer_means[lr].shape == (3, 2, 2)  # records, seeds, layers
        assert np.all(np.abs(r.layer_means[lr]) <= 1)          # tanh outputs
    loss = r.final_loss()
    assert loss.shape == (2,) and np.all(np.isfinite(loss))
    assert np.median(loss) == pytest.approx(r.choice.best_median)
    steps, acc = r.curves("train_acc")
    assert list(steps) == [0, 10, 20] and acc.shape == (2, 3)
    assert np.all(r.final_accuracy() == acc[:, -1])
    with pytest.raises(ValueError, match="lr must be one of the rates run"):
        r.final_loss(0.3)


def test_deep_training_member_matches_a_single_run(small_arm):
    # seed 1 at rate 0.1, trained alone, records the same losses
    net = models.MLP(64, [8, 8], 10, activation="tanh", init="xavier", seed=1)
    from rectified.train import TrainConfig, train
    alone = train(net, data.digits(seed=0),
                  TrainConfig(lr=0.1, steps=20, batch_size=32, seed=1,
                              record_every=10, diagnostics=False), test=False)
    assert np.allclose(small_arm.histories[0.1][1].loss, alone.loss, rtol=1e-4)


def test_deep_training_widens_an_edge_grid_and_marks_divergence():
    state = propagation.DeepTrainingState(
        "relu", "he", widths=(8,), optimizer="sgd", lrs=(1e-4, 2e-4),
        seeds=(0,), steps=10, record_every=10, watch=0, max_extensions=1)
    r = propagation.compute_deep_training(state)
    assert r.lrs == (1e-4, 2e-4, 4e-4) and r.layer_means[4e-4].size == 0
    blown = propagation.compute_deep_training(propagation.DeepTrainingState(
        "relu", "he", widths=(8,), optimizer="sgd", lrs=(1e6,), seeds=(0,),
        steps=10, watch=0))
    assert blown.final_loss()[0] == math.inf
    assert blown.curves()[1].size == 0


def test_deep_training_rejects_bad_states():
    make = propagation.DeepTrainingState
    for state, message in [(make(activation="swish"), "unknown activation"),
                           (make(init="orthogonal"), "unknown init"),
                           (make(steps=0), "steps must be a positive int"),
                           (make(widths=()), "widths must name"),
                           (make(widths=(8, 0)), "widths must be a positive"),
                           (make(seeds=(1, 1)), "seeds must be distinct"),
                           (make(watch=-1), "watch must be an int")]:
        with pytest.raises(ValueError, match=message):
            propagation.compute_deep_training(state)
    with pytest.raises(TypeError, match="DeepTrainingState"):
        propagation.compute_deep_training("he")
