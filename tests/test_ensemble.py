"""Batched training of many MLPs: models.MLPEnsemble trained by the engine (train.train,
train.Trainer), and the comparison helpers that read the runs (compare)."""

import math

import numpy as np
import pytest
import torch

from rectified import compare, data, models
from rectified.models import MLPEnsemble
from rectified.train import History, TrainConfig, Trainer, train


@pytest.fixture(scope="module")
def digits():
    return data.digits(test_fraction=0.5, seed=0)


def _same_history(a: History, b: History) -> bool:
    x, y = a.as_arrays(), b.as_arrays()
    return all(np.array_equal(x[k], y[k], equal_nan=True) for k in x) and \
        (a.message, a.diverged) == (b.message, b.diverged)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_each_member_matches_a_separate_training_run(digits, optimizer):
    seeds, l1s = (3, 4), (0.0, 0.01)
    lrs = (0.01, 0.01) if optimizer == "adam" else (0.05, 0.2)     # Adam: one shared lr
    nets = [models.MLP(64, [16, 8], 10, "tanh", init="xavier", seed=s) for s in seeds]
    cfgs = [TrainConfig(optimizer=optimizer, lr=lr, epochs=2, batch_size=32, seed=s + 10,
                        activation_l1=l1, diagnostics=False)
            for s, lr, l1 in zip(seeds, lrs, l1s)]
    ens = MLPEnsemble(nets)
    assert len(ens) == 2
    hists = train(ens, digits, cfgs)
    for k, (s, cfg) in enumerate(zip(seeds, cfgs)):
        net = models.MLP(64, [16, 8], 10, "tanh", init="xavier", seed=s)
        ref = train(net, digits, cfg)
        assert hists[k].epoch == ref.epoch and hists[k].step == ref.step
        np.testing.assert_allclose(hists[k].loss, ref.loss, rtol=1e-4)
        np.testing.assert_allclose(hists[k].test_acc, ref.test_acc, atol=2e-3)
        assert hists[k].grad_norm == [] and ref.message == hists[k].message
        # the trained member is the trained stand-alone net
        X = torch.as_tensor(digits.X_test[:50])
        with torch.no_grad():
            np.testing.assert_allclose(ens.member(k)(X).numpy(), net(X).numpy(), rtol=1e-3,
                                       atol=1e-3)
    assert hists[0].message == "finished 58 steps (2 epochs)"
    assert not ens.training


def test_a_minibatch_regression_ensemble_matches_separate_runs():
    ds = data.regression_1d("sine", n=80, seed=0)
    cfgs = [TrainConfig(optimizer="momentum", lr=lr, epochs=4, batch_size=16, seed=s,
                        weight_decay=1e-3) for lr, s in ((0.01, 0), (0.03, 1))]
    hists = train(MLPEnsemble([models.MLP(1, [8], 1, seed=s) for s in (0, 1)]), ds, cfgs)
    for k, cfg in enumerate(cfgs):
        ref = train(models.MLP(1, [8], 1, seed=k), ds, cfg)
        np.testing.assert_allclose(hists[k].loss, ref.loss, rtol=1e-4)
        assert np.isnan(hists[k].train_acc).all()


def test_a_member_diverging_at_an_epoch_start_leaves_the_others_as_trained_alone(digits):
    # lr 25 blows up on the minibatch of step 15, the first of epoch 2 (899 examples,
    # batches of 64), between two records: the surviving member must keep its own
    # minibatch order, as if trained alone
    cfgs = [TrainConfig(lr=lr, epochs=3, batch_size=64, record_every=7, seed=0,
                        diagnostics=False) for lr in (0.5, 25.0)]
    nets = [models.MLP(64, [16], 10, seed=0) for _ in cfgs]
    hists = train(MLPEnsemble(nets), digits, cfgs)
    assert hists[1].diverged and "diverged at step 15" in hists[1].message
    ref = train(models.MLP(64, [16], 10, seed=0), digits, cfgs[0])
    assert hists[0].step == ref.step
    np.testing.assert_allclose(hists[0].loss, ref.loss, rtol=1e-4)


