"""Recurrent nets trained as one ensemble (models.ElmanEnsemble,
recurrence.LSTMEnsemble), per-member clipping and Adam learning rates in the
engine, and the RNN chapter's adding-problem comparison
(recurrence.compute_adding)."""

import math

import numpy as np
import pytest
import torch

from rectified import data, models, recurrence, train
from rectified.train import TrainConfig


@pytest.fixture(scope="module")
def adding():
    return data.adding_split(n=120, length=12, seed=0)


def _elman(seed, init="identity", activation="relu"):
    return models.ElmanRNN(2, 6, 1, activation=activation,
                           recurrent_init=init, seed=seed)


def _lstm(seed):
    return recurrence.LSTMNet(2, 6, 1, seed=seed)


@pytest.mark.parametrize("make, stack", [
    (_elman, models.ElmanEnsemble), (_lstm, recurrence.LSTMEnsemble)])
def test_each_member_computes_what_its_net_computes(make, stack):
    nets = [make(s) for s in range(3)]
    ens = stack(nets)
    x = torch.rand(4, 9, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = ens(x)
        assert out.shape == (3, 4, 1) and len(ens) == 3
        for k, net in enumerate(nets):
            torch.testing.assert_close(out[k], net(x))
            torch.testing.assert_close(ens.member(k)(x), net(x))
        # per-member inputs and a subset of members
        torch.testing.assert_close(ens(x.expand(3, -1, -1, -1)), out)
        torch.testing.assert_close(ens(x, members=[2, 0]), out[[2, 0]])
    with pytest.raises(IndexError):
        ens.member(3)
    with pytest.raises(ValueError, match="shape"):
        ens(torch.zeros(4, 2))


@pytest.mark.parametrize("make, stack", [
    (_elman, models.ElmanEnsemble), (_lstm, recurrence.LSTMEnsemble)])
def test_members_train_as_if_alone_with_clipping_and_their_own_adam_rate(
        adding, make, stack):
    cfgs = [TrainConfig(optimizer="adam", lr=lr, clip=0.5, steps=12,
                        batch_size=16, record_every=4, seed=s)
            for lr, s in ((0.02, 0), (0.005, 1))]
    hists = train.train(stack([make(0), make(1)]), adding, cfgs)
    for k, cfg in enumerate(cfgs):
        ref = train.train(make(k), adding, cfg)
        assert hists[k].step == ref.step == [0, 4, 8, 12]
        np.testing.assert_allclose(hists[k].loss, ref.loss, rtol=1e-4)
        np.testing.assert_allclose(hists[k].test_loss, ref.test_loss,
                                   rtol=1e-4)


def test_plain_adam_is_torch_adam_and_takes_one_rate_per_member():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(2, 3, 4, generator=gen)
    a, b = w.clone().requires_grad_(), w.clone().requires_grad_()
    ours = train.PlainAdam([a], lr=torch.tensor([0.1, 0.01]).view(2, 1, 1),
                           weight_decay=0.1)
    ref0 = torch.optim.Adam([b], lr=0.1, weight_decay=0.1)
    for _ in range(3):
        for p, opt in ((a, ours), (b, ref0)):
            opt.zero_grad()
            (p ** 3).sum().backward()
            opt.step()
    torch.testing.assert_close(a[0], b[0])
    # member 1 moved by a tenth as much at its first steps
    assert float((a[1] - w[1]).detach().abs().max()) < 0.05


def test_clip_members_clips_each_member_as_clip_grad_norm_would():
    gen = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.zeros(3, 2, 2))
    q = torch.nn.Parameter(torch.zeros(3, 1, 2))
    scale = torch.tensor([10.0, 0.1, 3.0]).view(3, 1, 1)
    p.grad = torch.randn(3, 2, 2, generator=gen) * scale
    q.grad = torch.randn(3, 1, 2, generator=gen) * scale
    expected = []
    for k in range(3):
        pk = torch.nn.Parameter(torch.zeros(2, 2))
        qk = torch.nn.Parameter(torch.zeros(1, 2))
        pk.grad, qk.grad = p.grad[k].clone(), q.grad[k].clone()
        torch.nn.utils.clip_grad_norm_([pk, qk], 1.0)
        expected.append((pk.grad, qk.grad))
    train.clip_members_([p, q], 1.0)
    for k, (gp, gq) in enumerate(expected):
        torch.testing.assert_close(p.grad[k], gp)
        torch.testing.assert_close(q.grad[k], gq)
    norms = torch.sqrt((p.grad ** 2).sum((1, 2)) + (q.grad ** 2).sum((1, 2)))
    assert float(norms.max()) <= 1.0 + 1e-5 and float(norms.min()) < 0.9
    train.clip_members_([torch.nn.Parameter(torch.zeros(2, 1, 1))], 1.0)


