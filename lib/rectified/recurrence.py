"""Recurrent dynamics: how the hidden state and its Jacobian evolve through time.

For an Elman RNN, h_t = f(a_t) with a_t = W_in x_t + W h_{t−1} + b, the chain rule gives

    ∂h_t/∂h_0 = D_t W · D_{t−1} W · … · D_1 W,      D_k = diag(f'(a_k)),

so ‖∂h_t/∂h_0‖₂ ≤ (γ ‖W‖₂)^t with γ = sup |f'| (Pascanu et al. 2013). This module runs
that product next to the forward pass, compares powers of one random matrix with products
of independent ones, and gives the LSTM that the chapter sets against the Elman RNN.

:func:`compute_recurrence` is the chapter's experiment (state in, norms out; drawn by
``plots.draw_recurrence``). :func:`compute_adding` trains one network of the
adding problem at each learning rate and seed of a grid as one batched
ensemble (:class:`LSTMEnsemble`, :class:`~rectified.models.ElmanEnsemble`)
and picks the rate (drawn by ``plots.draw_adding``).

Chapter: why recurrent networks use tanh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Sequence

import numpy as np
import torch
from torch import nn

from . import checks
from .models import (ElmanRNN, Ensemble, check_positive_int, generator,
                     init_linear_, resolve_device)

__all__ = ["Trajectory", "trajectory", "driven_trajectory", "gaussian_matrix",
           "power_and_product_norms", "LSTMNet", "RecurrenceState", "RecurrenceResult",
           "compute_recurrence", "LSTMEnsemble"]


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


class LSTMEnsemble(Ensemble):
    """K :class:`LSTMNet` of one size, stacked so that one batched product per
    time step runs all of them (the same LSTM step as torch.nn.LSTM, gate
    order input, forget, cell, output): a seed × learning-rate grid of LSTMs
    trains as one run (:func:`rectified.train.train`). RNN chapter.
    """

    def __init__(self, nets: Sequence[LSTMNet]):
        super().__init__()
        nets = self.members_of(nets, LSTMNet, "LSTMEnsemble")
        self.hidden_size = nets[0].hidden_size

        def stack(get):
            return self.stack(nets, get)

        # transposed, (K, fan_in, fan_out); biases (K, 1, out). The two gate
        # biases stay separate parameters, as in torch.nn.LSTM.
        self.weights = nn.ParameterList([
            stack(lambda m: m.lstm.weight_ih_l0.T),
            stack(lambda m: m.lstm.weight_hh_l0.T),
            stack(lambda m: m.out.weight.T)])
        self.biases = nn.ParameterList([
            stack(lambda m: m.lstm.bias_ih_l0[None]),
            stack(lambda m: m.lstm.bias_hh_l0[None]),
            stack(lambda m: m.out.bias[None])])

    def forward_hidden(self, x, members=None):
        """x of shape (B, T, in), shared by all members, or (K, B, T, in) ->
        (output (K, B, out), [], []), read out from the last h_t."""
        (W_ih, W_hh, W_out), (b_ih, b_hh, b_out) = self._select(members)
        if x.dim() not in (3, 4):
            raise ValueError(f"x must have shape (batch, time, input) or "
                             f"(members, batch, time, input), "
                             f"got {tuple(x.shape)}")
        k, n = W_ih.shape[0], self.hidden_size
        if x.dim() == 3:
            x = x.expand(k, *x.shape)
        # time first, (T, K, B, 4n), so that each step's slice is contiguous
        drive = torch.matmul(x.permute(2, 0, 1, 3), W_ih) + (b_ih + b_hh)
        h = c = x.new_zeros(k, x.shape[1], n)
        # unbind: one backward for all steps (indexing drive[t] would build
        # a full-size gradient at every step)
        for d in drive.unbind(0):
            gates = d + torch.bmm(h, W_hh)
            i, f, g, o = gates.split(n, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return torch.bmm(h, W_out) + b_out, [], []

    def member(self, k: int) -> LSTMNet:
        """Member k as a stand-alone LSTMNet with the ensemble's weights."""
        if not 0 <= k < len(self):
            raise IndexError(f"member index {k} out of range for an "
                             f"ensemble of {len(self)}")
        (W_ih, W_hh, W_out), (b_ih, b_hh, b_out) = self.weights, self.biases
        net = LSTMNet(W_ih.shape[1], self.hidden_size, W_out.shape[2],
                      device=str(W_ih.device))
        with torch.no_grad():
            net.lstm.weight_ih_l0.copy_(W_ih[k].T)
            net.lstm.weight_hh_l0.copy_(W_hh[k].T)
            net.lstm.bias_ih_l0.copy_(b_ih[k, 0])
            net.lstm.bias_hh_l0.copy_(b_hh[k, 0])
            net.out.weight.copy_(W_out[k].T)
            net.out.bias.copy_(b_out[k, 0])
        return net


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

    def __post_init__(self):
        checks.check_choice("activation", self.activation, ("tanh", "relu"))
        checks.check_number("scale", self.scale, 0)
        checks.check_int("length", self.length, 1, 100_000, "time steps")
        checks.check_number("input_scale", self.input_scale, 0)
        checks.check_int("hidden", self.hidden, 1, 4096, "hidden units")
        checks.check_seed("seed", self.seed)


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


