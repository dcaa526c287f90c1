"""Floating-point precision and the kink at zero: exact zeros, ReLU'(0), low-precision runs.

A ReLU's derivative at exactly 0 is a free choice in [0, 1]. Whether that choice can
change anything depends on how often a pre-activation is *exactly* 0, which depends on
the number format (float64, float32, float16, bfloat16) and on where the rounding
happens. This module counts exact zeros in real forward passes, compares the gradients
that backpropagation returns for two choices of ReLU'(0), and trains the same network
from the same weights with each choice.

    >>> net = models.SmallCNN(seed=0)
    >>> count_exact_zeros(net, X, "bfloat16")                 # per layer: (zeros, total)
    >>> compare_gradients(net, X, y, "float32", grad_at_zero=1.0).n_differ

Chapter: the kink at zero.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import activations, data, models
from .train import PlainSGD, TrainConfig, Trainer

__all__ = [
    "DTYPES", "resolve_dtype", "cast", "relu_modules", "set_relu_grad_at_zero",
    "forward_separate_bias", "ZeroCounter", "count_exact_zeros", "GradientComparison",
    "compare_gradients", "PrecisionRun", "MixedPrecision", "train_in_precision",
    "cancellation_rate",
]

#: The four number formats the chapter compares, with their significand bits (incl. the
#: implicit one): float64 53, float32 24, float16 11, bfloat16 8.
DTYPES = {
    "float64": torch.float64, "float32": torch.float32,
    "float16": torch.float16, "bfloat16": torch.bfloat16,
}


def resolve_dtype(dtype) -> torch.dtype:
    """A name from :data:`DTYPES` or a torch floating dtype → the torch dtype."""
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise ValueError(f"dtype must be one of {', '.join(DTYPES)} (or the torch dtype), "
                     f"got {dtype!r}")


def _dtype_name(dt: torch.dtype) -> str:
    return next(k for k, v in DTYPES.items() if v == dt)


def cast(model: nn.Module, dtype) -> nn.Module:
    """A deep copy of ``model`` with every parameter and buffer in ``dtype``."""
    return copy.deepcopy(model).to(resolve_dtype(dtype))


def relu_modules(model: nn.Module) -> list[nn.Module]:
    """The model's ReLU activation modules (those built from the registry's ``relu``)."""
    return [m for m in model.modules()
            if isinstance(getattr(m, "act", None), activations.Activation)
            and m.act.name == "relu"]


def set_relu_grad_at_zero(model: nn.Module, grad_at_zero: float) -> nn.Module:
    """Make every registry ReLU in ``model`` use ``grad_at_zero`` as ReLU'(0); in place.

    Raises ``ValueError`` when the model has no such ReLU (e.g. a tanh net)."""
    mods = relu_modules(model)
    if not mods:
        raise ValueError(f"{type(model).__name__} has no ReLU activation modules whose "
                         "ReLU'(0) could be set (build it with activation='relu')")
    act = activations.get("relu", grad_at_zero=grad_at_zero)
    for m in mods:
        m.act = act
    return model


def forward_separate_bias(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """An MLP's forward pass with each bias added *after* the matrix product, so that
    z = fl(fl(h Wᵀ) + b) is rounded twice in the working precision (``nn.Linear`` adds
    the bias inside the product's accumulator instead)."""
    if not hasattr(net, "linears") or getattr(net, "batchnorm", None):
        raise TypeError(f"forward_separate_bias needs an MLP without batch norm, "
                        f"got {type(net).__name__}")
    h = x
    for lin, act in zip(net.linears, net.acts):
        h = act(h @ lin.weight.T + lin.bias)
    return net.out(h)


class ZeroCounter:
    """Context manager that counts exact zeros in the inputs of a model's activation
    modules (its pre-activations) during every forward pass inside the block.

    ``zeros[i]`` and ``totals[i]`` accumulate over passes for hidden layer i."""

    def __init__(self, model: nn.Module):
        self.modules = list(getattr(model, "acts", []))
        if not self.modules:
            raise TypeError(f"ZeroCounter needs a model with activation modules in .acts "
                            f"(an MLP or SmallCNN), got {type(model).__name__}")
        self.zeros = [0] * len(self.modules)
        self.totals = [0] * len(self.modules)
        self._handles = []

    def _hook(self, i):
        def hook(_module, inputs, _output):
            z = inputs[0]
            self.zeros[i] += int((z == 0).sum())
            self.totals[i] += z.numel()
        return hook

    def __enter__(self):
        self._handles = [m.register_forward_hook(self._hook(i))
                         for i, m in enumerate(self.modules)]
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        return False

    @property
    def total_zeros(self) -> int:
        return sum(self.zeros)


def _inputs(X, dtype):
    return torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X).to(dtype)