def test_ensembles_reject_what_they_cannot_stack():
    for stack, make, other in ((models.ElmanEnsemble, _elman, _lstm),
                               (recurrence.LSTMEnsemble, _lstm, _elman)):
        with pytest.raises(ValueError, match="at least one"):
            stack([])
        with pytest.raises(TypeError, match="members must be"):
            stack([other(0)])
    with pytest.raises(ValueError, match="same sizes"):
        models.ElmanEnsemble([_elman(0), _elman(0, activation="tanh")])
    with pytest.raises(ValueError, match="same sizes"):
        recurrence.LSTMEnsemble([_lstm(0), recurrence.LSTMNet(2, 5, 1)])


def test_adding_split_and_arms():
    ds = data.adding_split(n=60, length=10, seed=3)
    assert ds.X_train.shape == (50, 10, 2) and ds.X_test.shape == (10, 10, 2)
    again = data.adding_split(n=60, length=10, seed=3)
    np.testing.assert_array_equal(ds.X_test, again.X_test)
    np.testing.assert_allclose(
        ds.y_test[:, 0], (ds.X_test[..., 0] * ds.X_test[..., 1]).sum(1),
        rtol=1e-6)
    irnn = recurrence.adding_net("IRNN", hidden=5)
    torch.testing.assert_close(irnn.W_rec.detach(), torch.eye(5))
    assert recurrence.adding_net("tanh").activation == "tanh"
    lstm = recurrence.adding_net("LSTM", hidden=4)
    assert float(lstm.lstm.bias_ih_l0[4:8].detach().min()) > 0.4   # forget bias 1
    with pytest.raises(ValueError, match="arm must be one of"):
        recurrence.adding_net("GRU")


def test_compute_adding_tunes_the_rate_and_reports_each_seed():
    state = recurrence.AddingState(arm="IRNN", length=10, hidden=4, steps=6,
                                   batch_size=8, lrs=(0.01, 0.02),
                                   seeds=(0, 1), n_sequences=48,
                                   record_every=3)
    r = recurrence.compute_adding(state)
    assert r.lr in r.choice.grid and r.lr == r.choice.best
    assert not r.choice.at_edge or len(r.choice.grid) == 6
    assert len(r.choice.grid) >= 2 and set(r.runs) == set(r.choice.grid)
    assert r.train_mse.shape == r.test_mse.shape == (2,)
    np.testing.assert_allclose(
        r.train_mse, [h.loss[-1] for h in r.runs[r.lr]])
    np.testing.assert_allclose(r.choice.best_median, np.median(r.train_mse))
    assert [h.step for h in r.histories] == [[0, 3, 6]] * 2
    # the nets are the trained members: their test MSE is the recorded one
    ds = data.adding_split(48, 10, seed=0)
    X, y = torch.as_tensor(ds.X_test), torch.as_tensor(ds.y_test)
    with torch.no_grad():
        mse = [float(((net(X) - y) ** 2).mean()) for net in r.nets]
    np.testing.assert_allclose(mse, r.test_mse, rtol=1e-4)
    lstm = recurrence.compute_adding(
        recurrence.AddingState(arm="LSTM", length=6, hidden=3, steps=2,
                               batch_size=8, lrs=(0.01,), seeds=(0,),
                               n_sequences=24, record_every=2))
    assert isinstance(lstm.nets[0], recurrence.LSTMNet)
    assert math.isfinite(lstm.test_mse[0])
    with pytest.raises(TypeError, match="AddingState"):
        recurrence.compute_adding("IRNN")
    with pytest.raises(ValueError, match="must not be empty"):
        recurrence.compute_adding(recurrence.AddingState(seeds=()))


def test_draw_adding_draws_every_seed_and_arm():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rectified import plots

    results = [recurrence.compute_adding(recurrence.AddingState(
        arm=arm, length=6, hidden=3, steps=4, batch_size=8, lrs=(0.01,),
        seeds=(0, 1), n_sequences=24, record_every=2))
        for arm in ("tanh", "IRNN")]
    fig = plots.draw_adding(results, colors=["C0", "C3"],
                            baseline=data.ADDING_BASELINE_MSE)
    left, right = fig.axes
    # 2 arms × (2 seeds + median) curves, and the baseline
    assert len(left.get_lines()) == 2 * 3 + 1
    assert [t.get_text() for t in right.get_xticklabels()] == ["tanh", "IRNN"]
    plt.close(fig)
