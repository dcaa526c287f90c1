"""Tests for the kink-at-zero machinery: rectified.precision, rectified.curvature, the
kink experiment (precision.compute_kink, plots.draw_kink) and plots.value_grid."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import curvature, data, diagnostics, models, plots, precision


@pytest.fixture(scope="module")
def digits():
    return data.digits()


@pytest.fixture(scope="module")
def pixels():
    return data.digits(standardize=False, images=True)


# --- dtypes, casting, ReLU'(0) --------------------------------------------------------------

def test_resolve_dtype_accepts_names_and_torch_dtypes():
    assert precision.resolve_dtype("bfloat16") is torch.bfloat16
    assert precision.resolve_dtype(torch.float16) is torch.float16
    for bad in ("float8", torch.int32, 3):
        with pytest.raises(ValueError, match="dtype must be one of"):
            precision.resolve_dtype(bad)


def test_cast_copies_without_touching_the_original():
    net = models.MLP(4, [3], 2)
    half = precision.cast(net, "float16")
    assert all(p.dtype == torch.float16 for p in half.parameters())
    assert all(p.dtype == torch.float32 for p in net.parameters())


def test_set_relu_grad_at_zero_changes_the_backward_value():
    net = models.MLP(1, [1], 1)
    with torch.no_grad():
        net.linears[0].weight.fill_(1.0)
        net.linears[0].bias.fill_(0.0)
        net.out.weight.fill_(1.0)
    assert len(precision.relu_modules(net)) == 1
    for g in (0.0, 0.5, 1.0):
        precision.set_relu_grad_at_zero(net, g)
        x = torch.zeros(1, 1, requires_grad=True)
        net(x).sum().backward()
        assert x.grad.item() == g
    with pytest.raises(ValueError, match="no ReLU activation"):
        precision.set_relu_grad_at_zero(models.MLP(2, [2], 1, activation="tanh"), 1.0)


def test_forward_separate_bias_matches_nn_linear_in_float64(digits):
    net = precision.cast(models.MLP(64, [16, 16], 10, bias_init=0.1), "float64")
    x = torch.as_tensor(digits.X_train[:20], dtype=torch.float64)
    assert torch.allclose(precision.forward_separate_bias(net, x), net(x), atol=1e-12)
    with pytest.raises(TypeError, match="needs an MLP"):
        precision.forward_separate_bias(models.SmallCNN(), x)


# --- counting exact zeros -------------------------------------------------------------------

def test_zero_counter_counts_and_removes_its_hooks():
    net = models.MLP(2, [3], 1)
    with precision.ZeroCounter(net) as zc:
        net(torch.zeros(4, 2))          # zero input, zero bias: every pre-activation is 0
    assert zc.zeros == [12] and zc.totals == [12] and zc.total_zeros == 12
    net(torch.zeros(4, 2))
    assert zc.zeros == [12]             # hooks are gone after the block
    with pytest.raises(TypeError, match="activation modules"):
        precision.ZeroCounter(torch.nn.Linear(2, 2))


def test_count_exact_zeros_finds_blank_patches_only_with_zero_biases(pixels):
    X = pixels.X_train[:50]
    zero_bias = precision.count_exact_zeros(models.SmallCNN(seed=0), X, "float32")
    assert zero_bias[0][0] > 0 and zero_bias[0][1] == 50 * 8 * 64
    biased = models.SmallCNN(seed=0)
    with torch.no_grad():
        for conv in biased.convs:
            conv.bias.fill_(0.1)
    assert all(z == 0 for z, _ in precision.count_exact_zeros(biased, X, "bfloat16"))


def test_cancellation_rate_grows_as_the_significand_shrinks():
    rates = {dt: precision.cancellation_rate(dt, n=200_000, scale=1.0) for dt in precision.DTYPES}
    assert rates["float64"] == 0.0 and rates["float32"] == 0.0
    assert rates["bfloat16"] > rates["float16"] > 0


# --- comparing gradients ----------------------------------------------------------------------

def test_compare_gradients_on_structural_zeros_and_on_none(digits, pixels):
    cnn = precision.compare_gradients(models.SmallCNN(seed=0), pixels.X_train[:64],
                                      pixels.y_train[:64], "float32", 1.0, batch_size=32)
    assert cnn.n_batches == 2 and cnn.n_differ == 2 and cnn.fraction_differ == 1.0
    assert cnn.layer_zeros[0] > 0 and cnn.n_preactivations == sum(cnn.layer_totals)
    assert cnn.param_names[0] == "convs.0.weight" and len(cnn.param_diff[0]) == 6
    weights = [d for n, d in zip(cnn.param_names, cnn.param_diff[0]) if n.endswith("weight")]
    assert all(d == 0 for d in weights)          # zero input patches: weight grads unchanged
    mlp = precision.compare_gradients(models.MLP(64, [8], 10), digits.X_train[:40],
                                      digits.y_train[:40], torch.float64, batch_size=None)
    assert mlp.dtype == "float64" and mlp.n_batches == 1 and mlp.n_differ == 0
    assert mlp.rel_diff == [0.0]
    with pytest.raises(ValueError, match="not a subgradient"):
        precision.compare_gradients(models.MLP(64, [8], 10), digits.X_train[:4],
                                    digits.y_train[:4], "float32", grad_at_zero=2.0)


def test_gradient_comparison_of_no_batches_has_no_fraction():
    assert math.isnan(precision.GradientComparison("float32", 1.0).fraction_differ)


# --- training in a number format --------------------------------------------------------------

def test_train_in_precision_is_deterministic_and_leaves_the_model_alone(digits):
    small = data.Dataset(digits.X_train[:128], digits.y_train[:128], digits.X_test[:64],
                         digits.y_test[:64], "small", 10)
    net = models.MLP(64, [16], 10, seed=0)
    before = [p.detach().clone() for p in net.parameters()]
    runs = [precision.train_in_precision(net, small, "float64", g, lr=0.1, epochs=2,
                                         batch_size=32) for g in (0.0, 1.0)]
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert len(runs[0].loss) == 2 and len(runs[0].test_acc) == 2 and runs[0].steps == 8
    assert runs[0].loss[1] < runs[0].loss[0]
    assert np.array_equal(runs[0].weights, runs[1].weights)      # no zero met: same run
    bf = precision.train_in_precision(net, small, "bfloat16", 0.0, epochs=1, batch_size=64,
                                      forward=precision.forward_separate_bias)
    assert bf.dtype == "bfloat16" and bf.weights.dtype == np.float64
    assert bf.weights.shape == runs[0].weights.shape


def test_mixed_precision_runs_in_the_format_and_keeps_float32_master_weights(digits):
    net = models.MLP(64, [8], 10, seed=0)
    mixed = precision.MixedPrecision(net, "bfloat16", grad_at_zero=1.0)
    assert all(p.dtype == torch.float32 for p in mixed.parameters())
    x = torch.as_tensor(digits.X_train[:16])
    out = mixed(x)
    expected = precision.cast(net, "bfloat16")(x.to(torch.bfloat16))
    assert out.dtype == torch.bfloat16 and torch.equal(out, expected)
    torch.nn.functional.cross_entropy(out, torch.as_tensor(digits.y_train[:16])).backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32
               for p in mixed.parameters())
    assert all(p.grad is None for p in net.parameters())        # the model is left alone
    assert mixed.steps_with_zero == 0
    zeros = torch.zeros(4, 64)                  # zero input and zero biases: z = 0 exactly
    mixed(zeros)
    mixed.eval()(zeros)                         # passes in eval mode are not counted
    assert mixed.steps_with_zero == 1
    with pytest.raises(TypeError, match="without buffers"):
        precision.MixedPrecision(models.MLP(4, [4], 2, batchnorm="after"), "float16")
    with pytest.raises(TypeError, match="Dataset"):
        precision.train_in_precision(net, (digits.X_train, digits.y_train))


# --- curvature of a step ------------------------------------------------------------------------

def test_probe_step_relu_first_layer_has_no_network_curvature(digits):
    X, y = digits.X_train[:200], digits.y_train[:200]
    etas = np.array([1e-5, 1e-3, 1e-1])
    relu = curvature.probe_step(models.MLP(64, [16], 10, seed=0), X, y, etas,
                                scope="linears.0")
    tanh = curvature.probe_step(models.MLP(64, [16], 10, activation="tanh", init="xavier"),
                                X, y, etas, scope="linears.0")
    assert abs(relu.network_curvature) < 1e-12 * abs(relu.gauss_newton)
    assert abs(tanh.network_curvature) > 1e-3 * abs(tanh.gauss_newton)
    assert relu.example_error.shape == (3, 200) and relu.loss_error.shape == (3,)
    assert relu.slope < 0 and relu.second_order_error().shape == (3,)
    assert (relu.example_error[0] < 1e-8).mean() > 0.9             # exact for tiny steps
    assert (tanh.example_error[1] < 1e-8).mean() == 0.0
    # for a smooth net the first-order error at a tiny step is the curvature term
    assert tanh.loss_error[0] == pytest.approx(tanh.second_order_error()[0], rel=0.05)
    all_layers = curvature.probe_step(models.MLP(64, [16], 10), X, y, etas)
    assert abs(all_layers.network_curvature) > 0


def test_probe_step_checks_its_arguments(digits):
    net = models.MLP(64, [4], 10)
    X, y = digits.X_train[:10], digits.y_train[:10]
    with pytest.raises(ValueError, match="positive step lengths"):
        curvature.probe_step(net, X, y, [0.0, 1.0])
    with pytest.raises(ValueError, match="no parameter name starts with"):
        curvature.probe_step(net, X, y, [1e-3], scope="layer9")


# --- the kink experiment and its plots ---------------------------------------------------------

@pytest.mark.parametrize("network", ["cnn", "mlp-separate", "mlp-fused"])
def test_compute_kink_has_one_entry_per_layer_and_parameter(network):
    r = precision.compute_kink(precision.KinkState(network, "bfloat16", 1.0, 0.0,
                                                   n_examples=32))
    assert r.network == network and r.dtype == "bfloat16" and r.grad_at_zero == 1.0
    assert len(r.layer_zeros) == len(r.layer_totals) == 2
    assert all(0 <= z <= t for z, t in zip(r.layer_zeros, r.layer_totals))
    assert len(r.param_names) == len(r.param_labels) == len(r.param_diff)
    assert r.gradients_differ == any(d > 0 for d in r.param_diff)


def test_compute_kink_reports_structural_zeros_and_checks_its_state():
    r = precision.compute_kink(precision.KinkState("cnn", "float32", 1.0, 0.0, n_examples=16))
    assert r.gradients_differ and r.layer_zeros[0] > 0     # blank pixels, zero biases
    assert r.param_labels[:4] == ("conv 1 W", "conv 1 b", "conv 2 W", "conv 2 b")
    r = precision.compute_kink(precision.KinkState("cnn", "float32", 1.0, 0.1, n_examples=16))
    assert not r.gradients_differ and all(d == 0 for d in r.param_diff)
    r = precision.compute_kink(precision.KinkState("mlp-fused", n_examples=16))
    assert r.param_labels == ("layer 1 W", "layer 1 b", "layer 2 W", "layer 2 b", "out W",
                              "out b")
    with pytest.raises(ValueError, match="unknown network"):
        precision.compute_kink(precision.KinkState("rnn"))
    with pytest.raises(ValueError, match="n_examples"):
        precision.compute_kink(precision.KinkState(n_examples=0))
    with pytest.raises(ValueError, match="dtype"):
        precision.compute_kink(precision.KinkState(dtype="int8"))
    with pytest.raises(ValueError, match="bias_init must be a finite number"):
        precision.compute_kink(precision.KinkState(bias_init=float("nan")))


def test_draw_kink_draws_two_panels():
    r = precision.compute_kink(precision.KinkState("mlp-separate", "bfloat16", 1.0, 0.1,
                                                   n_examples=32))
    fig = plots.draw_kink(r)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].patches) == 2 and len(fig.axes[1].patches) == len(r.param_diff)


def test_value_grid_labels_cells_and_checks_shapes():
    ax = plots.value_grid([[0, 1], [10, 100]], ["a", "b"], ["x", "y"], log=True,
                          colorbar="count", title="grid")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0", "1", "10", "100"] and ax.get_title() == "grid"
    assert ax.texts[3].get_color() == "white"            # dark cell, light text
    ax = plots.value_grid(np.eye(2), ["a", "b"], ["x", "y"], labels=[["p", "q"], ["r", "s"]])
    assert [t.get_text() for t in ax.texts] == ["p", "q", "r", "s"]
    with pytest.raises(ValueError, match="shape"):
        plots.value_grid(np.zeros((2, 3)), ["a", "b"], ["x", "y"])
    plt.close("all")


# --- a dead channel and ReLU'(0) over a whole run -----------------------

def test_image_patches_are_the_distinct_padded_3x3_patches():
    X = np.zeros((3, 1, 4, 4))
    X[0, 0, 1, 1] = 2.0          # one bright pixel, seen from 9 neighbours
    patches = precision.image_patches(X)
    assert patches.shape == (10, 9)   # the blank patch and 9 shifted ones
    assert torch.equal(patches[0], torch.zeros(9))
    assert sorted(patches.sum(dim=1).tolist()) == [0.0] + [2.0] * 9
    with pytest.raises(ValueError, match="one-channel images"):
        precision.image_patches(np.zeros((3, 16)))


def test_born_dead_channels_match_dead_units_at_initialisation(pixels):
    found = precision.born_dead_channels(pixels.X_train, range(80))
    assert 1 in found and 70 in found            # two nets known to have one
    for seed in range(80):
        net = models.SmallCNN(seed=seed)
        dead = diagnostics.dead_units(net, pixels.X_train)[0]
        assert found.get(seed, ()) == tuple(np.flatnonzero(dead))


def test_born_dead_channels_on_single_pixels_means_no_positive_weight():
    # Blank images and one image with a single pixel: a zero-bias channel is
    # dead exactly when none of its nine weights is positive (the sampled
    # first pass sees only the blank patch, so the full check decides).
    X = np.zeros((100, 1, 8, 8))
    X[0, 0, 4, 4] = 5.0
    found = precision.born_dead_channels(X, range(300))
    for seed in range(300):
        w = models.SmallCNN(seed=seed).convs[0].weight.detach().flatten(1)
        none_positive = (w <= 0).all(dim=1)
        expected = tuple(int(c) for c in torch.nonzero(none_positive))
        assert found.get(seed, ()) == expected
    assert found                                  # some seeds have one


def test_compute_dead_channels_freezes_the_channel_only_with_zero_derivative():
    r = precision.compute_dead_channels(precision.DeadChannelState(
        n_nets=1, draws=5, epochs=1, batch_size=256))
    assert r.seeds == (1,) and r.channels == ((0,),) and r.draws == 5
    assert r.grads == (0.0, 1.0) and r.steps == 6
    assert r.steps_with_zero[0.0] == (6,) and r.steps_with_zero[1.0] == (1,)
    assert r.unchanged[0.0] == (True,) and r.unchanged[1.0] == (False,)
    assert r.final_bias[0.0] == ((0.0,),) and r.final_bias[1.0][0][0] != 0.0
    assert r.still_dead[0.0] == (True,)
    assert r.still_dead[1.0] == (r.final_bias[1.0][0][0] < 0,)
    assert len(r.weight_gap) == 1 and r.weight_gap[0] > 0
    assert all(0 <= a <= 1 for g in r.grads for a in r.test_acc[g])


def test_compute_dead_channels_checks_its_state():
    with pytest.raises(TypeError, match="DeadChannelState"):
        precision.compute_dead_channels(precision.KinkState())
    with pytest.raises(ValueError, match="n_nets must be an int >= 1"):
        precision.compute_dead_channels(
            precision.DeadChannelState(n_nets=0))
    with pytest.raises(ValueError, match="dtype"):
        precision.compute_dead_channels(
            precision.DeadChannelState(dtype="int8"))


# --- ReLU against tanh with the same weights ------------------------------

def test_compute_first_order_probes_relu_and_tanh_on_the_same_weights():
    relu = models.MLP(64, [8], 10, "relu", init="xavier", seed=3)
    tanh = models.MLP(64, [8], 10, "tanh", init="xavier", seed=3)
    assert all(torch.equal(a, b)
               for a, b in zip(relu.parameters(), tanh.parameters()))
    r = curvature.compute_first_order(curvature.FirstOrderState(
        widths=((8,),), inits=("xavier",), n_seeds=2, etas=(1e-4, 1e-1)))
    assert r.nets == (((8,), "xavier", 0), ((8,), "xavier", 1))
    assert list(r.etas) == [1e-4, 1e-1]
    for a in ("relu", "tanh"):
        assert r.loss_error[a].shape == r.exact[a].shape == (2, 2)
        assert r.curvature_share[a].shape == (2,)
    assert np.abs(r.curvature_share["relu"]).max() < 1e-12
    assert np.abs(r.curvature_share["tanh"]).min() > 1e-3
    assert r.exact["tanh"].max() == 0.0 and r.exact["relu"][:, 0].min() > 0.9
    every_layer = curvature.compute_first_order(curvature.FirstOrderState(
        activations=("relu",), widths=((8, 8),), n_seeds=1, etas=(1e-3,),
        scope=None))
    assert abs(every_layer.curvature_share["relu"][0]) > 1e-3


def test_compute_first_order_checks_its_state():
    with pytest.raises(TypeError, match="FirstOrderState"):
        curvature.compute_first_order(precision.KinkState())
    with pytest.raises(ValueError, match="n_seeds"):
        curvature.compute_first_order(
            curvature.FirstOrderState(n_seeds=0))
    with pytest.raises(ValueError, match="tol"):
        curvature.compute_first_order(
            curvature.FirstOrderState(tol=2.0))
