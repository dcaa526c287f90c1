"""Diagnostics: dead units, activation rates, gradient norms per layer, linear regions,
spectral radius and largest singular value.

A *dead* unit is one whose pre-activation is ≤ 0 for every input of a dataset, so a ReLU
unit outputs 0 everywhere and receives no gradient; an *inactive* unit is one that is ≤ 0
for a particular input. For convolutions a unit is a channel.

Chapters: dying ReLU (dead units), why ReLU (gradient norms), why nonlinearity (regions),
RNNs and tanh (spectra).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import activations, checks, models

__all__ = [
    "pre_activations", "activation_patterns", "dead_mask", "dead_units", "dead_fraction",
    "activation_rate", "all_dead_layer", "gradient_norms", "piecewise_linear_layers", "LineRegions",
    "regions_along_line", "regions_on_grid", "max_regions",
    "arrangement_regions", "regions_in_input_space",
    "spectral_radius", "largest_singular_value",
    "max_pre_activation", "first_dead_layer", "DEAD_MAP_REMEDIES", "DeadMapState",
    "DeadMapResult", "dead_map_setup", "compute_dead_map",
]


def _as_tensor(X, model):
    if isinstance(X, torch.Tensor):
        return X
    device = next(model.parameters()).device
    return torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)


def _check_model(model):
    if not hasattr(model, "forward_hidden"):
        raise TypeError(f"model must expose forward_hidden (an MLP or SmallCNN), "
                        f"got {type(model).__name__}")


@torch.no_grad()
def pre_activations(model: nn.Module, X) -> list[torch.Tensor]:
    """Each hidden layer's pre-activation over the inputs X, in eval mode."""
    _check_model(model)
    X = checks.check_array("X", X)
    with models.eval_mode(model):
        _, pres, _ = model.forward_hidden(_as_tensor(X, model))
    return pres


def dead_mask(pres: list[torch.Tensor]) -> list[torch.Tensor]:
    """Per layer, a bool per unit: True when its pre-activation is never > 0."""
    return [~(z.transpose(0, 1).reshape(z.shape[1], -1) > 0).any(dim=1) for z in pres]


def dead_units(model: nn.Module, X) -> list[np.ndarray]:
    """Per hidden layer, a bool array marking the units that are dead over X."""
    return [m.cpu().numpy() for m in dead_mask(pre_activations(model, X))]


def dead_fraction(model: nn.Module, X) -> list[float]:
    """Per hidden layer, the fraction of units that are dead over X."""
    return [float(m.mean()) for m in dead_units(model, X)]


def activation_rate(model: nn.Module, X) -> list[float]:
    """Per hidden layer, the fraction of (input, unit) pairs with a positive pre-activation."""
    return [float((z > 0).float().mean()) for z in pre_activations(model, X)]


def all_dead_layer(model: nn.Module, X) -> bool:
    """True when some hidden layer is dead in every unit over X, so the network's output
    is the same constant for all of X (a 'born dead' ReLU network, Lu et al. 2019)."""
    return any(bool(m.all()) for m in dead_units(model, X))


def gradient_norms(model: nn.Module, X, y, loss: str = "cross_entropy") -> list[float]:
    """Frobenius norm of ∂loss/∂W for each weight layer, input side first, in eval mode.

    Does not touch the parameters' ``.grad``.
    """
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss must be 'cross_entropy' or 'mse', got {loss!r}")
    X = _as_tensor(checks.check_array("X", X), model)
    y = checks.check_array("y", y)
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(np.asarray(y), device=X.device,
                            dtype=torch.int64 if loss == "cross_entropy" else torch.float32)
    weights = [w if isinstance(w, nn.Parameter) else w.weight for w in model.weight_layers]
    with models.eval_mode(model), torch.enable_grad():
        out = model(X)
        value = (nn.functional.cross_entropy(out, y) if loss == "cross_entropy"
                 else nn.functional.mse_loss(out, y))
        grads = torch.autograd.grad(value, weights)
    return [float(g.norm()) for g in grads]


# --- Linear regions -----------------------------------------------------------------------

