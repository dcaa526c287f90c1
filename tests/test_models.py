import numpy as np
import pytest
import torch

from rectified import models


def test_same_seed_same_weights_different_seed_different():
    a = models.MLP(4, [8, 8], 3, seed=1)
    b = models.MLP(4, [8, 8], 3, seed=1)
    c = models.MLP(4, [8, 8], 3, seed=2)
    for p, q, r in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(a.linears[0].weight, c.linears[0].weight)


@pytest.mark.parametrize("init,var", [("he", 2 / 400), ("lecun", 1 / 400),
                                      ("xavier", 2 / (400 + 300)), ("standard", 1 / (3 * 400))])
def test_init_variances(init, var):
    net = models.MLP(400, [300], 1, init=init, seed=0)
    w = net.linears[0].weight.detach()
    assert abs(float(w.var()) / var - 1) < 0.05
    assert float(net.linears[0].bias.detach().abs().max()) == 0.0


def test_standard_and_xavier_are_bounded_uniform():
    net = models.MLP(100, [50], 1, init="standard")
    assert float(net.linears[0].weight.detach().abs().max()) <= 0.1
    net = models.MLP(100, [50], 1, init="xavier")
    assert float(net.linears[0].weight.detach().abs().max()) <= np.sqrt(6 / 150)


def test_asymmetric_init_gives_each_unit_one_positive_entry():
    net = models.MLP(3, [2000], 1, init="asymmetric", seed=0)
    full = torch.cat([net.linears[0].weight, net.linears[0].bias[:, None]], 1).detach()
    # the Beta(2, 1) entry is positive; its mean is 2/3
    assert float(full.max(1).values.min()) > 0
    # the other entries are N(0, 0.6007²/fan_in) (Lu et al. 2019):
    # squared length ≈ 0.861
    mean_sq_norm = float((full ** 2).sum(1).mean())
    assert abs(mean_sq_norm - (0.5 + models.RAI_SIGMA ** 2)) < 0.06


@pytest.mark.parametrize("init", models.INITS)
def test_draw_init_is_init_linear_for_one_layer_and_stacks_layers(init):
    layer = torch.nn.Linear(6, 4)
    models.init_linear_(layer, init, torch.Generator().manual_seed(5), bias_init=0.2)
    W, b = models.draw_init(init, 4, 6, torch.Generator().manual_seed(5), bias_init=0.2)
    assert torch.equal(W, layer.weight.detach()) and torch.equal(b, layer.bias.detach())
    W, b = models.draw_init(init, 4, 6, torch.Generator().manual_seed(5), batch=(3, 2))
    assert W.shape == (3, 2, 4, 6) and b.shape == (3, 2, 4)
    assert not torch.equal(W[0, 0], W[1, 0])          # independent layers
    with pytest.raises(ValueError, match="known inits"):
        models.draw_init("glorot", 4, 6, torch.Generator())


def test_bias_init_and_init_scale():
    net = models.MLP(10, [20], 2, bias_init=0.1, init_scale=3.0, seed=0)
    assert torch.all(net.linears[0].bias == 0.1)
    assert torch.all(net.out.bias == 0.0)
    ref = models.MLP(10, [20], 2, seed=0)
    torch.testing.assert_close(net.linears[0].weight, 3 * ref.linears[0].weight)


def test_forward_hidden_shapes_and_batchnorm_positions():
    x = torch.randn(16, 5)
    for bn in (None, "before", "after"):
        net = models.MLP(5, [7, 6], 3, batchnorm=bn)
        out, pres, posts = net.forward_hidden(x)
        assert out.shape == (16, 3) and [p.shape[1] for p in pres] == [7, 6]
        if bn == "before":
            net.train()
            _, pres, _ = net.forward_hidden(x)
            torch.testing.assert_close(pres[0].mean(0), torch.zeros(7), atol=1e-5, rtol=0)