@torch.no_grad()
def count_exact_zeros(model: nn.Module, X, dtype="float32",
                      forward: Callable | None = None) -> list[tuple[int, int]]:
    """Per hidden layer, (number of pre-activations exactly 0, number of pre-activations)
    over the inputs X, with the model and X cast to ``dtype``.

    ``forward(model, x)`` replaces ``model(x)`` (e.g. :func:`forward_separate_bias`)."""
    dt = resolve_dtype(dtype)
    m = cast(model, dt).eval()
    with ZeroCounter(m) as zc:
        (forward or (lambda net, x: net(x)))(m, _inputs(X, dt))
    return list(zip(zc.zeros, zc.totals))


@dataclass
class GradientComparison:
    """Backpropagation with ReLU'(0)=0 and with ReLU'(0)=g on the same minibatches.

    Per batch: ``zeros`` (exact-zero pre-activations, summed over layers), ``rel_diff``
    (‖∇_g − ∇_0‖ / ‖∇_0‖ over all parameters) and ``param_diff`` (the same ratio for each
    parameter tensor, named in ``param_names``). Per hidden layer, over all batches:
    ``layer_zeros`` and ``layer_totals`` (pre-activations). ``n_differ`` counts batches
    whose two gradients are not bitwise equal."""

    dtype: str
    grad_at_zero: float
    zeros: list = field(default_factory=list)
    rel_diff: list = field(default_factory=list)
    param_names: list = field(default_factory=list)
    param_diff: list = field(default_factory=list)
    layer_zeros: list = field(default_factory=list)
    layer_totals: list = field(default_factory=list)

    @property
    def n_preactivations(self) -> int:
        return int(sum(self.layer_totals))

    @property
    def n_batches(self) -> int:
        return len(self.rel_diff)

    @property
    def n_differ(self) -> int:
        return int(sum(d > 0 for d in self.rel_diff))

    @property
    def fraction_differ(self) -> float:
        return self.n_differ / self.n_batches if self.n_batches else math.nan


def _grads(model, loss):
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [(torch.zeros_like(p) if g is None else g).reshape(-1).double()
            for p, g in zip(params, grads)]


def compare_gradients(model: nn.Module, X, y, dtype="float32", grad_at_zero: float = 1.0,
                      batch_size: int | None = 64, forward: Callable | None = None,
                      ) -> GradientComparison:
    """For each consecutive minibatch of (X, y), backpropagate the cross-entropy in
    ``dtype`` once with ReLU'(0)=0 and once with ReLU'(0)=``grad_at_zero``, from the same
    weights, and record how much the two gradients differ (Bertoin et al. 2021)."""
    dt = resolve_dtype(dtype)
    name = _dtype_name(dt)
    activations.get("relu", grad_at_zero=grad_at_zero)   # validate
    m0 = set_relu_grad_at_zero(cast(model, dt).eval(), 0.0)
    m1 = set_relu_grad_at_zero(cast(model, dt).eval(), grad_at_zero)
    fwd = forward or (lambda net, x: net(x))
    X = _inputs(X, dt)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long()
    n = len(X)
    bs = n if batch_size is None else batch_size
    out = GradientComparison(name, float(grad_at_zero))
    out.param_names = [k for k, p in m0.named_parameters() if p.requires_grad]
    for start in range(0, n, bs):
        xb, yb = X[start:start + bs], y[start:start + bs]
        with ZeroCounter(m0) as zc:
            g0 = _grads(m0, nn.functional.cross_entropy(fwd(m0, xb), yb))
        g1 = _grads(m1, nn.functional.cross_entropy(fwd(m1, xb), yb))
        out.zeros.append(zc.total_zeros)
        if not out.layer_totals:
            out.layer_zeros, out.layer_totals = [0] * len(zc.zeros), [0] * len(zc.zeros)
        out.layer_zeros = [a + b for a, b in zip(out.layer_zeros, zc.zeros)]
        out.layer_totals = [a + b for a, b in zip(out.layer_totals, zc.totals)]
        out.param_diff.append([float((b - a).norm() / a.norm().clamp_min(1e-300))
                               for a, b in zip(g0, g1)])
        a, b = torch.cat(g0), torch.cat(g1)
        out.rel_diff.append(float((b - a).norm() / a.norm().clamp_min(1e-300)))
    return out


