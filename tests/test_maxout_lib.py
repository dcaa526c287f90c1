"""Tests of the maxout chapter's helpers: piecewise-linear fits, permuted tasks, two-task
training and the maxout-fit experiment."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import continual, data, models, piecewise, plots
from rectified.train import TrainConfig

X = np.linspace(-3, 3, 241)


def test_max_of_lines_and_shape_checks():
    lines = np.array([[1.0, 0.0], [0.0, 0.0]])           # ReLU as a max of two lines
    np.testing.assert_array_equal(piecewise.max_of_lines(X, lines), np.maximum(X, 0))
    with pytest.raises(ValueError, match="shape"):
        piecewise.max_of_lines(X, [1.0, 2.0])


def test_chords_of_a_convex_target_interpolate_it():
    t = np.linspace(-3, 3, 7)
    lines = piecewise.chords(t, t ** 2)
    assert lines.shape == (6, 2)
    np.testing.assert_allclose(piecewise.max_of_lines(X, lines), np.interp(X, t, t ** 2),
                               atol=1e-12)
    with pytest.raises(ValueError, match="increasing"):
        piecewise.chords([0.0, 0.0, 1.0], [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="equal length"):
        piecewise.chords([0.0, 1.0], [0.0])


def test_convex_lines_build_the_relu_sum():
    lines = piecewise.convex_lines(-1.0, 0.5, [1.0, -1.0], [2.0, 0.5])
    want = -X + 0.5 + 2.0 * np.maximum(X - 1, 0) + 0.5 * np.maximum(X + 1, 0)
    np.testing.assert_allclose(piecewise.max_of_lines(X, lines), want, atol=1e-12)
    with pytest.raises(ValueError, match=">= 0"):
        piecewise.convex_lines(0.0, 0.0, [0.0], [-1.0])
    with pytest.raises(ValueError, match="same length"):
        piecewise.convex_lines(0.0, 0.0, [0.0, 1.0], [1.0])


def test_dc_split_is_exact_for_any_interpolant():
    t = np.linspace(-3, 3, 14)
    v = np.sin(2 * t) + 0.3 * t
    g, h = piecewise.dc_split(t, v)
    fit = piecewise.MaxoutFit(g, h)
    np.testing.assert_allclose(fit(X), np.interp(X, t, v), atol=1e-12)
    assert fit.k == len(g) and len(g) + len(h) == len(t)   # one line per kink, plus two


def test_best_convex_fit_is_convex_and_beats_a_line():
    y = piecewise.TARGETS["wave"](X)
    fit = piecewise.best_convex_fit(X, y, n_kinks=32)
    assert np.all(np.diff(fit.g[:, 0]) >= 0)                 # slopes increase: convex
    line = np.polyval(np.polyfit(X, y, 1), X)
    assert fit.rms_error(X, y) < np.sqrt(np.mean((line - y) ** 2))


def test_one_unit_fits_convex_targets_with_error_falling_like_one_over_k_squared():
    y = X ** 2
    e4 = piecewise.fit_maxout_1d(X, y, 4).rms_error(X, y)
    e16 = piecewise.fit_maxout_1d(X, y, 16).rms_error(X, y)
    assert 10 < e4 / e16 < 25                                # about 4² = 16


def test_one_unit_plateaus_on_a_nonconvex_target_but_a_difference_does_not():
    y = piecewise.TARGETS["wave"](X)
    floor = piecewise.best_convex_fit(X, y).rms_error(X, y)
    single = [piecewise.fit_maxout_1d(X, y, k).rms_error(X, y) for k in (1, 2, 4, 8)]
    assert all(e >= floor - 1e-6 for e in single)
    assert all(b <= a + 1e-12 for a, b in zip(single, single[1:]))
    diff = piecewise.fit_maxout_1d(X, y, 8, difference=True)
    assert diff.h is not None and diff.h.shape == (8, 2)
    assert diff.rms_error(X, y) < 0.1 * floor


def test_fit_maxout_1d_input_checks():
    with pytest.raises(ValueError, match="positive int"):
        piecewise.fit_maxout_1d(X, X, 0)
    with pytest.raises(ValueError, match="positive int"):
        piecewise.fit_maxout_1d(X, X, True)
    with pytest.raises(ValueError, match="same number"):
        piecewise.fit_maxout_1d(X, X[:-1], 2)


def test_fit_handles_unsorted_inputs_and_unused_pieces():
    rng = np.random.default_rng(0)
    x = rng.permutation(X)
    fit = piecewise.fit_maxout_1d(x, np.abs(x), 5)           # |x| needs only 2 of 5 pieces
    assert fit.k == 5 and fit.rms_error(x, np.abs(x)) < 5e-3


def test_permuted_shuffles_features_the_same_way_everywhere():
    ds = data.digits(seed=0)
    p = data.permuted(ds, seed=3)
    perm = np.random.default_rng(3).permutation(64)
    np.testing.assert_array_equal(p.X_train, ds.X_train[:, perm])
    np.testing.assert_array_equal(p.X_test, ds.X_test[:, perm])
    np.testing.assert_array_equal(p.y_train, ds.y_train)
    assert p.n_classes == 10 and "permuted" in p.name
    img = data.permuted(data.digits(seed=0, images=True), seed=3)
    assert img.X_train.shape[1:] == (1, 8, 8)
    np.testing.assert_array_equal(img.X_train.reshape(len(img.X_train), -1), p.X_train)
    with pytest.raises(TypeError, match="Dataset"):
        data.permuted(ds.X_train)
    with pytest.raises(TypeError, match="seed"):
        data.permuted(ds, seed=1.5)


def _small_digits():
    ds = data.digits(seed=0)
    return data.Dataset(ds.X_train[:300], ds.y_train[:300], ds.X_test[:200], ds.y_test[:200],
                        "digits", 10)


def test_train_two_tasks_tracks_the_first_task():
    a = _small_digits()
    b = data.permuted(a, seed=1)
    cfg = TrainConfig(optimizer="adam", lr=0.01, epochs=4, batch_size=64, diagnostics=False)
    cfg_b = TrainConfig(optimizer="adam", lr=0.01, epochs=30, batch_size=64,
                        diagnostics=False, stop_at_train_acc=0.9)
    res = continual.train_two_tasks(models.MLP(64, [32], 10, seed=0), a, b, cfg, cfg_b)
    assert res.first_curve[0] == res.first_before         # the curve starts before B
    assert res.first_curve[-1] == res.first_after
    assert res.history_second.train_acc[-1] >= 0.9          # B learned to the stop
    assert res.first_before > 0.8 and res.second_after > 0.7
    assert res.forgotten == pytest.approx(res.first_before - res.first_after)
    assert len(res.second_epochs) == len(res.first_curve)
    again = continual.train_two_tasks(models.MLP(64, [32], 10, seed=0), a, b, cfg, cfg_b)
    assert again.first_after == res.first_after              # deterministic


def test_train_two_tasks_checks_its_tasks():
    a = _small_digits()
    cfg = TrainConfig(epochs=1, diagnostics=False)
    net = models.MLP(64, [8], 10)
    with pytest.raises(TypeError, match="first"):
        continual.train_two_tasks(net, a.X_train, a, cfg)
    reg = data.regression_1d(n=50)
    with pytest.raises(ValueError, match="classification"):
        continual.train_two_tasks(net, a, reg, cfg)
    other = data.Dataset(a.X_train[:, :32], a.y_train, a.X_test[:, :32], a.y_test, "half", 10)
    with pytest.raises(ValueError, match="share"):
        continual.train_two_tasks(net, a, other, cfg)


def test_compute_maxout_fit_reports_the_error_and_every_piece():
    r3 = piecewise.compute_maxout_fit(piecewise.MaxoutFitState("parabola", k=3))
    assert len(r3.pieces) == len(r3.units) == 1 and r3.pieces[0].shape == (3, 301)
    np.testing.assert_allclose(r3.units[0], r3.pieces[0].max(0))
    np.testing.assert_allclose(r3.approx, r3.units[0])
    assert r3.rms_error == pytest.approx(np.sqrt(np.mean((r3.approx - r3.x ** 2) ** 2)))
    r12 = piecewise.compute_maxout_fit(piecewise.MaxoutFitState("parabola", k=12))
    assert r12.rms_error < r3.rms_error / 8
    rd = piecewise.compute_maxout_fit(piecewise.MaxoutFitState("wave", k=4, difference=True))
    assert rd.difference and [p.shape for p in rd.pieces] == [(4, 301), (4, 301)]
    np.testing.assert_allclose(rd.approx, rd.units[0] - rd.units[1])
    with pytest.raises(ValueError, match="target"):
        piecewise.compute_maxout_fit(piecewise.MaxoutFitState("cubic"))
    with pytest.raises(ValueError, match="k must"):
        piecewise.compute_maxout_fit(piecewise.MaxoutFitState(k=0))
    with pytest.raises(TypeError, match="difference must be a bool"):
        piecewise.compute_maxout_fit(piecewise.MaxoutFitState(difference="yes"))


def test_draw_maxout_fit_draws_every_piece():
    fig = plots.draw_maxout_fit(piecewise.compute_maxout_fit(
        piecewise.MaxoutFitState("parabola", k=3)))
    assert len(fig.axes) == 2
    assert len(fig.axes[0].get_lines()) == 3 + 1 + 1           # pieces, their max, target
    plt.close(fig)
    fig = plots.draw_maxout_fit(piecewise.compute_maxout_fit(
        piecewise.MaxoutFitState("wave", k=4, difference=True)))
    assert len(fig.axes[0].get_lines()) == 2 * (4 + 1)


def test_learn_second_task_continues_a_trained_model():
    a = _small_digits()
    b = data.permuted(a, seed=2)
    net = models.MLP(64, [32], 10, activation="maxout", k=2, seed=1)
    cfg = TrainConfig(optimizer="adam", lr=0.01, epochs=3, batch_size=64, diagnostics=False)
    from rectified.train import train
    h = train(net, a, cfg)
    res = continual.learn_second_task(net, a, b, cfg)
    assert res.history_first is None
    assert res.first_before == h.test_acc[-1]                 # the same model, not retrained
    assert res.history_second.epoch[-1] == 3


def test_forgetting_state_builds_the_arm_and_its_configs():
    a = _small_digits()
    arm = continual.ForgettingState("maxout", width=8, k=3, dropout=0.5,
                                    lr=0.02)
    net = arm.model(a, seed=4)
    assert net.linears[0].out_features == 24 and net.k == 3
    assert net.dropout.p == 0.5
    first, second = arm.config_first(4), arm.config_second(4)
    assert (first.lr, first.epochs, first.seed) == (0.02, 8, 4)
    assert (second.stop_at_train_acc, second.epochs) == (0.99, 30)
    with pytest.raises(ValueError, match="stop_at"):
        continual.ForgettingState(stop_at=1.5).config_second(0)


def test_compute_forgetting_reports_every_seed():
    a = _small_digits()
    b = data.permuted(a, seed=1)
    arm = continual.ForgettingState("relu", width=16, lr=0.02, epochs=3,
                                    stop_at=0.9, max_epochs_b=10)
    res = continual.compute_forgetting(arm, a, b, seeds=[0, 1])
    assert res.seeds == (0, 1) and len(res.runs) == 2
    np.testing.assert_allclose(
        res.forgotten, [r.first_before - r.first_after for r in res.runs])
    np.testing.assert_allclose(res.gap_first,
                               res.train_acc_first - res.test_acc_first)
    assert np.all(res.test_loss_first > 0)
    assert np.all(res.epochs_second <= 10)
    np.testing.assert_allclose(res.first_after,
                               [r.first_after for r in res.runs])
    kept = res.first_when_second_reaches(0.5)
    for r, got in zip(res.runs, kept):   # A at B's first record >= 0.5
        first = int(np.argmax(np.asarray(r.history_second.train_acc) >= 0.5))
        assert got == r.first_curve[first]
    assert np.isnan(res.first_when_second_reaches(1.01)).all()  # never
    again = continual.compute_forgetting(arm, a, b, seeds=[0, 1])
    np.testing.assert_array_equal(again.forgotten, res.forgotten)
    with pytest.raises(TypeError, match="ForgettingState"):
        continual.compute_forgetting("relu", a, b, seeds=[0])
    with pytest.raises(ValueError, match="seeds"):
        continual.compute_forgetting(arm, a, b, seeds=[])


def test_tune_lr_brackets_the_best_rate_on_validation_data():
    a = _small_digits()
    arm = continual.ForgettingState("relu", width=16, epochs=2)
    choice = continual.tune_lr(arm, a, (0.01, 0.02), seeds=[0, 1])
    assert not choice.at_edge or len(choice.grid) == 2 + 4
    assert choice.best in choice.grid and len(choice.grid) >= 2
    best = continual.ForgettingState("relu", width=16, epochs=2,
                                     lr=choice.best)
    net, hist = continual.train_first_task(best, a, 0)
    assert hist.test_acc[-1] == pytest.approx(
        choice.medians[choice.grid.index(choice.best)], abs=0.2)
    with pytest.raises(ValueError, match="factor"):
        continual.tune_lr(arm, a, (0.01, 0.05), seeds=[0])


# --- one maxout unit over the plane -----------------------------------------------------

def test_maxout_plane_regions_are_convex_and_slopes_are_the_pieces():
    for k in (1, 2, 3, 5):
        r = piecewise.compute_maxout_plane(piecewise.MaxoutPlaneState(k=k, seed=2,
                                                                      resolution=61))
        assert 1 <= r.regions <= k and r.nonconvex == 0
        assert r.winner.shape == r.value.shape == (61, 61)
        assert np.allclose(r.value, (np.stack(np.meshgrid(r.x, r.y), -1) @ r.weights.T
                                     + r.biases).max(-1))
        won = ~np.isnan(r.slopes[:, 0])
        assert won.sum() == r.regions
        assert np.allclose(r.slopes[won], r.weights[won], atol=1e-6)


def test_maxout_plane_a_dominated_piece_has_no_region():
    r = piecewise.compute_maxout_plane(piecewise.MaxoutPlaneState(k=3, resolution=21))
    w, b = piecewise.maxout_plane_pieces(3, 0)
    assert np.array_equal(w, r.weights) and np.array_equal(b, r.biases)
    # the same pieces plus one that is always lower: still the same regions
    lower = np.vstack([w, w[:1]]), np.r_[b, b[0] - 10]
    pts = np.stack(np.meshgrid(r.x, r.y), -1)
    assert np.array_equal((pts @ lower[0].T + lower[1]).argmax(-1), r.winner)


@pytest.mark.parametrize("kwargs, error", [
    (dict(k=0), ValueError), (dict(k=2.0), TypeError), (dict(seed=-1), ValueError),
    (dict(lim=0), ValueError), (dict(resolution=5), ValueError)])
def test_maxout_plane_state_checks(kwargs, error):
    with pytest.raises(error):
        piecewise.MaxoutPlaneState(**kwargs)
    with pytest.raises(TypeError, match="MaxoutPlaneState"):
        piecewise.compute_maxout_plane("k=3")


def test_draw_maxout_plane_draws_every_region():
    r = piecewise.compute_maxout_plane(piecewise.MaxoutPlaneState(k=4, resolution=41))
    fig = plots.draw_maxout_plane(r)
    ax = fig.axes[0]
    assert len(ax.images) == 1 and "4 regions" in ax.get_title()
    labels = [t.get_text() for t in ax.texts if t.get_text()]
    assert sorted(labels) == [str(i + 1) for i in range(r.regions)]
    plt.close(fig)


# --- a maxout twin of a ReLU net ---------------------------------------------------------

def test_maxout_twin_computes_the_same_function():
    relu_net = models.MLP(5, [7], 3, activation="relu", seed=1)
    twin = piecewise.maxout_twin(relu_net)
    x = torch.randn(50, 5, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(relu_net(x), twin(x), atol=1e-5)   # float32 sums
    assert twin.linears[0].weight.shape == (14, 5)
    assert torch.all(twin.linears[0].weight[1::2] == 0)
    with pytest.raises(ValueError, match="one hidden layer of ReLU"):
        piecewise.maxout_twin(models.MLP(5, [7], 3, activation="tanh"))
    with pytest.raises(ValueError, match="one hidden layer of ReLU"):
        piecewise.maxout_twin(models.MLP(5, [7, 7], 3))


def test_maxout_twin_shares_the_start_and_parts_in_training():
    r = piecewise.compute_maxout_twin(piecewise.MaxoutTwinState(width=8, epochs=1))
    assert r.start_gap < 1e-4 and r.first_piece_gap < 1e-5
    assert 0 < r.off_share < 1 and 0 < r.second_share < 1
    assert r.moved == 8 and r.end_gap > 0
    assert r.relu.loss[0] == pytest.approx(r.maxout.loss[0], abs=1e-6)
    fig = plots.draw_maxout_twin(r)
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)


@pytest.mark.parametrize("kwargs, error", [
    (dict(width=0), ValueError), (dict(lr=0), ValueError), (dict(epochs=1.5), TypeError),
    (dict(seed="0"), TypeError)])
def test_maxout_twin_state_checks(kwargs, error):
    with pytest.raises(error):
        piecewise.MaxoutTwinState(**kwargs)
    with pytest.raises(TypeError, match="MaxoutTwinState"):
        piecewise.compute_maxout_twin(None)
