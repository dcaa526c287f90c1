import math

import numpy as np
import pytest
import torch

from rectified import data, models
from rectified.train import History, TrainConfig, evaluate, train, as_tensors


def _xor():
    return data.classification_2d("xor", n=200, noise=0.05, seed=0)


def test_same_seed_gives_identical_history():
    ds = _xor()
    cfg = TrainConfig(optimizer="momentum", lr=0.05, epochs=5, batch_size=16, seed=3)
    h1 = train(models.MLP(2, [8, 8], 2, seed=1), ds, cfg)
    h2 = train(models.MLP(2, [8, 8], 2, seed=1), ds, cfg)
    for key, v in h1.as_arrays().items():
        np.testing.assert_array_equal(v, h2.as_arrays()[key], err_msg=key)
    h3 = train(models.MLP(2, [8, 8], 2, seed=1), ds,
               TrainConfig(optimizer="momentum", lr=0.05, epochs=5, batch_size=16, seed=4))
    assert h3.loss != h1.loss


def test_small_net_learns_xor():
    ds = _xor()
    hist = train(models.MLP(2, [16], 2, seed=0), ds,
                 TrainConfig(optimizer="adam", lr=0.02, epochs=60, batch_size=32))
    assert hist.train_acc[-1] >= 0.97 and hist.test_acc[-1] >= 0.95
    assert hist.loss[-1] < hist.loss[0] / 5
    assert not hist.diverged and "finished" in hist.message


def test_linear_net_cannot_learn_xor():
    hist = train(models.MLP(2, [16, 16], 2, activation="linear", seed=0), _xor(),
                 TrainConfig(optimizer="adam", lr=0.02, epochs=60, batch_size=32))
    assert hist.train_acc[-1] < 0.7


def test_history_records_per_layer_diagnostics_each_epoch():
    hist = train(models.MLP(2, [8, 6], 2, seed=0), _xor(),
                 TrainConfig(lr=0.1, epochs=3, batch_size=50))
    assert hist.epoch == [0.0, 1.0, 2.0, 3.0] and hist.step == [0, 3, 6, 9]
    assert all(len(g) == 3 for g in hist.grad_norm)          # 2 hidden + output layer
    assert all(len(r) == 2 and len(d) == 2 for r, d in zip(hist.act_rate, hist.dead_fraction))
    assert all(0 <= r <= 1 for rates in hist.act_rate for r in rates)
    assert hist.first_epoch_reaching("train_acc", 2.0) is None
    assert hist.first_epoch_reaching("loss", 10.0, above=False) == 0.0


def test_steps_record_every_and_early_stop():
    hist = train(models.MLP(2, [16], 2, seed=0), _xor(),
                 TrainConfig(optimizer="adam", lr=0.05, steps=400, batch_size=32,
                             record_every=10, stop_at_train_acc=0.9, diagnostics=False))
    assert hist.train_acc[-1] >= 0.9 and hist.step[-1] < 400 and hist.step[-1] % 10 == 0
    assert hist.grad_norm == [] and "reached" in hist.message


def test_divergence_is_recorded_not_raised():
    ds = data.regression_1d("sine", n=100, seed=0)
    hist = train(models.MLP(1, [64, 64], 1, init_scale=3.0, seed=0), ds,
                 TrainConfig(lr=10.0, epochs=50, batch_size=None))
    assert hist.diverged and "diverged" in hist.message
    assert len(hist.loss) < 52


def test_weight_decay_spares_biases_and_prelu_unless_asked():
    from rectified.train import _param_groups

    net = models.MLP(2, [4], 2, activation="prelu", batchnorm="before", seed=0)
    for decay_prelu in (False, True):
        decay, no_decay = _param_groups(net, TrainConfig(epochs=1, weight_decay=0.1,
                                                         decay_prelu=decay_prelu))
        decayed = {id(p) for p in decay["params"]}
        assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
        assert {id(net.linears[0].weight), id(net.out.weight)} <= decayed
        assert id(net.linears[0].bias) not in decayed and id(net.norms[0].weight) not in decayed
        assert (id(net.acts[0].weight) in decayed) == decay_prelu


def test_gradient_clipping_bounds_the_step():
    ds = data.regression_1d("sine", n=64, seed=0)
    net = models.MLP(1, [32], 1, init_scale=4.0, seed=0)
    before = [p.detach().clone() for p in net.parameters()]
    train(net, ds, TrainConfig(lr=1.0, steps=1, batch_size=None, clip=0.01, diagnostics=False))
    step = torch.sqrt(sum(((p.detach() - q) ** 2).sum() for p, q in zip(net.parameters(), before)))
    assert float(step) <= 0.01 + 1e-6


def test_activation_l1_penalty_makes_activations_sparser():
    ds = data.digits(seed=0)
    rates = []
    for l1 in (0.0, 0.5):
        h = train(models.MLP(64, [64], 10, seed=0), ds,
                  TrainConfig(optimizer="adam", lr=0.01, epochs=3, activation_l1=l1))
        rates.append(h.act_rate[-1][0])
    assert rates[1] < rates[0] - 0.1


def test_rnn_trains_on_adding_problem_shapes():
    X, y = data.adding_problem(n=64, length=10, seed=0)
    ds = data.split(X, y, 0.25, seed=0)
    rnn = models.ElmanRNN(2, 16, 1, activation="tanh", seed=0)
    hist = train(rnn, ds, TrainConfig(optimizer="adam", lr=0.01, epochs=3, clip=1.0))
    assert len(hist.loss) == 4 and math.isnan(hist.train_acc[0]) and hist.grad_norm == []


def test_evaluate_and_as_tensors():
    X, y = as_tensors(np.zeros((4, 2)), np.array([0, 1, 1, 0]))
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    net = models.MLP(2, [3], 2)
    loss, acc = evaluate(net, X, y)
    assert loss == pytest.approx(math.log(2), abs=0.5) and 0 <= acc <= 1
    assert isinstance(History(config={}).as_arrays(), dict)