@dataclass
class PrecisionRun:
    """One training run in a given precision: at the end of each epoch the loss on the
    whole training set and the test accuracy, the number of steps whose forward pass met an
    exact zero, and the final weights (float64, flattened) for comparing runs."""

    dtype: str
    grad_at_zero: float
    loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    steps_with_zero: int = 0
    steps: int = 0
    weights: np.ndarray | None = None


class _Call(nn.Module):
    """``forward(net, x)`` as a module, so that ``functional_call`` can run it with other
    weights."""

    def __init__(self, net: nn.Module, forward: Callable | None):
        super().__init__()
        self.net = net
        self.forward_fn = forward

    def forward(self, x):
        return self.net(x) if self.forward_fn is None else self.forward_fn(self.net, x)


class MixedPrecision(nn.Module):
    """A model that computes in ``dtype`` from master weights kept in float32 (float64 for
    float64), as in mixed-precision training (Micikevicius et al. 2018).

    Each forward pass rounds the master weights and the inputs to ``dtype`` and runs there,
    so backpropagation happens in ``dtype`` and the gradients reach the master weights
    (``parameters()``) in float32, where the optimiser updates them. ReLU'(0) is
    ``grad_at_zero``; ``forward(net, x)`` replaces ``net(x)`` (e.g.
    :func:`forward_separate_bias`). ``steps_with_zero`` counts the training-mode passes
    (one per step) that met an exact-zero pre-activation. ``model`` is not modified.
    Kink-at-zero chapter.
    """

    def __init__(self, model: nn.Module, dtype, grad_at_zero: float = 0.0,
                 forward: Callable | None = None):
        super().__init__()
        self.dtype = resolve_dtype(dtype)
        if next(model.buffers(), None) is not None:
            raise TypeError(f"MixedPrecision needs a model without buffers (no batch norm), "
                            f"got {type(model).__name__}")
        master = torch.float64 if self.dtype == torch.float64 else torch.float32
        net = set_relu_grad_at_zero(cast(model, master), grad_at_zero)
        self.body = _Call(net, forward)
        self.steps_with_zero = 0

    def forward(self, x):
        weights = {name: p.to(self.dtype) for name, p in self.body.named_parameters()}
        with ZeroCounter(self.body.net) as zc:
            out = torch.func.functional_call(self.body, weights, (x.to(self.dtype),))
        if self.training:
            self.steps_with_zero += zc.total_zeros > 0
        return out


def train_in_precision(model: nn.Module, data, dtype="float32", grad_at_zero: float = 0.0,
                       lr: float = 0.05, epochs: int = 3, batch_size: int = 64,
                       seed: int = 0, forward: Callable | None = None) -> PrecisionRun:
    """Minibatch SGD (:func:`rectified.train.train`) with the forward and backward passes in
    ``dtype``: float16 and bfloat16 runs keep float32 master weights
    (:class:`MixedPrecision`), float64 and float32 runs keep their weights in their own
    format. ``model`` is not modified.

    The update is :class:`~rectified.train.PlainSGD`'s W ← W − lr·g, lr·g rounded before it
    is subtracted (torch's SGD fuses the two and rounds once), as the chapter's runs do."""
    net = MixedPrecision(model, dtype, grad_at_zero, forward)
    cfg = TrainConfig(lr=lr, epochs=epochs, batch_size=batch_size, seed=seed,
                      diagnostics=False)
    trainer = Trainer(net, data, cfg, optimizer=PlainSGD(net.parameters(), lr=lr)).run()
    hist = trainer.history
    return PrecisionRun(
        _dtype_name(net.dtype), float(grad_at_zero), loss=hist.loss[1:],
        test_acc=hist.test_acc[1:], steps_with_zero=net.steps_with_zero,
        steps=trainer.step_count,
        weights=torch.cat([p.detach().reshape(-1).double() for p in net.parameters()]).numpy())


