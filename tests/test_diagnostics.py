import numpy as np
import pytest
import torch

from rectified import diagnostics as D
from rectified import models


def _one_d_net(kinks, weights=None):
    """1 → n → 1 ReLU net whose unit i has its kink at kinks[i] (pre-activation w(x − k))."""
    kinks = np.asarray(kinks, dtype=float)
    w = np.ones(len(kinks)) if weights is None else np.asarray(weights, dtype=float)
    W1 = w[:, None]
    b1 = -w * kinks
    return models.MLP.from_weights([(W1, b1), (np.ones((1, len(kinks))), np.zeros(1))])


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_hand_placed_kinks_give_exactly_n_plus_one_regions(n):
    kinks = np.linspace(-0.9, 0.9, n)
    regions = D.regions_along_line(_one_d_net(kinks), [-1.0], [1.0])
    assert regions.n_regions == n + 1
    np.testing.assert_allclose(regions.points.ravel(), kinks, atol=1e-6)


def test_negative_weights_and_duplicate_kinks():
    net = _one_d_net([-0.5, 0.2, 0.2, 0.7], weights=[1.0, -2.0, 3.0, -0.5])
    assert D.regions_along_line(net, [-1.0], [1.0]).n_regions == 4   # 3 distinct kinks


def test_kinks_outside_the_segment_do_not_count():
    net = _one_d_net([-3.0, 0.0, 3.0])
    assert D.regions_along_line(net, [-1.0], [1.0]).n_regions == 2


def test_two_layer_hand_built_net():
    # layer 1: relu(x) and relu(-x); layer 2: relu(h1 + h2 - 0.5) = relu(|x| - 0.5)
    W1, b1 = np.array([[1.0], [-1.0]]), np.zeros(2)
    W2, b2 = np.array([[1.0, 1.0]]), np.array([-0.5])
    net = models.MLP.from_weights([(W1, b1), (W2, b2), (np.ones((1, 1)), np.zeros(1))])
    regions = D.regions_along_line(net, [-1.0], [1.0])
    np.testing.assert_allclose(regions.points.ravel(), [-0.5, 0.0, 0.5], atol=1e-9)


def test_linear_net_has_one_region_and_leaky_counts_like_relu():
    lin = models.MLP(2, [5, 5], 1, activation="linear", seed=0)
    assert D.regions_along_line(lin, [-1, -1], [1, 1]).n_regions == 1
    relu = models.MLP(2, [16, 16], 1, activation="relu", seed=0)
    leaky = models.MLP(2, [16, 16], 1, activation="leaky_relu", slope=0.1, seed=0)
    # zero biases at init: every first-layer hyperplane passes through the origin, so a
    # line through the origin meets them all at one point ...
    assert D.regions_along_line(relu, [-1, -1], [1, 1]).n_regions == 2
    # ... while a line that misses the origin crosses them one by one
    assert D.regions_along_line(relu, [-1, -0.5], [1, 0.8]).n_regions > 10
    assert D.regions_along_line(leaky, [-1, -0.5], [1, 0.8]).n_regions > 10
    prelu = models.MLP(2, [8], 1, activation="prelu", seed=0)
    abs_net = models.MLP(2, [8], 1, activation="abs", seed=0)
    assert D.regions_along_line(prelu, [-3, -3], [3, 3]).n_regions >= 2
    assert D.regions_along_line(abs_net, [-3, -3], [3, 3]).n_regions >= 2


def test_line_count_agrees_with_dense_sampling():
    net = models.MLP(2, [12, 12, 12], 1, seed=4)
    start, end = np.array([-2.0, -1.0]), np.array([2.0, 1.5])
    exact = D.regions_along_line(net, start, end)
    t = np.linspace(0, 1, 200001)
    pts = torch.tensor(start + t[:, None] * (end - start), dtype=torch.float32)
    pres = D.pre_activations(net, pts)
    bits = torch.cat([(z > 0) for z in pres], 1).numpy()
    changes = int(np.any(bits[1:] != bits[:-1], axis=1).sum())
    assert abs(changes + 1 - exact.n_regions) <= 1


def test_grid_regions_of_hand_built_net():
    # two units: relu(x1), relu(x2) → 4 quadrant regions
    net = models.MLP.from_weights([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    count, ids = D.regions_on_grid(net, (-1, 1), (-1, 1), resolution=51)
    assert count == 4 and ids.shape == (51, 51)


def test_dead_units_and_rates_on_hand_built_net():
    # unit 0: always dead on x in [0,1] (pre = -x - 1); unit 1: always active; unit 2: half
    W1 = np.array([[-1.0], [1.0], [1.0]])
    b1 = np.array([-1.0, 1.0, -0.5])
    net = models.MLP.from_weights([(W1, b1), (np.ones((1, 3)), np.zeros(1))])
    X = np.linspace(0, 1, 101)[:, None]
    assert D.dead_units(net, X)[0].tolist() == [True, False, False]
    assert D.dead_fraction(net, X) == [pytest.approx(1 / 3)]
    assert D.activation_rate(net, X)[0] == pytest.approx((0 + 101 + 50) / 303)
    assert not D.all_dead_layer(net, X)


def test_all_dead_layer_detects_a_constant_network():
    W1, b1 = np.array([[1.0], [1.0]]), np.array([-5.0, -6.0])
    net = models.MLP.from_weights([(W1, b1), (np.ones((1, 2)), np.zeros(1))])
    X = np.linspace(-1, 1, 50)[:, None]
    assert D.all_dead_layer(net, X)


def test_dead_units_in_conv_net_are_channels():
    net = models.SmallCNN("relu", channels=(3, 4))
    with torch.no_grad():
        net.convs[0].bias[0] = -1e3
    X = torch.randn(10, 1, 8, 8)
    dead = D.dead_units(net, X)
    assert dead[0].shape == (3,) and dead[0][0] and not dead[0][1:].any()


def test_gradient_norms_match_autograd_and_leave_grads_alone():
    net = models.MLP(3, [5], 2, seed=0)
    X, y = torch.randn(20, 3), torch.randint(0, 2, (20,))
    norms = D.gradient_norms(net, X, y)
    loss = torch.nn.functional.cross_entropy(net(X), y)
    loss.backward()
    assert norms == pytest.approx([float(net.linears[0].weight.grad.norm()),
                                   float(net.out.weight.grad.norm())])
    rnn = models.ElmanRNN(2, 4, 1)
    assert len(D.gradient_norms(rnn, np.zeros((3, 5, 2)), np.zeros((3, 1)), loss="mse")) == 3


def test_spectra():
    W = np.array([[0.0, 2.0], [0.5, 0.0]])
    assert D.spectral_radius(W) == pytest.approx(1.0)
    assert D.largest_singular_value(W) == pytest.approx(2.0)
    Q = torch.linalg.qr(torch.randn(6, 6))[0]
    assert D.largest_singular_value(1.3 * Q) == pytest.approx(1.3, rel=1e-5)
