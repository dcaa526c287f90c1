"""Library pieces of the why-nonlinearity chapter: full-batch ensemble training (Adam, L2,
regression), the straight pieces of a decision boundary, and the fit and ring-boundary
experiments."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import boundary, data, diagnostics, models, piecewise, plots
from rectified.train import TrainConfig, train


# --- full-batch ensembles (train on an MLPEnsemble) ---------------------------------------------------------------

def test_full_batch_ensemble_matches_separate_adam_runs_with_l2():
    ds = data.classification_2d("ring", n=120, seed=1)
    cfg = TrainConfig(optimizer="adam", lr=0.03, steps=40, batch_size=None, weight_decay=1e-3,
                      diagnostics=False, record_every=20)
    seeds = (2, 5)
    ens = models.MLPEnsemble([models.MLP(2, [4, 3], 2, "relu", seed=s) for s in seeds])
    hists = train(ens, ds, cfg)
    for k, s in enumerate(seeds):
        net = models.MLP(2, [4, 3], 2, "relu", seed=s)
        ref = train(net, ds, cfg)
        assert hists[k].step == ref.step == [0, 20, 40]
        np.testing.assert_allclose(hists[k].loss, ref.loss, atol=1e-5)
        np.testing.assert_allclose(hists[k].test_acc, ref.test_acc, atol=1e-6)
        member = ens.member(k)
        for p, q in zip(member.parameters(), net.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-5)
        assert hists[k].message.startswith("finished 40 steps")


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_full_batch_ensemble_regression_matches_train(optimizer):
    ds = data.regression_1d("sine", n=60, seed=0)
    cfg = TrainConfig(optimizer=optimizer, lr=0.02, epochs=15, batch_size=None,
                      diagnostics=False)
    ens = models.MLPEnsemble([models.MLP(1, [6], 1, "tanh", seed=s) for s in (0, 1)])
    hists = train(ens, ds, cfg)
    for k in (0, 1):
        ref = train(models.MLP(1, [6], 1, "tanh", seed=k), ds, cfg)
        assert len(hists[k].loss) == len(ref.loss) == 16      # a record per epoch, as train()
        np.testing.assert_allclose(hists[k].test_loss, ref.test_loss, atol=1e-5)
        assert np.isnan(hists[k].train_acc).all()


def test_full_batch_ensemble_flags_divergence_and_rejects_bad_input():
    ds = data.regression_1d("sine", n=40, seed=0)
    ens = models.MLPEnsemble([models.MLP(1, [4], 1, "relu", seed=0)])
    hists = train(
        ens, ds, TrainConfig(optimizer="sgd", lr=1e6, steps=30, batch_size=None,
                             diagnostics=False, record_every=10))
    assert hists[0].diverged and "diverged" in hists[0].message
    good = TrainConfig(lr=0.1, steps=2, batch_size=None)
    with pytest.raises(TypeError, match="Dataset"):
        train(ens, (ds.X_train, ds.y_train), good)
    with pytest.raises(TypeError, match="TrainConfig"):
        train(ens, ds, {"lr": 0.1})


# --- boundary --------------------------------------------------------------------------------

def _diamond():
    """ReLU net whose class-1 region is the diamond |x1| + |x2| < 0.5."""
    W1 = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    W2 = np.array([[0.0, 0.0, 0.0, 0.0], [-1.0, -1.0, -1.0, -1.0]])
    return models.MLP.from_weights([(W1, np.zeros(4)), (W2, np.array([0.0, 0.5]))])


def test_boundary_pieces_of_a_diamond():
    pieces = boundary.boundary_pieces(_diamond(), resolution=201)
    assert pieces.n_pieces == 4
    assert pieces.max_deviation() < 1e-6
    expected = np.array([[0.5, 0.0], [0.0, 0.5], [-0.5, 0.0], [0.0, -0.5]])
    for c in expected:
        assert np.min(np.hypot(*(pieces.corners - c).T)) < 0.02
    line = boundary.decision_contour(_diamond(), resolution=201)[0]
    assert np.allclose(line[0], line[-1])                     # a closed curve
    assert np.allclose(np.abs(line).sum(axis=1), 0.5, atol=1e-6)


def test_boundary_pieces_of_an_open_bent_line_and_a_single_logit():
    # logit gap x2 − |x1| + 0.2: a V with its corner at (0, −0.2), crossing the window
    W1 = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    b1 = np.array([0.0, 0.0, 10.0])
    W2 = np.array([[0.0, 0.0, 0.0], [-1.0, -1.0, 1.0]])
    net = models.MLP.from_weights([(W1, b1), (W2, np.array([0.0, -9.8]))])
    pieces = boundary.boundary_pieces(net, resolution=101)
    assert pieces.n_pieces == 2 and pieces.corners.shape == (1, 2)
    assert np.allclose(pieces.corners[0], [0.0, -0.2], atol=0.03)
    one = models.MLP.from_weights([(W1, b1), (W2[1:], np.array([-9.8]))])   # one logit output
    assert boundary.boundary_pieces(one, resolution=101).n_pieces == 2


def test_a_straight_boundary_is_one_piece_and_tanh_is_refused():
    net = models.MLP.from_weights([(np.array([[1.0, 1.0]]), np.array([5.0])),
                                   (np.array([[0.0], [1.0]]), np.array([0.0, -5.2]))])
    pieces = boundary.boundary_pieces(net, resolution=51)
    assert pieces.n_pieces == 1 and len(pieces.corners) == 0
    with pytest.raises(ValueError, match="region counting"):
        boundary.boundary_pieces(models.MLP(2, [3], 2, "tanh"), resolution=21)
    with pytest.raises(ValueError, match="resolution"):
        boundary.decision_contour(net, resolution=2)
    with pytest.raises(ValueError, match="1 or 2 logits"):
        boundary.decision_contour(models.MLP(2, [3], 3), resolution=11)


def test_chord_deviation():
    t = np.linspace(0, 1, 11)
    assert boundary.chord_deviation(np.c_[t, 2 * t]) < 1e-12
    arc = np.c_[np.cos(np.linspace(0, np.pi, 50)), np.sin(np.linspace(0, np.pi, 50))]
    assert boundary.chord_deviation(arc) == pytest.approx(1.0, abs=1e-3)
    assert boundary.chord_deviation(arc[:2]) == 0.0
    loop = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert boundary.chord_deviation(loop) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        boundary.chord_deviation(np.zeros(5))


# --- the fit and ring-boundary experiments ----------------------------------------------------

def test_compute_fit_measures_the_fitted_net():
    state = boundary.FitState(n_units=3, steps=5, view=6.0)
    r = boundary.compute_fit(state)
    assert r.state == state and r.interval == (-4.0, 4.0)
    assert r.x[0] == -6.0 and r.x[-1] == 6.0 and r.y.shape == r.x.shape == r.target_y.shape
    np.testing.assert_allclose(r.target_y, np.sin(r.x))
    assert r.n_kinks == len(r.kinks) <= 3 and np.all(np.abs(r.kinks) <= 6.0)
    assert len(r.X_train) == 150 and r.test_rmse > 0
    kinks = diagnostics.regions_along_line(r.model, [-6.0], [6.0]).points.ravel()
    np.testing.assert_allclose(r.kinks, kinks)
    assert r.history.step == [0, 5]


def test_compute_fits_trains_seeds_together_like_separate_runs():
    states = [boundary.FitState(n_units=4, seed=s, steps=30) for s in (0, 1)]
    states.append(boundary.FitState(n_units=2, steps=30))
    results = boundary.compute_fits(states + states[:1])          # a repeat counts once
    assert list(results) == states
    for s in states:
        alone = boundary.compute_fit(s)
        assert results[s].test_rmse == pytest.approx(alone.test_rmse, rel=1e-4)
        np.testing.assert_allclose(results[s].y, alone.y, atol=1e-4)


def test_fit_states_are_checked():
    for state, match in ((boundary.FitState(view=3.0), "view"),
                         (boundary.FitState(n_units=0), "n_units"),
                         (boundary.FitState(target="cosine"), "target"),
                         (boundary.FitState(lr=0.0), "lr")):
        with pytest.raises(ValueError, match=match):
            boundary.compute_fit(state)
    with pytest.raises(TypeError, match="FitState"):
        boundary.compute_fits([boundary.BoundaryState()])


def test_compute_boundary_counts_pieces_for_piecewise_linear_nets_only():
    r = boundary.compute_boundary(boundary.BoundaryState(activation="relu", steps=5))
    assert r.grid[0] == -1.3 and r.grid[-1] == 1.3 and r.prob.shape == (200, 200)
    assert ((0 <= r.prob) & (r.prob <= 1)).all() and 0 <= r.test_accuracy <= 1
    pieces = boundary.boundary_pieces(r.model, (-1.3, 1.3), (-1.3, 1.3), resolution=200)
    assert r.n_pieces == pieces.n_pieces and len(r.corners) == len(pieces.corners)
    for act in ("tanh", "linear"):
        r = boundary.compute_boundary(boundary.BoundaryState(activation=act, steps=5))
        assert r.n_pieces is None and r.corners is None


def test_compute_boundaries_groups_seeds_and_settings():
    states = [boundary.BoundaryState("relu", seed=s, steps=20) for s in (0, 1)]
    states.append(boundary.BoundaryState("relu", seed=0, steps=20, weight_decay=0.0))
    results = boundary.compute_boundaries(states)
    assert list(results) == states
    for s in states:
        alone = boundary.compute_boundary(s)
        assert results[s].test_accuracy == pytest.approx(alone.test_accuracy, abs=0.011)
        np.testing.assert_allclose(results[s].prob, alone.prob, atol=1e-3)
    for state, match in ((boundary.BoundaryState(activation="step"), "activation"),
                         (boundary.BoundaryState(widths=[3, 3]), "widths"),
                         (boundary.BoundaryState(weight_decay=-1.0),
                          "weight_decay"),
                         (boundary.BoundaryState(init="glorot"), "init")):
        with pytest.raises(ValueError, match=match):
            boundary.compute_boundaries([state])


def test_boundary_state_init_draws_the_named_initialisation():
    state = boundary.BoundaryState("tanh", seed=3, steps=1, init="xavier")
    net = boundary.compute_boundaries([state])[state].model
    fresh, he = (models.MLP(2, [3, 3, 3], 2, activation="tanh", seed=3,
                            init=init) for init in ("xavier", "he"))
    w, w_x, w_he = (m.linears[1].weight.detach().numpy()
                    for m in (net, fresh, he))
    # one Adam step from the Glorot draw, far from the He draw
    assert np.abs(w - w_x).max() < 0.1 < np.abs(w - w_he).max()


def test_class_probability_grid_matches_the_softmax():
    net = models.MLP(2, [3], 2, seed=0)
    g, p = boundary.class_probability_grid(net, 1.0, resolution=5)
    np.testing.assert_allclose(g, np.linspace(-1, 1, 5))
    with torch.no_grad():
        out = net(torch.tensor([[g[1], g[3]]], dtype=torch.float32))
    assert p[3, 1] == pytest.approx(torch.softmax(out, 1)[0, 1].item(), abs=1e-6)


def test_draw_fit_returns_its_figure():
    fig = plots.draw_fit(boundary.compute_fit(boundary.FitState(n_units=2, steps=5)))
    assert len(fig.axes) == 1
    plt.close(fig)


def test_draw_boundary_returns_its_figure():
    fig = plots.draw_boundary(boundary.compute_boundary(boundary.BoundaryState(steps=5)))
    assert len(fig.axes) == 1
    plt.close(fig)


# --- regions of a whole input space (one hidden layer) ---------------------

def test_max_regions_is_zaslavskys_sum():
    assert [diagnostics.max_regions(n, 2) for n in range(6)] == \
        [1, 2, 4, 7, 11, 16]
    assert diagnostics.max_regions(5, 1) == 6        # n points cut a line
    assert diagnostics.max_regions(4, 3) == 15
    assert diagnostics.max_regions(2, 5) == 4
    for n, d, match in ((-1, 2, "n_units"), (1.5, 2, "n_units"),
                        (3, 0, "in_dim")):
        with pytest.raises(ValueError, match=match):
            diagnostics.max_regions(n, d)


def test_arrangement_regions_of_special_and_general_lines():
    count = diagnostics.arrangement_regions
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 20):          # random lines: general position
        normals, offsets = rng.standard_normal((n, 2)), rng.standard_normal(n)
        assert count(normals, offsets) == diagnostics.max_regions(n, 2)
    angles = np.linspace(0, np.pi, 6)[:-1]
    through_origin = np.c_[np.cos(angles), np.sin(angles)]
    assert count(through_origin, np.zeros(5)) == 10               # 2n
    parallel = np.c_[np.ones(4), np.zeros(4)]
    assert count(parallel, np.arange(4.0)) == 5                   # n + 1
    # a repeated line (either orientation) and a zero normal cut nothing new
    lines = np.array([[1.0, 2.0], [-2.0, -4.0], [0.0, 1.0], [0.0, 0.0]])
    assert count(lines, np.array([1.0, -2.0, 0.0, 3.0])) == 4
    # three lines through one point: 6 regions, not 7
    assert count(np.array([[1.0, 0], [0, 1], [1, 1]]),
                 np.array([-1.0, -1.0, -2.0])) == 6


def test_arrangement_regions_in_three_dimensions():
    count = diagnostics.arrangement_regions
    rng = np.random.default_rng(1)
    assert count(rng.standard_normal((6, 3)), rng.standard_normal(6)) == 42
    assert count(np.eye(3), np.zeros(3)) == 8
    # three planes that all contain the x3 axis
    common_line = np.array([[1.0, 0, 0], [0, 1, 0], [1, 1, 0]])
    assert count(common_line, np.zeros(3)) == 6
    for normals, offsets, match in (
            (np.zeros((2, 2)), np.zeros(3), "shape"),
            (np.zeros(2), np.zeros(2), "shape"),
            (np.array([[np.nan, 1.0]]), [0.0], "finite")):
        with pytest.raises(ValueError, match=match):
            count(normals, offsets)
    with pytest.raises(ValueError, match="tol"):
        count(np.eye(2), np.zeros(2), tol=0.0)


def test_regions_in_input_space_agrees_with_the_patterns_on_a_fine_grid():
    # an independent count: every region of 4 lines meets a window around
    # all their crossings
    net = models.MLP(2, [4], 1, activation="relu", seed=2)
    with torch.no_grad():
        net.linears[0].bias.copy_(torch.tensor([0.3, -0.4, 0.5, -0.2]))
    W = net.linears[0].weight.detach().double().numpy()
    b = net.linears[0].bias.detach().double().numpy()
    crossings = [np.linalg.solve(W[[i, j]], -b[[i, j]])
                 for i in range(4) for j in range(i + 1, 4)]
    lim = np.abs(crossings).max() + 1.0
    seen, _ = diagnostics.regions_on_grid(net, (-lim, lim), (-lim, lim),
                                          resolution=800)
    assert diagnostics.regions_in_input_space(net) == seen == 11


def test_regions_in_input_space_of_special_nets():
    count = diagnostics.regions_in_input_space
    zero_bias = models.MLP(2, [6], 1, activation="relu", seed=0)  # biases 0
    assert count(zero_bias) == 12                 # 2n: lines through 0
    leaky = models.MLP(3, [5], 2, activation="leaky_relu", seed=1)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        leaky.linears[0].bias.normal_(0, 0.5, generator=gen)
    assert count(leaky) == diagnostics.max_regions(5, 3)
    assert count(models.MLP(2, [4], 1, "linear")) == 1
    with pytest.raises(ValueError, match="one hidden layer"):
        count(models.MLP(2, [3, 3], 1))
    with pytest.raises(ValueError, match="region counting"):
        count(models.MLP(2, [3], 1, "tanh"))


# --- random hidden units, output weights fitted ----------------------------

def test_random_feature_fit_draws_switch_points_in_the_interval():
    fit = piecewise.random_feature_fit("relu", 20, seed=4)
    assert fit.x.shape == fit.y.shape == fit.target_y.shape == (401,)
    assert fit.kinks.shape == (20,) and np.all(np.abs(fit.kinks) <= 4.0)
    np.testing.assert_allclose(fit.target_y, np.sin(fit.x))
    assert fit.max_error == pytest.approx(np.abs(fit.y - fit.target_y).max())
    gaps = np.diff(np.r_[-4.0, np.sort(fit.kinks), 4.0])
    assert fit.largest_gap == pytest.approx(gaps.max())


def test_random_relu_features_ignore_the_scale_and_polynomials_stall():
    # ReLU(c·z) = c·ReLU(z) for c > 0: the scale changes no span, so no fit
    a = piecewise.random_feature_fit("relu", 16, seed=2, scale=0.5)
    b = piecewise.random_feature_fit("relu", 16, seed=2, scale=4.0)
    np.testing.assert_allclose(a.y, b.y, atol=1e-10)
    assert piecewise.random_feature_fit("tanh", 32, seed=1).max_error < 1e-4
    line = piecewise.random_feature_fit("linear", 2, seed=0).max_error
    for n in (4, 64):               # a polynomial of degree ≤ 2 at any width
        square = piecewise.random_feature_fit(np.square, n, seed=n)
        assert square.max_error == pytest.approx(line, rel=1e-6)
    # below h²/8 · max|sin''|, the interpolation bound for the longest
    # straight piece (least squares is not bound by it, but this draw is)
    fit = piecewise.random_feature_fit("relu", 64, seed=3)
    assert fit.max_error < fit.largest_gap ** 2 / 8


def test_random_feature_fit_rejects_bad_input():
    for kwargs, match in (({"n_units": 0}, "n_units"), ({"seed": -1}, "seed"),
                          ({"scale": 0.0}, "scale"),
                          ({"target": "cos"}, "target"),
                          ({"interval": (1.0, 1.0)}, "interval"),
                          ({"n_points": 0}, "n_points")):
        args = {"n_units": 4, **kwargs}
        with pytest.raises(ValueError, match=match):
            piecewise.random_feature_fit("relu", **args)
    with pytest.raises(TypeError, match="activation"):
        piecewise.random_feature_fit(3.0, 4)