def piecewise_linear_layers(model: nn.Module):
    """The MLP as float64 numpy layers [(W, b, slope_neg, slope_pos), ..., (W_out, b_out)].

    Only for MLPs whose activation is piecewise linear (relu, leaky_relu, prelu, abs,
    linear) and that have no batch norm.
    """
    name = getattr(model, "activation", None)
    if not hasattr(model, "linears") or name not in activations.PIECEWISE_LINEAR or \
            getattr(model, "batchnorm", None):
        raise ValueError("region counting needs an MLP without batch norm whose activation is "
                         f"one of {sorted(activations.PIECEWISE_LINEAR)}, got "
                         f"{getattr(model, 'activation', type(model).__name__)!r}")
    layers = []
    for lin, act in zip(model.linears, model.acts):
        W = lin.weight.detach().double().cpu().numpy()
        b = lin.bias.detach().double().cpu().numpy()
        n = W.shape[0]
        if isinstance(act, nn.PReLU):      # learned slopes: read them from the model
            neg = act.weight.detach().double().cpu().numpy()
        else:
            neg = activations.get(name, **model.act_params).negative_slope
        layers.append((W, b, np.broadcast_to(np.asarray(neg, dtype=float), (n,)), np.ones(n)))
    layers.append((model.out.weight.detach().double().cpu().numpy(),
                   model.out.bias.detach().double().cpu().numpy()))
    return layers


@dataclass(frozen=True)
class LineRegions:
    """Linear regions met along the segment start + t·(end − start), t ∈ [0, 1]."""

    breakpoints: np.ndarray   # the t values where some unit switches on or off
    start: np.ndarray
    end: np.ndarray

    @property
    def n_regions(self) -> int:
        return len(self.breakpoints) + 1

    @property
    def points(self) -> np.ndarray:
        """The breakpoints as points in input space."""
        return self.start + self.breakpoints[:, None] * (self.end - self.start)


def regions_along_line(model: nn.Module, start, end, eps: float = 1e-7) -> LineRegions:
    """Count the activation regions an MLP's input line crosses, exactly.

    Along the line every pre-activation is piecewise affine in t. Walking from t = 0, the
    current on/off pattern fixes every layer's affine map; the next breakpoint is the
    nearest root of any unit's pre-activation beyond t. No sampling, so the count is exact
    up to floating point: breakpoints closer than ``eps`` in t merge (the default matches
    the float32 precision the weights are stored in).
    """
    layers = piecewise_linear_layers(model)
    start = checks.check_array("start", start).astype(float).ravel()
    end = checks.check_array("end", end).astype(float).ravel()
    eps = checks.check_number("eps", eps, 0, 1, lo_open=True, hi_open=True,
                              hint="the smallest gap in t between breakpoints")
    if start.shape != end.shape or start.shape[0] != layers[0][0].shape[1]:
        raise ValueError(f"start and end must be points of the input space "
                         f"(dimension {layers[0][0].shape[1]}), got shapes "
                         f"{start.shape} and {end.shape}")
    direction = end - start
    t, breaks = 0.0, []
    while True:
        a, b = start.copy(), direction.copy()          # layer input = a + b·t
        probe = t + eps
        nxt = np.inf
        for W, bias, neg, pos in layers[:-1]:
            za, zb = W @ a + bias, W @ b
            on = za + zb * probe > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                # a unit whose two slopes agree (the linear 'activation') has no kink
                roots = np.where((zb != 0) & (neg != pos), -za / zb, np.inf)
            ahead = roots[roots > probe]
            if ahead.size:
                nxt = min(nxt, ahead.min())
            slope = np.where(on, pos, neg)
            a, b = slope * za, slope * zb
        if nxt >= 1.0:
            break
        breaks.append(nxt)
        t = nxt
    return LineRegions(np.asarray(breaks), start, end)


def activation_patterns(model: nn.Module, X) -> np.ndarray:
    """Each input's on/off pattern over every hidden unit (z > 0), packed into bytes: one
    row per input; for a ReLU-family MLP, equal rows mean the same linear region."""
    bits = torch.cat([(z > 0) for z in pre_activations(model, X)], dim=1).cpu().numpy()
    return np.packbits(bits, axis=1)


#: The finest grid :func:`regions_on_grid` draws: 2000² points (a few hundred MB of
#: activation patterns for a net of a few hundred units).
MAX_GRID_RESOLUTION = 2000


