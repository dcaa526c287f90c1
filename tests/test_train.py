import math

import numpy as np
import pytest
import torch

from rectified import data, models
from rectified.train import (History, PlainSGD, TrainConfig, Trainer, as_tensors, evaluate,
                             loss_function, train)


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
    net = models.MLP(2, [4], 2, activation="prelu", batchnorm="before", seed=0)
    for decay_prelu in (False, True):
        trainer = Trainer(net, _xor(), TrainConfig(epochs=1, weight_decay=0.1,
                                                   decay_prelu=decay_prelu))
        decay, no_decay = trainer.optimizer.param_groups
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


def test_stepping_in_pieces_is_the_same_run_as_train():
    ds = _xor()
    cfg = TrainConfig(optimizer="momentum", lr=0.05, epochs=4, batch_size=48, seed=2,
                      record_every=3)
    whole = train(models.MLP(2, [8], 2, seed=0), ds, cfg)
    net = models.MLP(2, [8], 2, seed=0)
    trainer = Trainer(net, ds, cfg)
    assert trainer.step_count == 0 and trainer.history.step == [0] and net.training
    trainer.step(5).step(0).step(2)
    assert trainer.step_count == 7 and trainer.history.step == [0, 3, 6]
    trainer.run()
    assert trainer.finished and not net.training and trainer.step(3).step_count == 16
    for key, v in whole.as_arrays().items():
        np.testing.assert_array_equal(v, trainer.history.as_arrays()[key], err_msg=key)
    assert whole.message == trainer.history.message == "finished 16 steps (4 epochs)"
    extra = Trainer(models.MLP(2, [8], 2, seed=0), ds, cfg).step(2).record()
    assert extra.history.step == [0, 2]           # a record when asked, between scheduled ones
    with pytest.raises(ValueError, match="n must be an int >= 0"):
        trainer.step(-1)


def test_a_target_already_met_stops_at_the_first_record_and_test_can_be_skipped():
    hist = train(models.MLP(2, [8], 2, seed=0), _xor(),
                 TrainConfig(epochs=3, stop_at_train_acc=0.0), test=False)
    assert hist.step == [0] and hist.message == "reached train accuracy 0.0 at step 0"
    assert math.isnan(hist.test_loss[0]) and math.isnan(hist.test_acc[0])


def test_plain_sgd_rounds_the_product_before_subtracting():
    p = torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    opt = PlainSGD([p], lr=torch.tensor([[0.1], [0.5]]), momentum=0.5, weight_decay=0.1)
    # g = 1 + 0.1·W, v = 0.5·v + g, W ← W − lr·v with lr 0.1 for row 0 and 0.5 for row 1
    for expected in ([[0.89, 1.88], [2.35, 3.3]], [[0.7261, 1.7012], [1.4075, 2.285]]):
        p.grad = torch.ones_like(p)
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-5)
    p.grad = None
    before = p.detach().clone()
    opt.step()                                    # parameters without a gradient stay put
    assert torch.equal(p.detach(), before)
    q, g = torch.randn(1000), torch.randn(1000)
    r = torch.nn.Parameter(q.clone())
    r.grad = g
    PlainSGD([r], lr=0.1).step()
    assert torch.equal(r.detach(), q - 0.1 * g)


def test_a_given_optimizer_replaces_the_configured_one():
    net = models.MLP(2, [4], 2, seed=0)
    opt = PlainSGD(net.parameters(), lr=0.2)
    trainer = Trainer(net, _xor(), TrainConfig(lr=0.2, steps=3), optimizer=opt)
    assert trainer.optimizer is opt and trainer.run().step_count == 3


def test_loss_function_names_the_two_losses():
    assert loss_function("cross_entropy") is torch.nn.functional.cross_entropy
    assert loss_function("mse") is torch.nn.functional.mse_loss
    with pytest.raises(ValueError, match="'cross_entropy' or 'mse', got 'hinge'"):
        loss_function("hinge")