# --- The adding problem: each arm tuned on its own, several seeds ------------

#: The adding-problem arms of the RNN chapter (see :func:`adding_net`).
ADDING_ARMS = ("tanh", "ReLU (Gaussian)", "IRNN", "LSTM")


def adding_net(arm: str, hidden: int = 16, seed: int = 0) -> nn.Module:
    """An untrained net of one adding-problem arm (2 inputs, 1 output), with
    the initialisation the arm is designed for:

    - ``"tanh"``: Elman RNN, recurrent entries N(0, 1/n), Glorot's variance
      2/(fan_in + fan_out) for a square matrix;
    - ``"ReLU (Gaussian)"``: the same recurrent matrix with ReLU;
    - ``"IRNN"``: ReLU with W = I and zero bias (Le et al. 2015);
    - ``"LSTM"``: :class:`LSTMNet` with forget-gate bias 1.

    Input weights N(0, 1/2) (fan-in 2) in the Elman nets. RNN chapter.
    """
    if arm not in ADDING_ARMS:
        raise ValueError(f"arm must be one of {', '.join(ADDING_ARMS)}, "
                         f"got {arm!r}")
    if arm == "LSTM":
        return LSTMNet(2, hidden, 1, forget_bias=1.0, seed=seed)
    activation = "tanh" if arm == "tanh" else "relu"
    init = "identity" if arm == "IRNN" else "gaussian"
    return ElmanRNN(2, hidden, 1, activation=activation,
                    recurrent_init=init, seed=seed)


@dataclass(frozen=True)
class AddingState:
    """One arm trained on the adding problem: sequence ``length``, ``hidden``
    units, ``steps`` clipped Adam steps on batches of ``batch_size``, each
    learning rate of ``lrs`` (factor-2 steps) with every seed of ``seeds``;
    ``n_sequences`` split 5 : 1 into training and test, drawn with
    ``data_seed``."""

    arm: str = "IRNN"
    length: int = 50
    hidden: int = 16
    steps: int = 200
    batch_size: int = 32
    clip: float = 1.0
    lrs: tuple = (0.005, 0.01, 0.02, 0.04)
    seeds: tuple = (0, 1, 2, 3, 4)
    n_sequences: int = 1200
    data_seed: int = 0
    record_every: int = 50

    def __post_init__(self):
        checks.check_choice("arm", self.arm, ADDING_ARMS)
        checks.check_int("length", self.length, 2, 100_000, "time steps")
        checks.check_int("hidden", self.hidden, 1, 4096, "hidden units")
        for name in ("steps", "batch_size", "n_sequences", "record_every"):
            checks.check_int(name, getattr(self, name), 1)
        checks.check_number("clip", self.clip, 0, lo_open=True)
        for name in ("lrs", "seeds"):
            if isinstance(getattr(self, name), (str, bytes)) \
                    or not hasattr(getattr(self, name), "__len__") \
                    or len(getattr(self, name)) < 1:
                raise ValueError(f"{name} must not be empty: give a tuple, "
                                 f"got {getattr(self, name)!r}")
        for lr in self.lrs:
            checks.check_number("each of lrs", lr, 0, lo_open=True)
        for seed in self.seeds:
            checks.check_seed("each of seeds", seed)
        checks.check_seed("data_seed", self.data_seed)