@torch.no_grad()
def regions_on_grid(model: nn.Module, xlim=(-1, 1), ylim=(-1, 1), resolution: int = 200):
    """Distinct activation patterns of a 2-input MLP on a resolution² grid.

    For a ReLU-family MLP each pattern's region is convex, so the number of distinct
    patterns seen is the number of linear regions meeting the grid (a lower bound that
    grows to the true count as the grid refines). Returns (count, pattern id per grid
    point with shape (resolution, resolution)).
    """
    _check_model(model)
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    checks.check_int("resolution", resolution, 2, MAX_GRID_RESOLUTION)
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        lim = checks.check_array(name, lim, 1)
        if lim.shape != (2,) or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be a pair (lo, hi) of finite numbers with "
                             f"lo < hi, got {tuple(lim.tolist())}")
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.c_[gx.ravel(), gy.ravel()]
    _, ids = np.unique(activation_patterns(model, pts), axis=0, return_inverse=True)
    ids = ids.reshape(resolution, resolution)
    return int(ids.max()) + 1, ids


# --- Regions of the whole input space (one hidden layer) -----------------
#
# A one-hidden-layer ReLU-family MLP switches unit j on one side of the
# hyperplane w_j·x + b_j = 0, so its activation regions are the regions into
# which these hyperplanes cut the input space (a hyperplane arrangement).

def max_regions(n_units: int, in_dim: int) -> int:
    """Most regions n hyperplanes can cut R^d into: Σ_{j=0}^{d} C(n, j)
    (Zaslavsky 1975), reached exactly when they are in general position; for
    d = 2, 1 + n + n(n − 1)/2. Why-nonlinearity chapter (regions in 2-D)."""
    if not isinstance(n_units, (int, np.integer)) \
            or isinstance(n_units, bool) or n_units < 0:
        raise ValueError(f"n_units must be an int >= 0, got {n_units!r}")
    models.check_positive_int("in_dim", in_dim, "the input dimension")
    return sum(math.comb(int(n_units), j) for j in range(int(in_dim) + 1))


def _distinct_count(values: np.ndarray, tol: float) -> int:
    """How many distinct numbers ``values`` holds, merging neighbours
    closer than tol·max(1, |value|); ``values`` is not empty."""
    v = np.sort(values)
    gaps = np.diff(v) > tol * np.maximum(1.0, np.abs(v[1:]))
    return int(gaps.sum()) + 1


def _orthogonal_complement(unit: np.ndarray) -> np.ndarray:
    """A d × (d − 1) orthonormal basis of the vectors orthogonal to a unit
    vector: the other columns of the Householder reflection that maps it
    onto a coordinate axis."""
    i = int(np.argmax(np.abs(unit)))
    v = unit.copy()
    v[i] += 1.0 if unit[i] >= 0 else -1.0
    reflection = np.eye(len(unit)) - 2.0 * np.outer(v, v) / (v @ v)
    return np.delete(reflection, i, axis=1)


def _arrangement_regions(normals: np.ndarray, offsets: np.ndarray,
                         tol: float) -> int:
    norms = np.linalg.norm(normals, axis=1)
    keep = norms > tol             # a zero normal is no hyperplane: no cut
    a, c = normals[keep] / norms[keep, None], offsets[keep] / norms[keep]
    if len(a) == 0:
        return 1
    if a.shape[1] == 1:            # points on a line: one region per point
        return _distinct_count(-c * a[:, 0], tol) + 1
    distinct = []                  # the same hyperplane twice cuts once
    for j in range(len(a)):
        if not any(np.abs(a[j] - s * a[i]).max() <= tol
                   and abs(c[j] - s * c[i]) <= tol * max(1.0, abs(c[i]))
                   for i in distinct for s in (1.0, -1.0)):
            distinct.append(j)
    a, c = a[distinct], c[distinct]
    regions = 1
    for j in range(len(a)):
        # Adding hyperplane H_j adds as many regions as the earlier ones cut
        # H_j into. H_j = {x0 + B u}: x0 its point nearest the origin, B an
        # orthonormal basis.
        basis = _orthogonal_complement(a[j])
        x0 = -c[j] * a[j]
        regions += _arrangement_regions(a[:j] @ basis, a[:j] @ x0 + c[:j],
                                        tol)
    return regions


def arrangement_regions(normals, offsets, tol: float = 1e-9) -> int:
    """Number of regions into which the hyperplanes {x : a_j·x + c_j = 0}
    (rows a_j of ``normals``, entries c_j of ``offsets``) cut R^d, exactly.

    Deletion and restriction: adding a hyperplane H adds as many regions as
    the hyperplanes already there cut H into, a count in one dimension
    fewer; on a line, each distinct point adds one. Parallel, repeated and
    concurrent hyperplanes are handled (points or hyperplanes closer than
    ``tol``, relative, count as one), so the result equals
    :func:`max_regions` only in general position. Why-nonlinearity chapter.
    """
    a = np.asarray(normals, dtype=float)
    c = np.asarray(offsets, dtype=float).ravel()
    if a.ndim != 2 or a.shape[1] < 1 or a.shape[0] != c.shape[0]:
        raise ValueError(f"normals must have shape (m, d) with d >= 1 and "
                         f"offsets shape (m,), got {a.shape} and {c.shape}")
    if not (np.isfinite(a).all() and np.isfinite(c).all()):
        raise ValueError("normals and offsets must be finite")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) \
            or not 0 < tol < 1:
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    return _arrangement_regions(a, c, float(tol))


