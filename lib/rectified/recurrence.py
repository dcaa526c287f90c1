"""Recurrent dynamics: how the hidden state and its Jacobian evolve through time.

For an Elman RNN, h_t = f(a_t) with a_t = W_in x_t + W h_{t−1} + b, the chain rule gives

    ∂h_t/∂h_0 = D_t W · D_{t−1} W · … · D_1 W,      D_k = diag(f'(a_k)),

so ‖∂h_t/∂h_0‖₂ ≤ (γ ‖W‖₂)^t with γ = sup |f'| (Pascanu et al. 2013). This module runs
that product next to the forward pass, compares powers of one random matrix with products
of independent ones, and gives the LSTM that the chapter sets against the Elman RNN.

:func:`compute_recurrence` is the chapter's experiment (state in, norms out; drawn by
``plots.draw_recurrence``).

Chapter: why recurrent networks use tanh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch
from torch import nn

from .models import ElmanRNN, check_positive_int, generator, init_linear_, resolve_device

__all__ = ["Trajectory", "trajectory", "driven_trajectory", "gaussian_matrix",
           "power_and_product_norms", "LSTMNet", "RecurrenceState", "RecurrenceResult",
           "compute_recurrence"]


@dataclass(frozen=True)
class Trajectory:
    """One forward pass of an Elman RNN with its Jacobians; arrays have shape (batch, time)
    except ``states`` and ``derivatives`` (batch, time, hidden)."""

    states: np.ndarray        # h_1 … h_T
    derivatives: np.ndarray   # f'(a_1) … f'(a_T)
    state_norm: np.ndarray    # ‖h_t‖
    jacobian_norm: np.ndarray  # ‖∂h_t/∂h_0‖₂ (largest singular value)
    W: np.ndarray             # the recurrent matrix

    @property
    def length(self) -> int:
        return self.states.shape[1]


@torch.no_grad()
def trajectory(model: ElmanRNN, x, h0=None, every: int = 1) -> Trajectory:
    """Run ``model`` on x of shape (batch, time, input) from h0 (default zeros) and track
    ‖h_t‖ and ‖∂h_t/∂h_0‖₂ = ‖D_t W ⋯ D_1 W‖₂ in float64.

    f'(a_t) comes from the activation's own derivative applied to the pre-activation
    a_t = W_in x_t + W h_{t−1} + b, recomputed from the states. The Jacobian's norm (an
    SVD) is taken every ``every`` steps and at the last step; other entries are NaN.
    """
    check_positive_int("every", every)
    if not isinstance(model, ElmanRNN):
        raise TypeError(f"model must be a rectified.models.ElmanRNN, got {type(model).__name__}")
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x,
                        dtype=torch.float32)
    if x.dim() != 3:
        raise ValueError(f"x must have shape (batch, time, input), got {tuple(x.shape)}")
    n = model.hidden_size
    if h0 is None:
        h0 = torch.zeros(x.shape[0], n)
    h0 = torch.as_tensor(h0, dtype=torch.float32)
    if tuple(h0.shape) != (x.shape[0], n):
        raise ValueError(f"h0 must have shape (batch, hidden) = {(x.shape[0], n)}, "
                         f"got {tuple(h0.shape)}")
    _, states = model.forward_states(x, h0)
    H = torch.stack(states, 1).double().numpy()
    W = model.W_rec.detach().double().cpu().numpy()
    W_in = model.W_in.detach().double().cpu().numpy()
    b = model.b.detach().double().cpu().numpy()
    previous = np.concatenate([h0.double().numpy()[:, None], H[:, :-1]], axis=1)
    pre = x.double().numpy() @ W_in.T + previous @ W.T + b
    deriv = model.act.grad(pre)
    J = np.broadcast_to(np.eye(n), (x.shape[0], n, n)).copy()
    T = H.shape[1]
    jnorm = np.full(H.shape[:2], np.nan)
    for t in range(T):
        J = deriv[:, t, :, None] * (W @ J)          # D_t W J
        if (t + 1) % every == 0 or t == T - 1:
            jnorm[:, t] = np.linalg.norm(J, 2, axis=(1, 2))
    return Trajectory(H, deriv, np.linalg.norm(H, axis=2), jnorm, W)


def driven_trajectory(activation: str, scale: float, length: int = 100, hidden: int = 64,
                      input_scale: float = 0.5, batch: int = 4, seed: int = 0,
                      every: int = 1) -> Trajectory:
    """:func:`trajectory` of an Elman RNN with W = scale·Q (Q orthogonal: every singular value
    of W is ``scale``), 2 inputs x_t ~ N(0, 1) with input weights of size ``input_scale``,
    and a random start h_0 ~ N(0, I/hidden), so ‖h_0‖ ≈ 1."""
    net = ElmanRNN(2, hidden, 1, activation=activation, recurrent_init="orthogonal",
                   scale=scale, input_scale=input_scale, seed=seed)
    gen = torch.Generator().manual_seed(int(seed))
    x = torch.randn(batch, length, 2, generator=gen)
    h0 = torch.randn(batch, hidden, generator=gen) / math.sqrt(hidden)
    return trajectory(net, x, h0, every=every)


def gaussian_matrix(n: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """An n×n matrix with entries N(0, scale²/n): E‖Wv‖² = scale²‖v‖², spectral radius ≈ scale."""
    check_positive_int("n", n)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    return rng.standard_normal((n, n)) * (scale / math.sqrt(n))


def power_and_product_norms(n: int, scale: float, steps: int, seed: int = 0):
    """‖Wᵗv‖ for one random W, and ‖W_t ⋯ W_1 v‖ for independent W_k of the same law,
    t = 1 … steps, from the same unit vector v. Returns (powers, products, W)."""
    check_positive_int("steps", steps)
    rng = np.random.default_rng(seed)
    W = gaussian_matrix(n, scale, rng)
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    p, q = v.copy(), v.copy()
    powers, products = np.empty(steps), np.empty(steps)
    for t in range(steps):
        p = W @ p                                   # the same matrix every step
        q = gaussian_matrix(n, scale, rng) @ q      # a fresh matrix every step
        powers[t], products[t] = np.linalg.norm(p), np.linalg.norm(q)
    return powers, products, W


class LSTMNet(nn.Module):
    """A one-layer LSTM (torch.nn.LSTM) read out from its last hidden state by a linear layer.

    c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t,  h_t = o_t ⊙ tanh(c_t); ``forget_bias`` is added to the
    forget gate's bias (1.0 is the usual remedy for early forgetting). :meth:`forget_gates`
    returns f_t, whose running product is the cell state's direct path ∂c_t/∂c_0.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 forget_bias: float = 1.0, seed: int = 0, device: str = "cpu"):
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("output_size", output_size)):
            check_positive_int(name, v)
        gen = generator(seed)
        self.hidden_size = hidden_size
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        bound = 1 / math.sqrt(hidden_size)
        with torch.no_grad():
            for p in self.lstm.parameters():
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * bound)
            # gate order in torch: input, forget, cell, output
            self.lstm.bias_ih_l0[hidden_size:2 * hidden_size] += forget_bias
        self.out = nn.Linear(hidden_size, output_size)
        init_linear_(self.out, "xavier", gen)
        self.to(resolve_device(device))

    def forward(self, x):
        seq, _ = self.lstm(x)
        return self.out(seq[:, -1])

    @torch.no_grad()
    def forget_gates(self, x) -> torch.Tensor:
        """f_t = σ(W_if x_t + W_hf h_{t−1} + b_f) for every step, shape (batch, time, hidden)."""
        seq, _ = self.lstm(x)
        n = self.hidden_size
        prev = torch.cat([seq.new_zeros(seq.shape[0], 1, n), seq[:, :-1]], dim=1)
        sl = slice(n, 2 * n)
        a = (x @ self.lstm.weight_ih_l0[sl].T + prev @ self.lstm.weight_hh_l0[sl].T
             + self.lstm.bias_ih_l0[sl] + self.lstm.bias_hh_l0[sl])
        return torch.sigmoid(a)


