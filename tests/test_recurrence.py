import numpy as np
import pytest
import torch
from scipy.special import digamma

from rectified import models, plots, recurrence


def _rnn(activation, scale, n=16, init="orthogonal", input_scale=1.0):
    return models.ElmanRNN(2, n, 1, activation=activation, recurrent_init=init, scale=scale,
                           input_scale=input_scale, seed=0)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_trajectory_jacobian_matches_autograd(activation):
    net = _rnn(activation, 1.2)
    x = torch.randn(1, 6, 2, generator=torch.Generator().manual_seed(1))
    h0 = torch.randn(1, 16, generator=torch.Generator().manual_seed(2)) * 0.3
    tr = recurrence.trajectory(net, x, h0)
    jac = torch.autograd.functional.jacobian(
        lambda h: net.forward_states(x, h[None].float())[1][-1][0], h0[0])
    assert tr.jacobian_norm[0, -1] == pytest.approx(float(torch.linalg.matrix_norm(jac, 2)),
                                                    rel=1e-4)
    assert tr.states.shape == (1, 6, 16) and tr.length == 6
    last = net.forward_states(x, h0)[1][-1].detach()
    np.testing.assert_allclose(tr.state_norm[0, -1], float(last.norm()), rtol=1e-5)


def test_trajectory_obeys_the_pascanu_bound_and_tanh_stays_bounded():
    x = torch.randn(3, 40, 2, generator=torch.Generator().manual_seed(0))
    for act in ("tanh", "relu"):
        for s in (0.7, 1.3):
            tr = recurrence.trajectory(_rnn(act, s), x)
            t = np.arange(1, 41)
            assert np.all(tr.jacobian_norm <= s ** t * (1 + 1e-6))
            if act == "tanh":
                assert tr.state_norm.max() <= np.sqrt(16)


def test_trajectory_every_leaves_nans_and_keeps_the_last_step():
    x = torch.zeros(2, 10, 2)
    tr = recurrence.trajectory(_rnn("relu", 1.0, init="identity"), x,
                               torch.ones(2, 16), every=4)
    assert np.isnan(tr.jacobian_norm[:, 0]).all()
    assert np.isfinite(tr.jacobian_norm[:, [3, 7, 9]]).all()
    # identity recurrence, zero input, positive state: every unit stays active, J = I
    np.testing.assert_allclose(tr.jacobian_norm[:, -1], 1.0)
    np.testing.assert_allclose(tr.derivatives, 1.0)


def test_driven_trajectory_uses_a_scaled_orthogonal_matrix():
    tr = recurrence.driven_trajectory("relu", 1.3, length=12, hidden=8, batch=3, every=12)
    np.testing.assert_allclose(np.linalg.svd(tr.W, compute_uv=False), 1.3, rtol=1e-5)
    assert tr.states.shape == (3, 12, 8) and np.isfinite(tr.jacobian_norm[:, -1]).all()
    again = recurrence.driven_trajectory("relu", 1.3, length=12, hidden=8, batch=3, every=12)
    np.testing.assert_array_equal(again.states, tr.states)


def test_trajectory_rejects_bad_input():
    net = _rnn("tanh", 1.0)
    with pytest.raises(TypeError, match="ElmanRNN"):
        recurrence.trajectory(torch.nn.Linear(2, 2), torch.zeros(1, 3, 2))
    with pytest.raises(ValueError, match="batch, time, input"):
        recurrence.trajectory(net, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="h0 must have shape"):
        recurrence.trajectory(net, np.zeros((2, 3, 2)), torch.zeros(3, 16))
    with pytest.raises(ValueError, match="every"):
        recurrence.trajectory(net, np.zeros((2, 3, 2)), every=0)


def test_gaussian_matrix_and_products_grow_at_the_lyapunov_rate():
    rng = np.random.default_rng(0)
    W = recurrence.gaussian_matrix(200, 1.5, rng)
    assert np.mean(W ** 2) * 200 == pytest.approx(1.5 ** 2, rel=0.05)
    n, s, T = 32, 1.1, 200
    rates = [np.log(recurrence.power_and_product_norms(n, s, T, seed=k)[1][-1]) / T
             for k in range(5)]
    lyapunov = np.log(s) + 0.5 * (digamma(n / 2) + np.log(2 / n))
    assert np.mean(rates) == pytest.approx(lyapunov, abs=0.01)
    powers, products, W = recurrence.power_and_product_norms(8, 1.0, 3, seed=1)
    assert powers.shape == products.shape == (3,) and W.shape == (8, 8)