def regions_in_input_space(model: nn.Module, tol: float = 1e-9) -> int:
    """Exact number of activation regions (on/off patterns of the hidden
    units) of a one-hidden-layer piecewise-linear MLP over its whole input
    space: the regions cut by the hyperplanes w_j·x + b_j = 0 of its kinked
    units (:func:`arrangement_regions`). At most :func:`max_regions`
    (n_units, in_dim). Why-nonlinearity chapter."""
    layers = piecewise_linear_layers(model)
    if len(layers) != 2:
        raise ValueError(f"regions_in_input_space needs an MLP with one "
                         f"hidden layer, got {len(layers) - 1} hidden layers")
    W, b, neg, pos = layers[0]
    kinked = neg != pos                      # a linear unit has no kink
    return arrangement_regions(W[kinked], b[kinked], tol)


# --- Spectra ------------------------------------------------------------------------------

def _matrix(W) -> np.ndarray:
    W = W.detach().cpu().numpy() if isinstance(W, torch.Tensor) else np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {W.shape}")
    return W.astype(np.float64)


def spectral_radius(W) -> float:
    """max |λ| over the eigenvalues of a square matrix (rate of growth of Wᵗ)."""
    W = _matrix(W)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"spectral radius needs a square matrix, got shape {W.shape}")
    return float(np.abs(np.linalg.eigvals(W)).max())


def largest_singular_value(W) -> float:
    """The largest singular value ‖W‖₂ (the most W can stretch a vector)."""
    return float(np.linalg.norm(_matrix(W), 2))


# --- Dying ReLU: unit margins and born-dead networks ---------------------------------------

def max_pre_activation(model: nn.Module, X) -> list[np.ndarray]:
    """Per hidden layer, each unit's largest pre-activation over X, max_x z_j(x).

    A unit is dead over X exactly when this margin is ≤ 0; tracked over training it shows
    units dying and reviving. Dying ReLU chapter.
    """
    return [z.transpose(0, 1).reshape(z.shape[1], -1).max(dim=1).values.cpu().numpy()
            for z in pre_activations(model, X)]


@torch.no_grad()
def first_dead_layer(X, width: int, depth: int, n_nets: int = 1000, init: str = "he",
                     bias_init: float = 0.0, seed: int = 0) -> np.ndarray:
    """Monte Carlo for born-dead ReLU networks (Lu et al. 2019).

    Draws ``n_nets`` random ReLU MLPs with ``depth`` hidden layers of ``width`` units
    (weights drawn by :func:`rectified.models.draw_init`, ``init`` 'he' or
    'asymmetric') and returns, per net, the first hidden layer (1-based) in which every
    unit is ≤ 0 for every input row of X, or 0 when no layer is. Such a layer outputs
    zeros, so the net's output is the same constant for all of X: the fraction of nets with
    1 ≤ first ≤ L estimates P(a depth-L net is born dead). All nets run as one batched
    product. Dying ReLU chapter.
    """
    if init not in ("he", "asymmetric"):
        raise ValueError(f"init must be 'he' or 'asymmetric', got {init!r}")
    for name, v in (("width", width), ("depth", depth), ("n_nets", n_nets)):
        models.check_positive_int(name, v)
    X = torch.as_tensor(np.asarray(checks.check_array("X", X)), dtype=torch.float32)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_inputs, n_features), got {tuple(X.shape)}")
    bias_init = checks.check_number("bias_init", bias_init)
    gen = torch.Generator().manual_seed(checks.check_seed("seed", seed))
    first = torch.zeros(n_nets, dtype=torch.int64)
    h = X.expand(n_nets, *X.shape)                       # (nets, inputs, features)
    for layer in range(1, depth + 1):
        W, b = models.draw_init(init, width, h.shape[-1], gen, bias_init, batch=(n_nets,))
        z = torch.baddbmm(b[:, None, :], h, W.transpose(1, 2))
        dead = (z <= 0).flatten(1).all(dim=1)
        first = torch.where((first == 0) & dead, torch.tensor(layer), first)
        h = torch.relu(z)
    return first.numpy()


