"""Tests for the kink-at-zero machinery: rectified.precision, rectified.curvature, the
kink experiment (precision.compute_kink, plots.draw_kink) and plots.value_grid."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import curvature, data, models, plots, precision


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