# --- The chapter's experiment: hidden-state and gradient norms through time -----------------

@dataclass(frozen=True)
class RecurrenceState:
    """An Elman RNN with recurrent matrix W = scale·Q (Q orthogonal, so every singular value
    of W equals ``scale``), driven by random inputs of size ``input_scale``."""

    activation: str = "tanh"
    scale: float = 1.0
    length: int = 100
    input_scale: float = 0.5
    hidden: int = 64
    seed: int = 0


@dataclass(frozen=True)
class RecurrenceResult:
    """Per time step t = 1 … length, medians over 4 input sequences of ‖h_t‖ and
    ‖∂h_t/∂h_0‖₂, the bound scale^t on the latter and, for tanh, the bound √hidden on ‖h_t‖
    (None for ReLU, whose state is unbounded)."""

    activation: str
    scale: float
    input_scale: float
    hidden: int
    t: np.ndarray
    state_norm: np.ndarray
    jacobian_norm: np.ndarray
    jacobian_bound: np.ndarray
    state_bound: float | None
    final_state_norm: float
    final_jacobian_norm: float


def compute_recurrence(state: RecurrenceState) -> RecurrenceResult:
    """:func:`driven_trajectory` of 4 sequences, with the bound ‖∂h_t/∂h_0‖₂ ≤ (γ·σ_max(W))^t
    = scale^t (γ = 1 for tanh and ReLU) and, for tanh, ‖h_t‖ ≤ √hidden. RNN chapter."""
    if not isinstance(state, RecurrenceState):
        raise TypeError(f"state must be a RecurrenceState, got {type(state).__name__}")
    if state.activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {state.activation!r}")
    check_positive_int("length", state.length, "time steps")
    check_positive_int("hidden", state.hidden, "hidden units")
    for name in ("scale", "input_scale"):
        v = getattr(state, name)
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    tr = driven_trajectory(state.activation, state.scale, state.length, state.hidden,
                           state.input_scale, seed=state.seed)
    t = np.arange(1, state.length + 1)
    with np.errstate(over="ignore", under="ignore"):
        bound = state.scale ** t.astype(float)
    return RecurrenceResult(
        activation=state.activation, scale=float(state.scale),
        input_scale=float(state.input_scale), hidden=state.hidden, t=t,
        state_norm=np.median(tr.state_norm, 0), jacobian_norm=np.median(tr.jacobian_norm, 0),
        jacobian_bound=bound,
        state_bound=float(np.sqrt(state.hidden)) if state.activation == "tanh" else None,
        final_state_norm=float(np.median(tr.state_norm[:, -1])),
        final_jacobian_norm=float(np.median(tr.jacobian_norm[:, -1])))
