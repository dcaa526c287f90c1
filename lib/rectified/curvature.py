"""First-order predictions of a gradient step, and the curvature that spoils them.

Along a unit direction d in parameter space, the first-order (Taylor) model of the loss is

    L(θ + ηd) ≈ L(θ) + η ∇L·d.

Its error for small η is ½η² d²L/dη², and that second derivative splits in two: the
curvature of the loss in the network's outputs (the Gauss–Newton part, dᵀJᵀ H_out J d)
and the curvature of the network itself (dᵀ(∑ ∂L/∂f · ∇²f)d), which is where an
activation's second derivative enters. A ReLU network has no activation curvature, but a
step can carry some of its units across their kinks, which no derivative at θ predicts.

    >>> probe = probe_step(net, X, y, etas=np.logspace(-4, 0, 9), scope="linears.0")
    >>> probe.loss_error, probe.gauss_newton, probe.network_curvature

:func:`compute_first_order` probes many ReLU and tanh nets that share their
initial weights, so that the two activations can be compared net by net.

Chapter: the kink at zero.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jvp

from . import data, models

__all__ = ["StepProbe", "probe_step", "FirstOrderState", "FirstOrderResult",
           "compute_first_order"]


@dataclass(frozen=True)
class StepProbe:
    """What a step of length η along d = −∇L/‖∇L‖ (restricted to some parameters) does.

    ``loss_error[k]``: |L(θ+η_k d) − L(θ) − η_k ∇L·d| / |η_k ∇L·d|, the relative error of
    the first-order prediction of the loss change on the whole data set.
    ``example_error[k, i]``: ‖f_i(θ+η_k d) − f_i(θ) − η_k J_i d‖ / ‖f_i(θ+η_k d) − f_i(θ)‖,
    the relative error of the first-order prediction of example i's outputs.
    ``slope`` = ∇L·d = −‖∇L‖; ``curvature`` = d²L/dη² at η = 0, split into
    ``gauss_newton`` (the loss's curvature in the outputs) and ``network_curvature``.
    """

    etas: np.ndarray
    loss_error: np.ndarray
    example_error: np.ndarray
    slope: float
    curvature: float
    gauss_newton: float

    @property
    def network_curvature(self) -> float:
        return self.curvature - self.gauss_newton

    def second_order_error(self) -> np.ndarray:
        """The relative error the curvature predicts for small steps: ½η·|L''| / |L'|."""
        return 0.5 * self.etas * abs(self.curvature) / abs(self.slope)


def probe_step(model: nn.Module, X, y, etas, scope: str | None = None) -> StepProbe:
    """Measure the first-order prediction error of steps along the normalised negative
    gradient of the cross-entropy, in float64 on a copy of ``model``.

    ``scope``: only parameters whose name starts with it move (e.g. ``"linears.0"``, the
    first layer of an MLP); None moves all of them."""
    etas = np.asarray(etas, dtype=float)
    if etas.ndim != 1 or not np.all(etas > 0):
        raise ValueError(f"etas must be a 1-D array of positive step lengths, got {etas!r}")
    net = copy.deepcopy(model).double().eval()
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X).double()
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long()
    base = {k: v.detach() for k, v in net.named_parameters()}
    moving = [k for k in base if scope is None or k.startswith(scope)]
    if not moving:
        raise ValueError(f"no parameter name starts with scope={scope!r}; "
                         f"names: {', '.join(base)}")
    one = torch.tensor(1.0, dtype=torch.float64)
    zero = torch.tensor(0.0, dtype=torch.float64)

    params = {k: v.clone().requires_grad_(k in moving) for k, v in base.items()}
    loss0 = nn.functional.cross_entropy(functional_call(net, params, (X,)), y)
    grads = torch.autograd.grad(loss0, [params[k] for k in moving])
    gnorm = torch.sqrt(sum((g * g).sum() for g in grads))
    direction = {k: -g / gnorm for k, g in zip(moving, grads)}

    def outputs(t):
        p = {k: base[k] + t * direction[k] if k in direction else base[k] for k in base}
        return functional_call(net, p, (X,))

    f0, jd = jvp(outputs, (zero,), (one,))          # outputs and J·d at η = 0
    t = zero.clone().requires_grad_(True)
    first, = torch.autograd.grad(nn.functional.cross_entropy(outputs(t), y), t,
                                 create_graph=True)
    second, = torch.autograd.grad(first, t)
    prob = torch.softmax(f0, dim=1)                  # H_out of softmax cross-entropy
    gauss_newton = ((prob * jd ** 2).sum(1) - (prob * jd).sum(1) ** 2).mean()

    slope = float(-gnorm)
    loss_error, example_error = [], []
    with torch.no_grad():
        for eta in etas:
            f1 = outputs(torch.tensor(eta, dtype=torch.float64))
            change = float(nn.functional.cross_entropy(f1, y) - loss0)
            loss_error.append(abs(change - eta * slope) / abs(eta * slope))
            moved = (f1 - f0).norm(dim=1)
            miss = (f1 - f0 - eta * jd).norm(dim=1)
            example_error.append(torch.where(moved > 0, miss / moved.clamp_min(1e-300),
                                             torch.zeros_like(miss)).numpy())
    return StepProbe(etas, np.asarray(loss_error), np.stack(example_error), slope,
                     float(second), float(gauss_newton))