def test_a_stopped_member_keeps_its_weights_while_the_others_train(digits):
    # Adam and momentum move every row of a stacked tensor, also those of stopped members
    for optimizer, lr in (("adam", 0.01), ("momentum", 0.1)):
        cfgs = [TrainConfig(optimizer=optimizer, lr=lr, epochs=4, batch_size=64, seed=0,
                            stop_at_train_acc=target) for target in (0.5, None)]
        ens = MLPEnsemble([models.MLP(64, [16], 10, seed=s) for s in (0, 1)])
        fast, slow = train(ens, digits, cfgs)
        assert "reached train accuracy 0.5" in fast.message and slow.epoch[-1] == 4
        alone = models.MLP(64, [16], 10, seed=0)
        ref = train(alone, digits, cfgs[0])
        assert ref.step == fast.step
        for p, q in zip(ens.member(0).parameters(), alone.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-4)


def test_forward_accepts_shared_or_per_member_inputs_and_a_subset_of_members(digits):
    ens = MLPEnsemble([models.MLP(64, [8], 10, seed=s) for s in range(3)])
    X = torch.as_tensor(digits.X_train[:5])
    shared = ens(X)
    per_member = ens(X.expand(3, -1, -1))
    assert shared.shape == (3, 5, 10)
    torch.testing.assert_close(shared, per_member)
    torch.testing.assert_close(ens(X, members=[2, 0]), shared[[2, 0]])
    out, pres, posts = ens.forward_hidden(X)
    assert len(pres) == len(posts) == 1 and pres[0].shape == (3, 5, 8)
    with torch.no_grad():
        torch.testing.assert_close(ens.member(1)(X), shared[1])
    with pytest.raises(IndexError):
        ens.member(3)


def test_early_stop_divergence_and_no_test_set(digits):
    nets = [models.MLP(64, [16], 10, seed=0), models.MLP(64, [16], 10, seed=0),
            models.MLP(64, [16], 10, seed=1)]
    cfgs = [TrainConfig(lr=0.5, epochs=6, batch_size=64, stop_at_train_acc=0.9, seed=0),
            TrainConfig(lr=1e6, epochs=6, batch_size=64, stop_at_train_acc=0.9, seed=0),
            TrainConfig(lr=1e-5, epochs=6, batch_size=64, stop_at_train_acc=0.9, seed=1)]
    hists = train(MLPEnsemble(nets), digits, cfgs, test=False)
    fast, blown, slow = hists
    assert "reached" in fast.message and fast.train_acc[-1] >= 0.9 and fast.epoch[-1] < 6
    assert blown.diverged and "diverged" in blown.message
    assert slow.epoch[-1] == 6 and "finished" in slow.message
    assert all(math.isnan(v) for v in fast.test_acc + fast.test_loss)
    assert compare.epochs_to_target(fast, 0.9) == fast.epoch[-1]
    assert compare.epochs_to_target(slow, 0.9) == math.inf


def test_divergence_at_a_record_or_at_a_step(digits):
    net = models.MLP(64, [16], 10, seed=0, init_scale=1e30)      # infinite loss at once
    cfg = TrainConfig(lr=0.1, steps=1, batch_size=8, record_every=1)
    h = train(MLPEnsemble([net]), digits, [cfg])[0]
    assert h.diverged and h.step == [0] and h.message.startswith("diverged at step 0")
    cfg = TrainConfig(lr=1e8, steps=50, batch_size=8, record_every=50)  # blows up mid-run
    h = train(MLPEnsemble([models.MLP(64, [16], 10)]), digits, [cfg])[0]
    assert h.diverged and h.step == [0] and "diverged at step" in h.message


def test_full_batch_ensemble_shares_one_config_and_matches_separate_runs():
    ds = data.classification_2d("ring", n=120, seed=1)
    cfg = TrainConfig(optimizer="adam", lr=0.03, steps=40, batch_size=None, weight_decay=1e-3,
                      diagnostics=False, record_every=20)
    ens = MLPEnsemble([models.MLP(2, [4, 3], 2, "relu", seed=s) for s in (2, 5)])
    hists = train(ens, ds, cfg)                   # one config for every member
    for k, s in enumerate((2, 5)):
        ref = train(models.MLP(2, [4, 3], 2, "relu", seed=s), ds, cfg)
        assert hists[k].step == ref.step == [0, 20, 40] and hists[k].epoch[-1] == 40.0
        np.testing.assert_allclose(hists[k].loss, ref.loss, atol=1e-5)