def cancellation_rate(dtype, n: int = 1_000_000, scale: float = 0.1, seed: int = 0) -> float:
    """Fraction of pairs (a, b) with a ~ N(0, 1) and b ~ N(0, scale²), both rounded to
    ``dtype``, whose rounded sum fl(a + b) is exactly 0: roughly the density of a at 0
    times the spacing of ``dtype`` numbers near b, i.e. about 2^-(significand bits)."""
    dt = resolve_dtype(dtype)
    rng = np.random.default_rng(seed)
    a = torch.as_tensor(rng.standard_normal(n)).to(dt)
    b = torch.as_tensor(scale * rng.standard_normal(n)).to(dt)
    return float(((a + b) == 0).double().mean())


# --- The chapter's experiment: exact zeros and ReLU'(0) on one minibatch --------------------

#: The networks :class:`KinkState` can name.
KINK_NETWORKS = ("cnn", "mlp-separate", "mlp-fused")


@dataclass(frozen=True)
class KinkState:
    """One network, one number format, one choice of ReLU'(0).

    network: ``"cnn"`` (SmallCNN on raw 8×8 digits, whose blank pixels are exact zeros),
    ``"mlp-separate"`` (64-64-64-10 MLP on standardised digits, each bias added after the
    matrix product in the working precision) or ``"mlp-fused"`` (the same MLP through
    ``nn.Linear``, which adds the bias inside the product). ``bias_init`` sets every hidden
    bias at initialisation; ``n_examples`` training digits form one minibatch.
    """

    network: str = "cnn"
    dtype: str = "float32"
    grad_at_zero: float = 1.0
    bias_init: float = 0.0
    n_examples: int = 256
    seed: int = 0


@dataclass(frozen=True)
class KinkResult:
    """Per hidden layer, exact-zero pre-activations out of all; per parameter tensor (named
    in ``param_names``, short labels in ``param_labels``), ‖∇_g − ∇_0‖/‖∇_0‖."""

    network: str
    dtype: str
    grad_at_zero: float
    bias_init: float
    layer_zeros: tuple
    layer_totals: tuple
    param_names: tuple
    param_labels: tuple
    param_diff: tuple
    gradients_differ: bool   # whether the two gradients are not bitwise equal


def _param_label(name: str) -> str:
    """'linears.0.weight' → 'layer 1 W', 'convs.1.bias' → 'conv 2 b', 'out.weight' → 'out W'."""
    parts = name.split(".")
    kind = {"weight": "W", "bias": "b"}.get(parts[-1], parts[-1])
    if len(parts) == 3:
        layer = {"linears": "layer", "convs": "conv"}.get(parts[0], parts[0])
        return f"{layer} {int(parts[1]) + 1} {kind}"
    return f"{parts[0]} {kind}"