def test_prelu_mlp_has_one_learnable_slope_per_unit():
    net = models.MLP(4, [6, 5], 2, activation="prelu", alpha=0.25)
    assert [a.weight.shape[0] for a in net.acts] == [6, 5]
    assert float(net.acts[0].weight[0].detach()) == 0.25


def test_maxout_layer_and_maxout_mlp():
    layer = models.Maxout(3, 4, k=3)
    x = torch.randn(5, 3)
    z = layer.linear(x).reshape(5, 4, 3)
    torch.testing.assert_close(layer(x), z.max(-1).values)
    net = models.MLP(3, [4], 2, activation="maxout", k=3)
    assert net.linears[0].out_features == 12
    out, pres, posts = net.forward_hidden(x)
    assert pres[0].shape == (5, 12) and posts[0].shape == (5, 4)


def test_dropout_only_in_training():
    net = models.MLP(4, [200], 2, dropout=0.5)
    x = torch.randn(3, 4)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    net.train()
    torch.manual_seed(0)
    _, _, posts = net.forward_hidden(x)
    assert float((posts[0] == 0).float().mean()) > 0.4


def test_from_weights_and_relu_interpolant():
    knots = np.array([-2.0, -1.0, 0.5, 2.0])
    values = np.array([1.0, -1.0, 0.0, 3.0])
    net = models.relu_interpolant(knots, values)
    with torch.no_grad():
        y = net(torch.tensor(knots[:, None], dtype=torch.float32)).numpy().ravel()
        right = net(torch.tensor([[3.0]])).item()
        left = net(torch.tensor([[-5.0]])).item()
    np.testing.assert_allclose(y, values, atol=1e-5)
    assert right == pytest.approx(3.0 + 2.0 * 1.0, abs=1e-5)   # last slope continues
    assert left == pytest.approx(1.0, abs=1e-6)                  # constant before first knot
    assert net.linears[0].out_features == 3


def test_small_cnn_shapes():
    net = models.SmallCNN("relu", channels=(4, 6))
    x = torch.randn(2, 1, 8, 8)
    out, pres, _ = net.forward_hidden(x)
    assert out.shape == (2, 10) and pres[1].shape == (2, 6, 8, 8)
    assert len(net.weight_layers) == 3


@pytest.mark.parametrize("init", ["gaussian", "identity", "orthogonal"])
def test_rnn_recurrent_inits(init):
    rnn = models.ElmanRNN(2, 64, 1, activation="relu", recurrent_init=init, scale=0.9, seed=0)
    W = rnn.W_rec.detach()
    if init == "identity":
        torch.testing.assert_close(W, 0.9 * torch.eye(64))
    if init == "orthogonal":
        torch.testing.assert_close(W @ W.T, 0.81 * torch.eye(64), atol=1e-5, rtol=0)
    out, states = rnn.forward_states(torch.randn(3, 7, 2))
    assert out.shape == (3, 1) and len(states) == 7
    assert len(rnn.weight_layers) == 3


def test_eval_mode_restores_the_mode_even_when_the_block_raises():
    net = models.MLP(3, [4], 2, dropout=0.5)
    for mode in (True, False):
        net.train(mode)
        with models.eval_mode(net):
            assert not net.training and not net.dropout.training
        assert net.training is mode
    net.train()
    with pytest.raises(RuntimeError), models.eval_mode(net):
        raise RuntimeError("inside")
    assert net.training


def test_check_positive_int_accepts_numpy_ints_and_rejects_bools():
    models.check_positive_int("n", np.int64(3))
    for bad in (0, -1, 2.0, True, "3"):
        with pytest.raises(ValueError, match="n must be a positive int"):
            models.check_positive_int("n", bad)
    with pytest.raises(ValueError, match=r"k must be a positive int \(pieces per unit\)"):
        models.check_positive_int("k", 0, "pieces per unit")
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        models.MLP(True, [2], 2)


def test_resolve_device():
    assert models.resolve_device("cpu").type == "cpu"
    assert models.resolve_device(torch.device("cpu")).type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert models.resolve_device("auto").type == expected