def test_stepping_an_ensemble_in_pieces_is_the_same_run(digits):
    def setup():
        ens = MLPEnsemble([models.MLP(64, [8], 10, seed=s) for s in (0, 1)])
        cfgs = [TrainConfig(optimizer="momentum", lr=lr, epochs=2, batch_size=100, seed=s,
                            record_every=4) for lr, s in ((0.05, 0), (0.1, 1))]
        return ens, cfgs

    ens, cfgs = setup()
    whole = train(ens, digits, cfgs)
    ens2, cfgs2 = setup()
    seen = []
    trainer = Trainer(ens2, digits, cfgs2, on_record=lambda m, hs: seen.append(len(hs)))
    while not trainer.finished:
        trainer.step(3)
    assert all(_same_history(a, b) for a, b in zip(whole, trainer.histories))
    assert all(torch.equal(p, q) for p, q in zip(ens.parameters(), ens2.parameters()))
    assert seen == [2] * len(whole[0].step)
    with pytest.raises(TypeError, match="one history per member"):
        trainer.history


def test_best_by_median_picks_the_fastest_setting():
    best, med = compare.best_by_median({0.1: [5, 6, 100], 0.3: [3, 4, math.inf],
                                         1.0: [math.inf] * 3})
    assert best == 0.3 and med == 4
    assert compare.best_by_median({1: [2.0], 2: [2.0]}) == (1, 2.0)
    with pytest.raises(ValueError):
        compare.best_by_median({})


def test_ensemble_rejects_what_it_cannot_batch(digits):
    with pytest.raises(ValueError, match="at least one"):
        MLPEnsemble([])
    with pytest.raises(TypeError):
        MLPEnsemble([torch.nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="batch norm"):
        MLPEnsemble([models.MLP(4, [4], 2, batchnorm="after")])
    with pytest.raises(ValueError, match="element-wise activation"):
        MLPEnsemble([models.MLP(4, [4], 2, activation="maxout")])
    with pytest.raises(ValueError, match="same widths"):
        MLPEnsemble([models.MLP(4, [4], 2), models.MLP(4, [5], 2)])
    ens = MLPEnsemble([models.MLP(64, [4], 10)])
    with pytest.raises(ValueError, match="one TrainConfig per member: 1 members, 0 configs"):
        train(ens, digits, [])
    with pytest.raises(TypeError, match="TrainConfig objects, got str"):
        train(ens, digits, ["not a config"])
    with pytest.raises(TypeError, match="one TrainConfig per member, got dict"):
        train(ens, digits, {"lr": 0.1})
    with pytest.raises(ValueError, match="optimizer replaces a single model's"):
        Trainer(ens, digits, TrainConfig(epochs=1),
                optimizer=torch.optim.SGD(ens.parameters(), lr=0.1))
    ens2 = MLPEnsemble([models.MLP(64, [4], 10), models.MLP(64, [4], 10)])
    with pytest.raises(ValueError, match="batch_size must be the same for all members, got 8 "
                                         "and 16"):
        train(ens2, digits, [TrainConfig(epochs=1, batch_size=8),
                             TrainConfig(epochs=1, batch_size=16)])
    with pytest.raises(ValueError, match="clip must be the same for all members"):
        train(ens2, digits, [TrainConfig(epochs=1, clip=1.0),
                             TrainConfig(epochs=1, clip=2.0)])
    with pytest.raises(TypeError, match="cfg must be a TrainConfig for a single model"):
        train(models.MLP(64, [4], 10), digits, [TrainConfig(epochs=1)])


def test_epochs_to_target_interpolates_between_records():
    h = History(config={}, epoch=[0.0, 1.0, 2.0, 3.0], train_acc=[0.1, 0.5, 0.9, 1.0])
    assert compare.epochs_to_target(h, 0.9) == 2.0
    assert compare.epochs_to_target(h, 0.7) == 2.0
    assert compare.epochs_to_target(h, 0.7, interpolate=True) == pytest.approx(1.5)
    assert compare.epochs_to_target(h, 0.05, interpolate=True) == 0.0
    assert compare.epochs_to_target(h, 1.5, interpolate=True) == math.inf
