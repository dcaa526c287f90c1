"""Library pieces of the why-nonlinearity chapter: full-batch ensemble training (Adam, L2,
regression), the straight pieces of a decision boundary, and the fit and boundary widgets."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from rectified import boundary, data, ensemble, models, widgets
from rectified.train import TrainConfig, train


# --- train_ensemble_full_batch ---------------------------------------------------------------

def test_full_batch_ensemble_matches_separate_adam_runs_with_l2():
    ds = data.classification_2d("ring", n=120, seed=1)
    cfg = TrainConfig(optimizer="adam", lr=0.03, steps=40, batch_size=None, weight_decay=1e-3,
                      diagnostics=False, record_every=20)
    seeds = (2, 5)
    ens = ensemble.MLPEnsemble([models.MLP(2, [4, 3], 2, "relu", seed=s) for s in seeds])
    hists = ensemble.train_ensemble_full_batch(ens, ds, cfg)
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
    ens = ensemble.MLPEnsemble([models.MLP(1, [6], 1, "tanh", seed=s) for s in (0, 1)])
    hists = ensemble.train_ensemble_full_batch(ens, ds, cfg)
    for k in (0, 1):
        ref = train(models.MLP(1, [6], 1, "tanh", seed=k), ds, cfg)
        assert len(hists[k].loss) == len(ref.loss) == 16      # a record per epoch, as train()
        np.testing.assert_allclose(hists[k].test_loss, ref.test_loss, atol=1e-5)
        assert np.isnan(hists[k].train_acc).all()


def test_full_batch_ensemble_flags_divergence_and_rejects_bad_input():
    ds = data.regression_1d("sine", n=40, seed=0)
    ens = ensemble.MLPEnsemble([models.MLP(1, [4], 1, "relu", seed=0)])
    hists = ensemble.train_ensemble_full_batch(
        ens, ds, TrainConfig(optimizer="sgd", lr=1e6, steps=30, batch_size=None,
                             diagnostics=False, record_every=10))
    assert hists[0].diverged and "diverged" in hists[0].message
    good = TrainConfig(lr=0.1, steps=2, batch_size=None)
    with pytest.raises(TypeError, match="MLPEnsemble"):
        ensemble.train_ensemble_full_batch(models.MLP(1, [4], 1), ds, good)
    with pytest.raises(TypeError, match="Dataset"):
        ensemble.train_ensemble_full_batch(ens, (ds.X_train, ds.y_train), good)
    with pytest.raises(TypeError, match="TrainConfig"):
        ensemble.train_ensemble_full_batch(ens, ds, {"lr": 0.1})
    with pytest.raises(ValueError, match="batch_size=None"):
        ensemble.train_ensemble_full_batch(ens, ds, TrainConfig(lr=0.1, steps=2, batch_size=8))


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


# --- widgets ---------------------------------------------------------------------------------

def test_render_fit_trains_or_uses_a_given_net():
    state = widgets.FitState(n_units=3, steps=5, view=6.0)
    fig = widgets.render_fit(state)
    assert "3 units, seed 0" in fig.axes[0].get_title() and "kink" in fig.axes[0].get_title()
    hand = models.relu_interpolant(np.array([-2.0, 0.0, 2.0]), np.array([0.0, 1.0, 0.0]))
    fig = widgets.render_fit(widgets.FitState(n_units=2), net=hand)
    assert ": 2 kinks" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="view"):
        widgets.render_fit(widgets.FitState(view=3.0), net=hand)
    with pytest.raises(ValueError, match="n_units"):
        widgets.fit_net(widgets.FitState(n_units=0))
    plt.close("all")


def test_render_boundary_counts_pieces_for_relu_only():
    fig = widgets.render_boundary(widgets.BoundaryState(activation="relu", steps=5))
    title = fig.axes[0].get_title()
    assert "test accuracy" in title and "straight pieces" in title
    fig = widgets.render_boundary(widgets.BoundaryState(activation="tanh"),
                                  net=models.MLP(2, [3, 3, 3], 2, "tanh", seed=1))
    assert "straight pieces" not in fig.axes[0].get_title()
    plt.close("all")