def compute_kink(state: KinkState) -> KinkResult:
    """:func:`compare_gradients` on one minibatch of ``n_examples`` training digits: how many
    pre-activations are exactly 0, and how much ReLU'(0) = g changes each parameter's
    gradient against ReLU'(0) = 0. Kink-at-zero chapter."""
    if not isinstance(state, KinkState):
        raise TypeError(f"state must be a KinkState, got {type(state).__name__}")
    if state.network not in KINK_NETWORKS:
        raise ValueError(f"unknown network {state.network!r}; known: {', '.join(KINK_NETWORKS)}")
    resolve_dtype(state.dtype)
    if not isinstance(state.n_examples, int) or isinstance(state.n_examples, bool) \
            or state.n_examples < 1:
        raise ValueError(f"n_examples must be a positive int, got {state.n_examples!r}")
    if isinstance(state.bias_init, bool) or not isinstance(state.bias_init, (int, float)) \
            or not math.isfinite(state.bias_init):
        raise ValueError(f"bias_init must be a finite number, got {state.bias_init!r}")
    if state.network == "cnn":
        ds = data.digits(standardize=False, images=True)
        net = models.SmallCNN(seed=state.seed)
        with torch.no_grad():
            for conv in net.convs:
                conv.bias.fill_(state.bias_init)
        forward = None
    else:
        ds = data.digits()
        net = models.MLP(64, [64, 64], 10, bias_init=state.bias_init, seed=state.seed)
        forward = forward_separate_bias if state.network == "mlp-separate" else None
    X, y = ds.X_train[:state.n_examples], ds.y_train[:state.n_examples]
    cmp = compare_gradients(net, X, y, state.dtype, state.grad_at_zero, batch_size=None,
                            forward=forward)
    return KinkResult(
        network=state.network, dtype=cmp.dtype, grad_at_zero=cmp.grad_at_zero,
        bias_init=float(state.bias_init), layer_zeros=tuple(cmp.layer_zeros),
        layer_totals=tuple(cmp.layer_totals), param_names=tuple(cmp.param_names),
        param_labels=tuple(_param_label(n) for n in cmp.param_names),
        param_diff=tuple(cmp.param_diff[0]), gradients_differ=cmp.n_differ > 0)


__all__ += ["KINK_NETWORKS", "KinkState", "KinkResult", "compute_kink"]


# --- A dead channel keeps its exact zeros: ReLU'(0) over a whole run ---------

__all__ += ["image_patches", "born_dead_channels", "DeadChannelState",
            "DeadChannelResult", "compute_dead_channels"]


def image_patches(X) -> torch.Tensor:
    """The distinct 3×3 patches of images ``X`` (N, 1, H, W) with zero padding
    1, one per row (P, 9): what a 3×3 convolution with padding 1 sees.
    Kink-at-zero chapter."""
    x = X if isinstance(X, torch.Tensor) else np.asarray(X)
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"X must hold one-channel images of shape "
                         f"(N, 1, H, W), got shape {tuple(x.shape)}")
    cols = nn.functional.unfold(x, 3, padding=1)          # (N, 9, H·W)
    return torch.unique(cols.transpose(1, 2).reshape(-1, 9), dim=0)


def _dead_on(patches: torch.Tensor, weight, bias) -> torch.Tensor:
    """Per channel: True when w·p + b ≤ 0 for every patch p (never positive).

    A sample of every 64th patch rules out most channels first; the channels
    it leaves are checked on all patches, so the answer is exact."""
    w = weight.detach().reshape(weight.shape[0], -1).to(patches.dtype)
    b = bias.detach().to(patches.dtype)
    dead = ~((patches[::64] @ w.T + b) > 0).any(dim=0)
    if dead.any():
        idx = dead.nonzero().ravel()
        dead[idx] = ~((patches @ w[idx].T + b[idx]) > 0).any(dim=0)
    return dead


def born_dead_channels(X, seeds, **cnn_kwargs) -> dict[int, tuple[int, ...]]:
    """For each seed, the first-layer channels of
    ``SmallCNN(seed=seed, **cnn_kwargs)`` that are dead at initialisation:
    w·p + b ≤ 0 for every 3×3 patch p of the images ``X``. Seeds with no such
    channel are left out. With non-negative pixels and a zero bias, a channel
    whose nine weights are all ≤ 0 is dead (chance 2⁻⁹ per channel).
    Kink-at-zero chapter."""
    patches = image_patches(X)
    found = {}
    for seed in seeds:
        conv = models.SmallCNN(seed=seed, **cnn_kwargs).convs[0]
        dead = _dead_on(patches, conv.weight, conv.bias).nonzero().ravel()
        if len(dead):
            found[int(seed)] = tuple(int(c) for c in dead)
    return found


@dataclass(frozen=True)
class DeadChannelState:
    """SmallCNNs on raw digit pixels that are born with a dead first-layer
    channel, each trained twice from the same weights and minibatches, with
    ReLU'(0) = 0 and = 1.

    Seeds 0 .. ``draws`` − 1 are searched; the first ``n_nets`` nets found are
    trained by :func:`train_in_precision` in ``dtype`` (plain SGD at ``lr``).
    """

    n_nets: int = 5
    draws: int = 1000
    dtype: str = "float32"
    lr: float = 0.02
    epochs: int = 3
    batch_size: int = 64