# --- Dying ReLU: which units die, under which learning rate and remedy ----------------------

#: The dead-unit map's remedies: (MLP options, TrainConfig options) switched on by each.
DEAD_MAP_REMEDIES = {
    "none": ({}, {}),
    "leaky_relu": ({"activation": "leaky_relu"}, {}),
    "bias_0.1": ({"bias_init": 0.1}, {}),
    "batchnorm_before": ({"batchnorm": "before"}, {}),
    "batchnorm_after": ({"batchnorm": "after"}, {}),
    "asymmetric_init": ({"init": "asymmetric"}, {}),
    "momentum": ({}, {"optimizer": "momentum"}),
    "adam": ({}, {"optimizer": "adam"}),
    "clip_1.0": ({}, {"clip": 1.0}),
}


@dataclass(frozen=True)
class DeadMapState:
    """One run of the dying ReLU chapter: an MLP 64 → depth × [width] → 10 on the digits'
    [0, 1] pixels, trained (SGD, batch 32, unless the remedy changes the optimiser) at
    ``lr`` for ``epochs`` epochs with one remedy of :data:`DEAD_MAP_REMEDIES` switched on;
    every unit's margin is recorded every ``record_every`` steps."""

    lr: float = 0.5
    remedy: str = "none"
    epochs: int = 10
    seed: int = 0
    width: int = 64
    depth: int = 3
    record_every: int = 10

    def __post_init__(self):
        checks.check_number("lr", self.lr, 0, lo_open=True)
        if not isinstance(self.remedy, str) or self.remedy not in DEAD_MAP_REMEDIES:
            raise ValueError(f"unknown remedy {self.remedy!r}; known: "
                             f"{', '.join(DEAD_MAP_REMEDIES)}")
        checks.check_int("epochs", self.epochs, 1, 1000)
        checks.check_seed("seed", self.seed)
        checks.check_int("width", self.width, 1, 4096)
        checks.check_int("depth", self.depth, 1, 64)
        checks.check_int("record_every", self.record_every, 1)


@dataclass(frozen=True, eq=False)
class DeadMapResult:
    """One traced run of a :class:`DeadMapState`.

    ``alive[l]`` is hidden layer l's (units, records) map, 1.0 while a unit's margin is
    > 0 and 0.0 while it is dead, rows sorted from the longest-lived unit down; ``step``
    the training step of each record, with the accuracies recorded there.
    ``dead_fraction`` is the share of all hidden units dead at the last record.
    ``model`` and ``trace`` (a :class:`rectified.train.UnitTrace`) are the trained net and
    its full record, for further measurements."""

    state: DeadMapState
    alive: list
    step: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    dead_fraction: float
    diverged: bool
    final_test_acc: float
    model: nn.Module = field(repr=False)
    trace: object = field(repr=False)


def dead_map_setup(state: DeadMapState):
    """(untrained model, TrainConfig) for a :class:`DeadMapState`. Dying ReLU chapter."""
    from . import train

    if not isinstance(state, DeadMapState):
        raise TypeError(f"state must be a DeadMapState, got {type(state).__name__}")
    if state.remedy not in DEAD_MAP_REMEDIES:
        raise ValueError(f"unknown remedy {state.remedy!r}; known: "
                         f"{', '.join(DEAD_MAP_REMEDIES)}")
    for name in ("width", "depth", "epochs", "record_every"):
        models.check_positive_int(name, getattr(state, name))
    model_opts, cfg_opts = DEAD_MAP_REMEDIES[state.remedy]
    model = models.MLP(64, [state.width] * state.depth, 10, seed=state.seed, **model_opts)
    cfg = train.TrainConfig(lr=state.lr, epochs=state.epochs, batch_size=32, seed=state.seed,
                            record_every=state.record_every, diagnostics=False, **cfg_opts)
    return model, cfg


