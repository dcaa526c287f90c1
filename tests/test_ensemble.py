"""Batched training of many MLPs (rectified.ensemble) and the training-speed widget."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import data, ensemble, models, widgets
from rectified.train import History, TrainConfig, train


@pytest.fixture(scope="module")
def digits():
    return data.digits(test_fraction=0.5, seed=0)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_each_member_matches_a_separate_training_run(digits, optimizer):
    seeds, lrs, l1s = (3, 4), (0.05, 0.2), (0.0, 0.01)
    nets = [models.MLP(64, [16, 8], 10, "tanh", init="xavier", seed=s) for s in seeds]
    cfgs = [TrainConfig(optimizer=optimizer, lr=lr, epochs=2, batch_size=32, seed=s + 10,
                        activation_l1=l1, diagnostics=False)
            for s, lr, l1 in zip(seeds, lrs, l1s)]
    ens = ensemble.MLPEnsemble(nets)
    assert len(ens) == 2
    hists = ensemble.train_ensemble(ens, digits, cfgs)
    for k, (s, cfg) in enumerate(zip(seeds, cfgs)):
        net = models.MLP(64, [16, 8], 10, "tanh", init="xavier", seed=s)
        ref = train(net, digits, cfg)
        assert hists[k].epoch == ref.epoch and hists[k].step == ref.step
        np.testing.assert_allclose(hists[k].loss, ref.loss, rtol=1e-4)
        np.testing.assert_allclose(hists[k].test_acc, ref.test_acc, atol=2e-3)
        # the trained member is the trained stand-alone net
        X = torch.as_tensor(digits.X_test[:50])
        with torch.no_grad():
            np.testing.assert_allclose(ens.member(k)(X).numpy(), net(X).numpy(), rtol=1e-3,
                                       atol=1e-3)
    assert "finished" in hists[0].message


def test_a_member_diverging_at_an_epoch_start_leaves_the_others_as_trained_alone(digits):
    # lr 25 blows up on the minibatch of step 15, the first of epoch 2 (899 examples,
    # batches of 64), between two records: the surviving member must keep its own
    # minibatch order, as if trained alone
    cfgs = [TrainConfig(lr=lr, epochs=3, batch_size=64, record_every=7, seed=0,
                        diagnostics=False) for lr in (0.5, 25.0)]
    nets = [models.MLP(64, [16], 10, seed=0) for _ in cfgs]
    hists = ensemble.train_ensemble(ensemble.MLPEnsemble(nets), digits, cfgs)
    assert hists[1].diverged and "diverged at step 15" in hists[1].message
    ref = train(models.MLP(64, [16], 10, seed=0), digits, cfgs[0])
    assert hists[0].step == ref.step
    np.testing.assert_allclose(hists[0].loss, ref.loss, rtol=1e-4)


def test_forward_accepts_shared_or_per_member_inputs(digits):
    ens = ensemble.MLPEnsemble([models.MLP(64, [8], 10, seed=s) for s in range(3)])
    X = torch.as_tensor(digits.X_train[:5])
    shared = ens(X)
    per_member = ens(X.expand(3, -1, -1))
    assert shared.shape == (3, 5, 10)
    torch.testing.assert_close(shared, per_member)
    out, pres, posts = ens.forward_hidden(X)
    assert len(pres) == len(posts) == 1 and pres[0].shape == (3, 5, 8)
    with pytest.raises(IndexError):
        ens.member(3)


def test_early_stop_divergence_and_no_test_set(digits):
    nets = [models.MLP(64, [16], 10, seed=0), models.MLP(64, [16], 10, seed=0),
            models.MLP(64, [16], 10, seed=1)]
    cfgs = [TrainConfig(lr=0.5, epochs=6, batch_size=64, stop_at_train_acc=0.9, seed=0),
            TrainConfig(lr=1e6, epochs=6, batch_size=64, stop_at_train_acc=0.9, seed=0),
            TrainConfig(lr=1e-5, epochs=6, batch_size=64, stop_at_train_acc=0.9, seed=1)]
    hists = ensemble.train_ensemble(ensemble.MLPEnsemble(nets), digits, cfgs, test=False)
    fast, blown, slow = hists
    assert "reached" in fast.message and fast.train_acc[-1] >= 0.9 and fast.epoch[-1] < 6
    assert blown.diverged and "diverged" in blown.message
    assert slow.epoch[-1] == 6 and "finished" in slow.message
    assert all(math.isnan(v) for v in fast.test_acc)
    assert ensemble.epochs_to_target(fast, 0.9) == fast.epoch[-1]
    assert ensemble.epochs_to_target(slow, 0.9) == math.inf


def test_divergence_at_a_record_or_at_a_step(digits):
    net = models.MLP(64, [16], 10, seed=0, init_scale=1e30)      # infinite loss at once
    cfg = TrainConfig(lr=0.1, steps=1, batch_size=8, record_every=1)
    h = ensemble.train_ensemble(ensemble.MLPEnsemble([net]), digits, [cfg])[0]
    assert h.diverged and h.step == [0]
    cfg = TrainConfig(lr=1e8, steps=50, batch_size=8, record_every=50)  # blows up mid-run
    h = ensemble.train_ensemble(ensemble.MLPEnsemble([models.MLP(64, [16], 10)]), digits,
                                [cfg])[0]
    assert h.diverged and h.step == [0] and "diverged at step" in h.message


def test_best_by_median_picks_the_fastest_setting():
    best, med = ensemble.best_by_median({0.1: [5, 6, 100], 0.3: [3, 4, math.inf],
                                         1.0: [math.inf] * 3})
    assert best == 0.3 and med == 4
    assert ensemble.best_by_median({1: [2.0], 2: [2.0]}) == (1, 2.0)
    with pytest.raises(ValueError):
        ensemble.best_by_median({})


def test_ensemble_rejects_what_it_cannot_batch(digits):
    with pytest.raises(ValueError, match="at least one"):
        ensemble.MLPEnsemble([])
    with pytest.raises(TypeError):
        ensemble.MLPEnsemble([torch.nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="batch norm"):
        ensemble.MLPEnsemble([models.MLP(4, [4], 2, batchnorm="after")])
    with pytest.raises(ValueError, match="same widths"):
        ensemble.MLPEnsemble([models.MLP(4, [4], 2), models.MLP(4, [5], 2)])
    ens = ensemble.MLPEnsemble([models.MLP(64, [4], 10)])
    with pytest.raises(ValueError, match="one TrainConfig per member"):
        ensemble.train_ensemble(ens, digits, [])
    with pytest.raises(ValueError, match="plain SGD"):
        ensemble.train_ensemble(ens, digits, [TrainConfig(optimizer="adam", epochs=1)])
    with pytest.raises(TypeError):
        ensemble.train_ensemble(ens, digits, ["not a config"])
    with pytest.raises(ValueError, match="cross-entropy"):
        ensemble.train_ensemble(ens, digits, [TrainConfig(loss="mse", epochs=1)])
    ens2 = ensemble.MLPEnsemble([models.MLP(64, [4], 10), models.MLP(64, [4], 10)])
    with pytest.raises(ValueError, match="batch_size must be the same"):
        ensemble.train_ensemble(ens2, digits, [TrainConfig(epochs=1, batch_size=8),
                                               TrainConfig(epochs=1, batch_size=16)])
    with pytest.raises(TypeError):
        ensemble.train_ensemble(models.MLP(64, [4], 10), digits, [TrainConfig(epochs=1)])
    with pytest.raises(TypeError):
        ensemble.train_ensemble(ens, data.regression_1d(), [TrainConfig(epochs=1)])


# --- the widget ----------------------------------------------------------------------------

def _fake_runs():
    def hist(speed):
        h = History(config={})
        for e in range(6):
            h.epoch.append(float(e))
            h.train_acc.append(min(1.0, 0.1 + speed * e))
        return h

    runs = {}
    for act, base in (("relu", 0.2), ("tanh", 0.3), ("sigmoid", 0.1)):
        for lr in (0.1, 1.0):
            runs[(act, lr, "standardised", 3)] = [hist(base * (1 + lr)), hist(base)]
    return runs


def test_render_training_speed_draws_seeds_target_and_best_of_others():
    runs = _fake_runs()
    fig = widgets.render_training_speed(widgets.SpeedState("tanh", lr=0.8), runs)
    ax = fig.axes[0]
    labels = [l.get_label() for l in ax.get_lines()]
    assert "tanh, lr 1 (2 seeds)" in labels                     # snapped to the nearest lr
    assert "relu, its best lr 1" in labels and "target: 5% error" in labels
    assert "epochs to target" in ax.get_title()
    fig = widgets.render_training_speed(
        widgets.SpeedState("sigmoid", lr=0.1, target=0.99), runs)
    assert "misses the target" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="no runs"):
        widgets.render_training_speed(widgets.SpeedState("gelu"), runs)
    plt.close("all")


def test_epochs_to_target_interpolates_between_records():
    h = History(config={}, epoch=[0.0, 1.0, 2.0, 3.0], train_acc=[0.1, 0.5, 0.9, 1.0])
    assert ensemble.epochs_to_target(h, 0.9) == 2.0
    assert ensemble.epochs_to_target(h, 0.7) == 2.0
    assert ensemble.epochs_to_target(h, 0.7, interpolate=True) == pytest.approx(1.5)
    assert ensemble.epochs_to_target(h, 0.05, interpolate=True) == 0.0
    assert ensemble.epochs_to_target(h, 1.5, interpolate=True) == math.inf