@dataclass(frozen=True)
class DeadChannelResult:
    """What the born-dead channels did, per trained net (tuples in the order
    of ``seeds``), for each ReLU'(0) in ``grads`` (dict keys 0.0 and 1.0).

    ``found``: every seed searched that has a dead channel, with its channels.
    ``steps_with_zero``: training steps whose forward pass met an exact zero.
    ``unchanged``: the dead channels' weights and biases are bit-identical to
    their initial values after the run. ``final_bias``: those channels'
    biases at the end. ``still_dead``: every one of them is still never
    positive on the training images. ``weight_gap``: ‖θ₁ − θ₀‖/‖θ₀‖ between
    the final weights of the two runs."""

    draws: int
    found: dict
    seeds: tuple
    channels: tuple
    grads: tuple
    steps: int
    steps_with_zero: dict
    unchanged: dict
    final_bias: dict
    still_dead: dict
    test_acc: dict
    weight_gap: tuple


def _check_state_int(name, value, least=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{name} must be an int >= {least}, got {value!r}")


def compute_dead_channels(state: DeadChannelState) -> DeadChannelResult:
    """Search for SmallCNNs with a first-layer channel dead from
    initialisation and train each with ReLU'(0) = 0 and = 1
    (:class:`DeadChannelState`).

    With ReLU'(0) = 0 such a channel receives no gradient, so its weights and
    its zero bias never move and its blank-patch pre-activations stay exactly
    0 at every step; with ReLU'(0) = 1 those zeros pass gradient to the bias.
    Kink-at-zero chapter."""
    if not isinstance(state, DeadChannelState):
        raise TypeError(f"state must be a DeadChannelState, "
                        f"got {type(state).__name__}")
    for name in ("n_nets", "draws", "epochs", "batch_size"):
        _check_state_int(name, getattr(state, name))
    resolve_dtype(state.dtype)
    ds = data.digits(standardize=False, images=True)
    found = born_dead_channels(ds.X_train, range(state.draws))
    seeds = tuple(sorted(found))[:state.n_nets]
    patches = image_patches(ds.X_train).double()
    grads = (0.0, 1.0)
    keys = ("steps_with_zero", "unchanged", "final_bias", "still_dead",
            "test_acc")
    out = {k: {g: [] for g in grads} for k in keys}
    gaps, steps = [], 0
    for seed in seeds:
        init = models.SmallCNN(seed=seed)
        ch = list(found[seed])
        w0 = init.convs[0].weight.detach()[ch].double()
        b0 = init.convs[0].bias.detach()[ch].double()
        finals = []
        for g in grads:
            run = train_in_precision(init, ds, state.dtype, g, lr=state.lr,
                                     epochs=state.epochs,
                                     batch_size=state.batch_size, seed=seed)
            net = models.SmallCNN(seed=seed).double()
            torch.nn.utils.vector_to_parameters(torch.as_tensor(run.weights),
                                                net.parameters())
            conv = net.convs[0]
            w, b = conv.weight.detach()[ch], conv.bias.detach()[ch]
            same = bool(torch.equal(w, w0) and torch.equal(b, b0))
            out["steps_with_zero"][g].append(run.steps_with_zero)
            out["unchanged"][g].append(same)
            out["final_bias"][g].append(tuple(float(v) for v in b))
            out["still_dead"][g].append(bool(_dead_on(patches, w, b).all()))
            out["test_acc"][g].append(float(run.test_acc[-1]))
            finals.append(run.weights)
            steps = run.steps
        gaps.append(float(np.linalg.norm(finals[1] - finals[0])
                          / np.linalg.norm(finals[0])))
    tup = {k: {g: tuple(v) for g, v in d.items()} for k, d in out.items()}
    return DeadChannelResult(
        draws=state.draws, found=found, seeds=seeds,
        channels=tuple(found[s] for s in seeds), grads=grads, steps=steps,
        steps_with_zero=tup["steps_with_zero"], unchanged=tup["unchanged"],
        final_bias=tup["final_bias"], still_dead=tup["still_dead"],
        test_acc=tup["test_acc"], weight_gap=tuple(gaps))