# --- ReLU against tanh on the same weights: each first-order model -----------

@dataclass(frozen=True)
class FirstOrderState:
    """MLPs on the digits at initialisation, one per (hidden ``widths``,
    ``init`` scheme, seed in 0 .. ``n_seeds`` − 1) and per activation; for a
    given (widths, init, seed) every activation gets the *same* initial
    weights, so only the activation differs.

    Steps of each length in ``etas`` move the parameters named by ``scope``
    (None: all) along the normalised negative gradient (:func:`probe_step`);
    an example counts as predicted exactly when its outputs miss the
    first-order prediction by less than ``tol`` (relative)."""

    activations: tuple = ("relu", "tanh")
    widths: tuple = ((32, 32), (64,))
    inits: tuple = ("he", "xavier")
    n_seeds: int = 8
    etas: tuple = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    scope: str | None = "linears.0"
    tol: float = 1e-8


@dataclass(frozen=True)
class FirstOrderResult:
    """Per activation (dict key), one row per net in ``nets`` ((widths, init,
    seed)): ``loss_error`` (n_nets, n_etas), the relative error of the
    predicted change of the training loss; ``exact`` (n_nets, n_etas), the
    fraction of training examples whose outputs the first-order model
    predicts exactly; ``curvature_share`` (n_nets,), the network-curvature
    part of d²L/dη² divided by the Gauss–Newton part."""

    etas: np.ndarray
    nets: tuple
    loss_error: dict
    exact: dict
    curvature_share: dict


def compute_first_order(state: FirstOrderState) -> FirstOrderResult:
    """Probe every net of :class:`FirstOrderState` on the standardised
    training digits with :func:`probe_step`. Kink-at-zero chapter."""
    if not isinstance(state, FirstOrderState):
        raise TypeError(f"state must be a FirstOrderState, "
                        f"got {type(state).__name__}")
    n = state.n_seeds
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n_seeds must be an int >= 1, got {n!r}")
    if not 0 < state.tol < 1:
        raise ValueError(f"tol must lie in (0, 1), got {state.tol!r}")
    ds = data.digits()
    etas = np.asarray(state.etas, dtype=float)
    nets = tuple((tuple(w), init, seed) for w in state.widths
                 for init in state.inits for seed in range(n))
    loss_error = {a: [] for a in state.activations}
    exact = {a: [] for a in state.activations}
    share = {a: [] for a in state.activations}
    for widths, init, seed in nets:
        for a in state.activations:
            net = models.MLP(64, list(widths), 10, a, init=init, seed=seed)
            p = probe_step(net, ds.X_train, ds.y_train, etas,
                           scope=state.scope)
            loss_error[a].append(p.loss_error)
            exact[a].append((p.example_error < state.tol).mean(axis=1))
            share[a].append(p.network_curvature / p.gauss_newton)
    return FirstOrderResult(
        etas=etas, nets=nets,
        loss_error={a: np.stack(v) for a, v in loss_error.items()},
        exact={a: np.stack(v) for a, v in exact.items()},
        curvature_share={a: np.asarray(v) for a, v in share.items()})