@dataclass(frozen=True, eq=False)
class AddingResult:
    """An arm's runs: ``choice`` (the learning rate with the lowest median
    final training MSE over the seeds, from the grid as extended by
    :func:`rectified.compare.tune_lr`), and at that rate each seed's final
    training and test MSE (inf for a run that diverged), its history and its
    trained net. ``runs`` maps every learning rate tried to its histories."""

    state: AddingState
    choice: object
    runs: dict
    train_mse: np.ndarray
    test_mse: np.ndarray
    histories: list
    nets: list

    @property
    def lr(self) -> float:
        return self.choice.best


def _final_mse(hist, key: str) -> float:
    value = getattr(hist, key)[-1]
    return math.inf if hist.diverged or not math.isfinite(value) else value


def compute_adding(state: AddingState) -> AddingResult:
    """Train ``state.arm`` on the adding problem at every learning rate and
    seed of the state, all members of one ensemble (:class:`LSTMEnsemble` or
    :class:`~rectified.models.ElmanEnsemble`) in one run of
    :func:`rectified.train.train`; while the best rate lies at the edge of the
    grid, the grid grows by a factor 2 (:func:`rectified.compare.tune_lr`).
    RNN chapter."""
    from . import compare, data, train     # the engine imports this module's
    from .models import ElmanEnsemble      # siblings, not this module

    if not isinstance(state, AddingState):
        raise TypeError(f"state must be an AddingState, "
                        f"got {type(state).__name__}")
    adding_net(state.arm)                  # checks the arm's name
    if len(state.seeds) < 1 or len(state.lrs) < 1:
        raise ValueError(f"seeds and lrs must not be empty, got "
                         f"seeds={state.seeds!r}, lrs={state.lrs!r}")
    ds = data.adding_split(state.n_sequences, state.length,
                           seed=state.data_seed)
    runs, nets = {}, {}

    def evaluate(lrs):
        grid = [(float(lr), s) for lr in lrs for s in state.seeds]
        members = [adding_net(state.arm, state.hidden, s) for _, s in grid]
        ens = (LSTMEnsemble if state.arm == "LSTM" else ElmanEnsemble)(members)
        cfgs = [train.TrainConfig(
            optimizer="adam", lr=lr, clip=state.clip, steps=state.steps,
            batch_size=state.batch_size, record_every=state.record_every,
            seed=s) for lr, s in grid]
        hists = train.train(ens, ds, cfgs)
        for k, ((lr, _), h) in enumerate(zip(grid, hists)):
            runs.setdefault(lr, []).append(h)
            nets.setdefault(lr, []).append((ens, k))
        return {float(lr): [_final_mse(h, "loss") for h in runs[float(lr)]]
                for lr in lrs}

    choice = compare.tune_lr(evaluate, state.lrs, lower_is_better=True)
    best = runs[choice.best]
    return AddingResult(
        state=state, choice=choice, runs=runs,
        train_mse=np.array([_final_mse(h, "loss") for h in best]),
        test_mse=np.array([_final_mse(h, "test_loss") for h in best]),
        histories=best,
        nets=[ens.member(k) for ens, k in nets[choice.best]])


__all__ += ["ADDING_ARMS", "adding_net", "AddingState", "AddingResult",
            "compute_adding"]