def compute_dead_map(state: DeadMapState, dataset=None) -> DeadMapResult:
    """Train the run a :class:`DeadMapState` describes, recording every unit's margin
    (:func:`rectified.train.trace_units`), and sort each layer's units by how long they
    live. ``dataset`` defaults to :func:`rectified.data.digits_pixels`. Dying ReLU
    chapter (the dead-unit map)."""
    from . import data, train

    model, cfg = dead_map_setup(state)
    trace = train.trace_units(model, data.digits_pixels() if dataset is None else dataset,
                              cfg)
    alive = []
    for layer in range(len(trace.margin)):
        a = trace.alive(layer).T.astype(float)               # (units, records)
        alive.append(a[np.argsort(-a.sum(1), kind="stable")])
    hist = trace.history
    dead = 1 - np.concatenate([trace.alive(l)[-1] for l in range(len(trace.margin))]).mean()
    return DeadMapResult(state, alive, trace.step, np.asarray(hist.train_acc),
                         np.asarray(hist.test_acc), float(dead), hist.diverged,
                         hist.test_acc[-1], model, trace)


# --- Dying ReLU: dead since birth, and how large each step is -------------

__all__ += ["DeadOverlap", "dead_overlap", "StepTrace", "trace_steps"]


@dataclass(frozen=True)
class DeadOverlap:
    """One hidden layer's dead units over the same inputs in two states of a
    net: ``born`` dead at the start, ``after`` dead at the end, ``both`` dead
    in both (dead since initialisation), out of ``units``. Dying ReLU
    chapter."""

    born: int
    after: int
    both: int
    units: int

    @property
    def new(self) -> int:
        """Units dead at the end that were alive at the start: after − both."""
        return self.after - self.both


def dead_overlap(before: nn.Module, after: nn.Module, X) -> list[DeadOverlap]:
    """Per hidden layer, which units are dead over X in ``before`` (e.g. the
    net at initialisation), in ``after`` (the same net trained) and in both.
    Dying ReLU chapter."""
    born, end = dead_units(before, X), dead_units(after, X)
    widths = [len(m) for m in born], [len(m) for m in end]
    if widths[0] != widths[1]:
        raise ValueError(f"before and after must have the same hidden widths, "
                         f"got {widths[0]} and {widths[1]}")
    return [DeadOverlap(int(b.sum()), int(a.sum()), int((b & a).sum()), len(b))
            for b, a in zip(born, end)]


@dataclass(frozen=True, eq=False)
class StepTrace:
    """The size of every update of each hidden weight matrix W_l in one run.

    ``relative[t, k, l]`` = ‖W_l(t+1) − W_l(t)‖ / ‖W_l(t)‖ (Frobenius
    norms) for step t, member k (one for a single model) and hidden layer l;
    ``norm[t, k, l]`` = ‖W_l(t)‖, one row longer than ``relative`` (the last
    row is the trained weights). ``histories``: one History per member. A
    member that stopped early (diverged) has relative size 0 from then on.
    Dying ReLU chapter (batch norm's smaller steps)."""

    histories: list
    relative: np.ndarray
    norm: np.ndarray


def _hidden_weights(model) -> list[torch.Tensor]:
    """Each hidden layer's weight tensor with a leading member axis."""
    if isinstance(model, models.MLPEnsemble):
        return list(model.weights)[:-1]          # (K, fan_in, fan_out)
    if isinstance(model, models.MLP):
        return [lin.weight[None] for lin in model.linears]  # (1, out, in)
    raise TypeError(f"model must be a rectified.models.MLP or MLPEnsemble, "
                    f"got {type(model).__name__}")


def _member_norms(weights: list[torch.Tensor]) -> np.ndarray:
    """(K, layers) Frobenius norms of each member's hidden weights."""
    return np.stack([w.detach().flatten(1).norm(dim=1).cpu().numpy()
                     for w in weights], axis=1)


def trace_steps(model: nn.Module, data, cfg) -> StepTrace:
    """Train an MLP (or an MLPEnsemble, one config per member) like
    :func:`rectified.train.train`, one step at a time through
    :class:`rectified.train.Trainer`, and keep each step's size relative to
    the hidden weights it changes (:class:`StepTrace`). Batch norm before a
    ReLU makes a unit blind to the scale of its incoming weights, so as they
    grow the same learning rate moves them by a smaller fraction. Dying ReLU
    chapter."""
    from . import train

    weights = _hidden_weights(model)
    trainer = train.Trainer(model, data, cfg)
    norms, relative = [_member_norms(weights)], []
    tiny = np.finfo(np.float32).tiny
    while not trainer.finished:
        before = [w.detach().clone() for w in weights]
        trainer.step(1)
        change = _member_norms([w.detach() - b
                                for w, b in zip(weights, before)])
        relative.append(change / np.maximum(norms[-1], tiny))
        norms.append(_member_norms(weights))
    return StepTrace(trainer.histories,
                     np.array(relative).reshape(-1, *norms[0].shape),
                     np.array(norms))