def test_power_norms_follow_the_spectral_radius():
    from rectified import diagnostics

    powers, _, W = recurrence.power_and_product_norms(16, 1.0, 400, seed=3)
    rate = (np.log(powers[-1]) - np.log(powers[199])) / 200
    assert rate == pytest.approx(np.log(diagnostics.spectral_radius(W)), abs=0.01)


@pytest.mark.parametrize("bad", [
    lambda: recurrence.gaussian_matrix(0, 1.0, np.random.default_rng(0)),
    lambda: recurrence.gaussian_matrix(4, -1.0, np.random.default_rng(0)),
    lambda: recurrence.power_and_product_norms(4, 1.0, 0),
    lambda: recurrence.LSTMNet(2, 0, 1),
])
def test_bad_arguments_raise_value_error(bad):
    with pytest.raises(ValueError):
        bad()


def test_lstm_net_forget_gates_and_bias():
    x = torch.randn(5, 7, 2, generator=torch.Generator().manual_seed(0))
    net = recurrence.LSTMNet(2, 8, 1, forget_bias=3.0, seed=0)
    assert net(x).shape == (5, 1)
    f = net.forget_gates(x)
    assert f.shape == (5, 7, 8)
    # checked against one manual LSTM step for the first time step (h_0 = c_0 = 0)
    cell = torch.nn.LSTMCell(2, 8)
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in net.lstm.state_dict().items()})
    gates = x[:, 0] @ cell.weight_ih.T + cell.bias_ih + cell.bias_hh
    torch.testing.assert_close(f[:, 0], torch.sigmoid(gates[:, 8:16]))
    assert float(f.mean()) > 0.9            # bias 3 → σ(3) ≈ 0.95
    same = recurrence.LSTMNet(2, 8, 1, forget_bias=3.0, seed=0)
    torch.testing.assert_close(same(x), net(x))


def test_compute_recurrence_reports_norms_and_their_bounds():
    r = recurrence.compute_recurrence(recurrence.RecurrenceState(activation="relu", scale=1.5,
                                                                 length=30, hidden=16))
    assert r.t.tolist() == list(range(1, 31)) and r.state_bound is None
    assert r.state_norm.shape == r.jacobian_norm.shape == r.jacobian_bound.shape == (30,)
    np.testing.assert_allclose(r.jacobian_bound, 1.5 ** r.t)
    # ‖D W‖ ≤ γ σ_max (W is float32: σ_max = 1.5 to about 1e-7)
    assert np.all(r.jacobian_norm <= r.jacobian_bound * (1 + 1e-6) ** r.t)
    assert r.final_state_norm == pytest.approx(r.state_norm[-1])
    assert r.final_jacobian_norm == pytest.approx(r.jacobian_norm[-1])
    tanh = recurrence.compute_recurrence(recurrence.RecurrenceState(scale=1.5, length=30,
                                                                    hidden=16))
    assert tanh.state_bound == pytest.approx(4.0)                    # √16
    assert np.all(tanh.state_norm <= tanh.state_bound)
    assert tanh.final_state_norm < r.final_state_norm               # ReLU's state grows


def test_compute_recurrence_rejects_bad_states():
    with pytest.raises(ValueError, match="activation"):
        recurrence.compute_recurrence(recurrence.RecurrenceState(activation="gelu"))
    with pytest.raises(ValueError, match="length"):
        recurrence.compute_recurrence(recurrence.RecurrenceState(length=0))
    with pytest.raises(ValueError, match="scale must be a finite number >= 0, got -1"):
        recurrence.compute_recurrence(recurrence.RecurrenceState(scale=-1.0))
    with pytest.raises(TypeError, match="RecurrenceState"):
        recurrence.compute_recurrence({"scale": 1.0})


def test_draw_recurrence_draws_two_panels():
    r = recurrence.compute_recurrence(recurrence.RecurrenceState(input_scale=0.0, length=10,
                                                                 hidden=8))
    fig = plots.draw_recurrence(r)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_legend() is not None            # tanh shows its √n bound
