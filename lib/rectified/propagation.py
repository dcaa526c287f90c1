"""Signal propagation through depth: how the forward signal and the back-propagated gradient
change from one hidden layer of an MLP to the next, and what initialisation theory predicts.

    >>> prof = layer_profile(model, X, y)        # one forward and one backward pass
    >>> prof.pre_var, prof.backprop               # per hidden layer, input side first

The forward quantity is the variance of each layer's pre-activation z_l (what He et al. 2015
keep constant); the backward one is the norm of ∂loss/∂z_l (what vanishes or explodes).
Chapter: why ReLU beat sigmoid and tanh, part 1 (gradients, depth and initialisation).

Three experiments (``compute_x(state) -> result``, drawn by ``plots.draw_x``):
:func:`compute_gradient_flow` (signal and gradient per layer of a fresh MLP, why-ReLU
part 1), :func:`compute_activation_signal` (an activation's curve and the mean and variance
it keeps through a random net, rectifier family chapter) and :func:`compute_activation`
(one activation's curve and derivative, for readers' own notebooks).

Why-ReLU part 1 also trains: :func:`compute_deep_training` runs one arm of a
comparison (an activation and an init, every seed at every learning rate of a
grid, the rate tuned by :func:`rectified.compare.tune_lr`). And
:func:`zero_derivative_onset` finds where a saturating unit's derivative,
computed in floating point, becomes exactly zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch
from torch import nn

from . import activations, data, diagnostics, models, moments
from .train import loss_function

__all__ = ["LayerProfile", "layer_profile", "unit_activation_rates", "cosine_similarity",
           "layer_cosine_similarity", "relu_correlation_map",
           "GradientFlowState", "GradientFlowResult", "compute_gradient_flow",
           "ActivationState", "ActivationCurve", "compute_activation",
           "ActivationSignalState", "ActivationSignalResult", "compute_activation_signal"]


@dataclass(frozen=True)
class LayerProfile:
    """Per hidden layer (input side first) statistics of an MLP on one batch.

    ``weight_grad`` has one more entry than the others: the output layer comes last.
    """

    pre_var: np.ndarray       # Var(z_l) over inputs and units
    act_mean: np.ndarray      # mean of the layer's output f(z_l)
    active: np.ndarray        # fraction of (input, unit) pairs with z_l > 0
    backprop: np.ndarray      # ‖∂loss/∂z_l‖ (Frobenius norm over the batch)
    weight_grad: np.ndarray   # ‖∂loss/∂W_l‖ for every weight layer
    loss: float

    @property
    def depth(self) -> int:
        return len(self.pre_var)

    @property
    def backprop_ratio(self) -> float:
        """‖∂loss/∂z_1‖ / ‖∂loss/∂z_L‖: below 1 the gradient shrinks toward the input."""
        return float(self.backprop[0] / self.backprop[-1])


def _inputs(model, X, y, loss):
    device = next(model.parameters()).device
    X = X if isinstance(X, torch.Tensor) else torch.as_tensor(np.asarray(X), dtype=torch.float32)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(np.asarray(y),
                            dtype=torch.int64 if loss == "cross_entropy" else torch.float32)
    return X.to(device), y.to(device)


def layer_profile(model: nn.Module, X, y, loss: str = "cross_entropy") -> LayerProfile:
    """Forward and backward statistics of every hidden layer of an MLP on (X, y), in eval
    mode, without touching the parameters' ``.grad``."""
    if not hasattr(model, "forward_hidden") or not hasattr(model, "weight_layers"):
        raise TypeError(f"model must be an MLP (forward_hidden and weight_layers), "
                        f"got {type(model).__name__}")
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss must be 'cross_entropy' or 'mse', got {loss!r}")
    X, y = _inputs(model, X, y, loss)
    weights = [layer.weight for layer in model.weight_layers]
    with models.eval_mode(model), torch.enable_grad():
        out, pres, posts = model.forward_hidden(X)
        value = loss_function(loss)(out, y)
        grads = torch.autograd.grad(value, [*pres, *weights])
    n = len(pres)
    return LayerProfile(
        pre_var=np.array([float(z.detach().var()) for z in pres]),
        act_mean=np.array([float(h.detach().mean()) for h in posts]),
        active=np.array([float((z.detach() > 0).float().mean()) for z in pres]),
        backprop=np.array([float(g.norm()) for g in grads[:n]]),
        weight_grad=np.array([float(g.norm()) for g in grads[n:]]),
        loss=float(value.detach()),
    )


def unit_activation_rates(model: nn.Module, X) -> list[np.ndarray]:
    """Per hidden layer, each unit's fraction of the inputs X for which its pre-activation
    is > 0 (0: off for every input, 1: on for every input)."""
    return [(z > 0).float().mean(dim=0).cpu().numpy()
            for z in diagnostics.pre_activations(model, X)]


def cosine_similarity(H) -> np.ndarray:
    """The matrix of cosine similarities ⟨h_i, h_j⟩ / (‖h_i‖ ‖h_j‖) between the rows of H
    (a zero row has similarity 0 with everything). Computed in float64 by torch."""
    H = H.detach().cpu() if isinstance(H, torch.Tensor) else torch.as_tensor(np.asarray(H))
    H = H.double()
    if H.ndim != 2:
        raise ValueError(f"cosine_similarity needs a 2-D array (rows = inputs), got shape "
                         f"{tuple(H.shape)}")
    norms = H.norm(dim=1, keepdim=True)
    unit = H / torch.where(norms > 0, norms, torch.ones_like(norms))
    return (unit @ unit.T).numpy()


def _mean_off_diagonal(C) -> float:
    n = len(C)
    return float((C.sum() - np.trace(C)) / (n * (n - 1)))


def layer_cosine_similarity(model: nn.Module, X) -> np.ndarray:
    """Per hidden layer, the mean cosine similarity between the pre-activation vectors of
    two different inputs of X (1: every input gives the same direction)."""
    if len(X) < 2:
        raise ValueError(f"need at least two inputs, got {len(X)}")
    return np.array([_mean_off_diagonal(cosine_similarity(z)) for z in
                     diagnostics.pre_activations(model, X)])


def relu_correlation_map(rho):
    """How a ReLU layer with zero biases and He-scaled Gaussian weights maps the cosine
    similarity ρ of two pre-activation vectors to that of the next layer (wide limit):

        ρ' = (√(1 − ρ²) + (π − arccos ρ) ρ) / π       (Cho & Saul 2009, degree 1)

    ρ' ≥ ρ with equality only at ρ = 1, so iterating it drives every pair toward 1.
    """
    rho = np.clip(np.asarray(rho, dtype=float), -1.0, 1.0)
    return (np.sqrt(1 - rho ** 2) + (np.pi - np.arccos(rho)) * rho) / np.pi


def _check_state(state, cls):
    if not isinstance(state, cls):
        raise TypeError(f"state must be a {cls.__name__}, got {type(state).__name__}")


def _check_real(name: str, value, allowed: str = "a finite number") -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def _check_interval(lo, hi) -> None:
    _check_real("lo", lo)
    _check_real("hi", hi)
    if not lo < hi:
        raise ValueError(f"lo must be < hi, got lo={lo!r}, hi={hi!r}")


# --- Why-ReLU part 1: depth, activation and init scale → per-layer signal and gradient -------

@dataclass(frozen=True)
class GradientFlowState:
    """A freshly initialised MLP of ``depth`` hidden layers of ``width`` units on 256 digits:
    its activation, initialisation (see :data:`rectified.models.INITS`) and a factor
    ``init_scale`` on every weight."""

    activation: str = "relu"
    init: str = "he"
    depth: int = 20
    init_scale: float = 1.0
    width: int = 64
    seed: int = 0


@dataclass(frozen=True)
class GradientFlowResult:
    """The net's :class:`LayerProfile` and, unless the net is one, that of ReLU with He init
    (``reference``); ``backprop_ratio`` = ‖∂loss/∂z_1‖ / ‖∂loss/∂z_depth‖."""

    activation: str
    init: str
    init_scale: float
    depth: int
    width: int
    profile: LayerProfile
    reference: LayerProfile | None
    backprop_ratio: float


def compute_gradient_flow(state: GradientFlowState) -> GradientFlowResult:
    """Layer by layer, Var(z_l) and ‖∂loss/∂z_l‖ (:func:`layer_profile`) of a fresh MLP on
    the first 256 training digits, and the same for ReLU with He init.
    Why-ReLU part 1 chapter."""
    _check_state(state, GradientFlowState)
    models.check_positive_int("depth", state.depth, "hidden layers")
    models.check_positive_int("width", state.width, "units per hidden layer")
    _check_real("init_scale", state.init_scale, "a finite number > 0")
    if state.init_scale <= 0:
        raise ValueError(f"init_scale must be a finite number > 0, got {state.init_scale!r}")
    ds = data.digits(seed=0)
    X, y = ds.X_train[:256], ds.y_train[:256]

    def profile(activation, init, scale):
        net = models.MLP(ds.n_features, [state.width] * state.depth, 10, activation=activation,
                         init=init, init_scale=scale, seed=state.seed)
        return layer_profile(net, X, y)

    prof = profile(state.activation, state.init, state.init_scale)
    is_ref = (state.activation, state.init, state.init_scale) == ("relu", "he", 1.0)
    return GradientFlowResult(
        activation=state.activation, init=state.init, init_scale=float(state.init_scale),
        depth=state.depth, width=state.width, profile=prof,
        reference=None if is_ref else profile("relu", "he", 1.0),
        backprop_ratio=prof.backprop_ratio)


# --- Activation explorer: one activation's curve and derivative ------------------------------

@dataclass(frozen=True)
class ActivationState:
    """Which activation to draw on [lo, hi], with its shape parameter
    (``activations.get(name).shape_param``: slope, alpha or beta) where it has one."""

    name: str = "relu"
    param: float | None = None
    derivative: bool = True
    lo: float = -4.0
    hi: float = 4.0


@dataclass(frozen=True)
class ActivationCurve:
    """f and (unless left out) f' of one activation on 801 points, and its kinks."""

    name: str
    formula: str
    param_name: str | None   # the shape parameter that was set, or None
    param: float | None
    x: np.ndarray
    value: np.ndarray
    derivative: np.ndarray | None
    kinks: tuple


def _shape_params(name: str, param) -> tuple[str | None, dict]:
    """The activation's shape parameter and the keyword that sets it to ``param``."""
    if name not in activations.names():
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(activations.names())}")
    key = activations.get(name).shape_param
    if key is None or param is None:
        return None, {}
    return key, {key: _check_real("param", param)}


def compute_activation(state: ActivationState) -> ActivationCurve:
    """f(z) and f'(z) of a registry activation for z on [lo, hi], kinks listed. No chapter
    shows it; it is the explorer for readers' own notebooks."""
    _check_state(state, ActivationState)
    _check_interval(state.lo, state.hi)
    key, params = _shape_params(state.name, state.param)
    act = activations.get(state.name, **params)
    x = np.linspace(state.lo, state.hi, 801)
    return ActivationCurve(act.name, act.formula, key, params.get(key), x, act(x),
                           act.grad(x) if state.derivative else None, tuple(act.kinks))


# --- Rectifier family: an activation's curve and what it does to a signal through depth -----

@dataclass(frozen=True)
class ActivationSignalState:
    """One activation with its shape parameter (Leaky slope, ELU α, SiLU/softplus β; other
    activations ignore ``param``), and the random net it drives: ``depth`` layers of
    ``width`` units, ``init`` weights."""

    name: str = "selu"
    param: float = 1.0
    init: str = "lecun"
    depth: int = 20
    width: int = 128
    seed: int = 0


@dataclass(frozen=True)
class ActivationSignalResult:
    """An activation's curve, one layer's output for z ~ N(0, 1) and the mean and variance
    of each layer's output through a random net (entry 0: the input), measured and, where
    the recursion stays finite, for infinite width (``exact_*``, layers 1 … depth)."""

    curve: ActivationCurve
    init: str
    depth: int
    width: int
    samples: np.ndarray          # f(z) for 20,000 draws z ~ N(0, 1)
    one_layer_mean: float        # E f(z), z ~ N(0, 1)
    one_layer_variance: float    # Var f(z)
    means: np.ndarray
    variances: np.ndarray
    exact_means: np.ndarray | None
    exact_variances: np.ndarray | None
    final_mean: float
    final_variance: float


def compute_activation_signal(state: ActivationSignalState) -> ActivationSignalResult:
    """f and f' on [−4, 4]; E f(z) and Var f(z) for z ~ N(0, 1); the mean and variance of
    each layer's output in a random net of n = 256 inputs, and for infinite width: layer l
    outputs f(z), z ~ N(0, q_l), q_1 = gain, q_{l+1} = gain · E[f(z)²].
    Rectifier family chapter."""
    _check_state(state, ActivationSignalState)
    if state.init not in moments.INIT_GAIN:
        raise ValueError(f"init must be one of {sorted(moments.INIT_GAIN)}, got {state.init!r}")
    models.check_positive_int("depth", state.depth, "hidden layers")
    models.check_positive_int("width", state.width, "units per layer")
    curve = compute_activation(ActivationState(state.name, state.param))
    params = {curve.param_name: curve.param} if curve.param_name else {}
    z = np.random.default_rng(state.seed).standard_normal(20000)
    m1, v1 = moments.gaussian_moments(state.name, **params)
    means, variances = moments.deep_moments(state.name, state.depth, state.width, n=256,
                                            init=state.init, seed=state.seed, **params)
    gain = moments.INIT_GAIN[state.init]
    q = moments.variance_map(state.name, state.depth - 1, gain, gain, **params)
    exact = np.array([moments.gaussian_moments(state.name, 0.0, qq, **params)
                      for qq in q]) if np.all(np.isfinite(q)) and q.max() < 1e12 else None
    return ActivationSignalResult(
        curve=curve, init=state.init, depth=state.depth, width=state.width,
        samples=activations.get(state.name, **params)(z), one_layer_mean=m1,
        one_layer_variance=v1, means=means, variances=variances,
        exact_means=None if exact is None else exact[:, 0],
        exact_variances=None if exact is None else exact[:, 1],
        final_mean=float(means[-1]), final_variance=float(variances[-1]))


# --- Why-ReLU part 1: where a derivative is exactly zero in floating point ---

__all__ += ["FLOAT_DTYPES", "autograd_derivative", "zero_derivative_onset"]

#: The floating-point formats :func:`zero_derivative_onset` knows, by name.
FLOAT_DTYPES = {"float64": torch.float64, "float32": torch.float32,
                "float16": torch.float16, "bfloat16": torch.bfloat16}


def _float_dtype(dtype: str) -> torch.dtype:
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(FLOAT_DTYPES)}, "
                         f"got {dtype!r}")
    return FLOAT_DTYPES[dtype]


def autograd_derivative(activation: str, z,
                        dtype: str = "float32") -> np.ndarray:
    """f'(z) of a registry activation as torch's autograd computes it with z
    and f(z) held in ``dtype``, returned as float64. Why-ReLU part 1."""
    dt = _float_dtype(dtype)
    act = activations.get(activation)
    zt = torch.as_tensor(np.asarray(z, dtype=np.float64)).to(dt)
    zt.requires_grad_(True)
    out = act.torch(zt)
    (grad,) = torch.autograd.grad(out, zt, torch.ones_like(out))
    return grad.double().numpy()


def zero_derivative_onset(activation: str, dtype: str = "float32",
                          side: int = 1) -> float:
    """The smallest |z| on one side of 0 (``side`` +1 or −1) from which the
    derivative :func:`autograd_derivative` computes in ``dtype`` is exactly 0.

    Found by bisection over the numbers ``dtype`` holds, assuming f' stays 0
    beyond the onset: a saturating unit's derivative is computed from its
    output (σ(1 − σ), 1 − tanh²), which stays at its bound once rounded there.
    0.0 when f' is 0 right next to 0 (ReLU's negative side); inf when it is not
    0 anywhere up to the largest number of ``dtype``. Why-ReLU part 1 chapter.
    """
    if side not in (1, -1) or isinstance(side, bool):
        raise ValueError(f"side must be +1 or -1, got {side!r}")
    dt = _float_dtype(dtype)
    info = torch.finfo(dt)

    def zero(r):
        return autograd_derivative(activation, [side * r], dtype)[0] == 0.0

    if zero(info.tiny):
        return 0.0
    lo, hi = info.tiny, 1.0
    while not zero(hi):
        lo, hi = hi, 2 * hi
        if hi > info.max:
            return math.inf
    while True:
        mid = float(torch.tensor((lo + hi) / 2, dtype=dt))
        if not lo < mid < hi:
            return hi
        lo, hi = (lo, mid) if zero(mid) else (mid, hi)


# --- Why-ReLU part 1: deep nets trained from an init, each arm at its own rate

__all__ += ["DeepTrainingState", "DeepTrainingResult", "compute_deep_training"]


@dataclass(frozen=True)
class DeepTrainingState:
    """One arm of a training comparison between activations or initialisations:
    MLPs 64 → ``widths`` → 10 of one activation and init (see
    :data:`rectified.models.INITS`) trained on the digits with ``optimizer`` in
    batches of ``batch_size`` for ``steps`` steps, from every seed at every
    learning rate of ``lrs`` (neighbours at most a factor 2 apart), with a
    record every ``record_every`` steps; at each record the mean output of
    every hidden layer on the first ``watch`` training inputs is kept (0:
    none)."""

    activation: str = "relu"
    init: str = "he"
    widths: tuple = (64,) * 30
    optimizer: str = "momentum"
    lrs: tuple = (0.0015, 0.003, 0.006)
    seeds: tuple = (0, 1, 2, 3, 4)
    steps: int = 150
    batch_size: int = 32
    record_every: int = 50
    watch: int = 512
    max_extensions: int = 3


@dataclass(frozen=True, eq=False)
class DeepTrainingResult:
    """Every run of one arm. ``histories[lr]`` holds one History per seed;
    ``layer_means[lr]`` each hidden layer's mean output on the first
    ``state.watch`` training inputs at every record, shape (records, seeds,
    layers; empty when ``watch`` is 0); ``choice``
    is the rate with the lowest median final training loss, found by
    :func:`rectified.compare.tune_lr` (it widens the grid while the best rate
    sits at an edge)."""

    state: DeepTrainingState
    histories: dict
    layer_means: dict
    choice: object

    @property
    def best_lr(self) -> float:
        return self.choice.best

    @property
    def lrs(self) -> tuple:
        """Every rate that was run, ascending (the grid and its extensions)."""
        return tuple(sorted(self.histories))

    def _runs(self, lr):
        lr = self.best_lr if lr is None else float(lr)
        if lr not in self.histories:
            raise ValueError(f"lr must be one of the rates run, {self.lrs}, "
                             f"got {lr!r}")
        return self.histories[lr]

    def final_loss(self, lr: float | None = None) -> np.ndarray:
        """Each seed's training loss after the last step at rate ``lr``
        (default: the chosen rate); inf for a run that diverged."""
        return np.array([math.inf if h.diverged else h.loss[-1]
                         for h in self._runs(lr)])

    def final_accuracy(self, lr: float | None = None) -> np.ndarray:
        """Each seed's training accuracy at the last record at rate ``lr``."""
        return np.array([h.train_acc[-1] for h in self._runs(lr)])

    def curves(self, field: str = "loss", lr: float | None = None):
        """(steps, values of shape (seeds, records)) of a History field at rate
        ``lr``; runs that diverged are left out."""
        runs = [h for h in self._runs(lr) if not h.diverged]
        return (np.asarray(runs[0].step) if runs else np.array([]),
                np.array([getattr(h, field) for h in runs]))


def _deep_training_checks(state) -> None:
    _check_state(state, DeepTrainingState)
    if state.activation not in activations.names():
        raise ValueError(f"unknown activation {state.activation!r}; known: "
                         f"{', '.join(activations.names())}")
    if state.init not in models.INITS:
        raise ValueError(f"unknown init {state.init!r}; known inits: "
                         f"{', '.join(models.INITS)}")
    for name in ("steps", "batch_size", "record_every"):
        models.check_positive_int(name, getattr(state, name))
    if isinstance(state.watch, bool) or not isinstance(state.watch, int) or \
            state.watch < 0:
        raise ValueError(f"watch must be an int >= 0 (inputs), got "
                         f"{state.watch!r}")
    if not state.widths:
        raise ValueError("widths must name at least one hidden layer, got ()")
    for w in state.widths:
        models.check_positive_int("widths", w, "units per hidden layer")
    if not state.seeds or len(set(state.seeds)) != len(state.seeds):
        raise ValueError(f"seeds must be distinct and at least one, got "
                         f"{state.seeds!r}")


def compute_deep_training(state: DeepTrainingState,
                          dataset: data.Dataset | None = None
                          ) -> DeepTrainingResult:
    """Train one arm at every rate of its grid and every seed, one batched
    :class:`~rectified.models.MLPEnsemble` per set of rates, on ``dataset``
    (default: the digits, seed 0); choose its rate by the median final training
    loss, widening the grid while the best rate is at an edge. Why-ReLU part 1
    chapter (the saturating top layer; Xavier against He at 30 layers)."""
    from . import compare, train

    _deep_training_checks(state)
    ds = data.digits(seed=0) if dataset is None else dataset
    watch = torch.as_tensor(np.asarray(ds.X_train[:state.watch]),
                            dtype=torch.float32)
    histories, layer_means = {}, {}

    def evaluate(lrs):
        grid = [(float(lr), s) for lr in lrs for s in state.seeds]
        nets = [models.MLP(ds.X_train.shape[1], list(state.widths),
                           ds.n_classes, activation=state.activation,
                           init=state.init, seed=s)
                for _, s in grid]
        cfgs = [train.TrainConfig(optimizer=state.optimizer, lr=lr, seed=s,
                                  steps=state.steps,
                                  batch_size=state.batch_size,
                                  record_every=state.record_every,
                                  diagnostics=False)
                for lr, s in grid]
        means = []

        def keep_means(model, _):
            with torch.no_grad():
                _, _, posts = model.forward_hidden(watch)
            means.append(torch.stack([h.mean(dim=(1, 2)) for h in posts],
                                     dim=1).numpy())

        hists = train.train(models.MLPEnsemble(nets), ds, cfgs, test=False,
                            on_record=keep_means if state.watch else None)
        means = np.array(means).reshape(-1, len(grid), len(state.widths))
        n = len(state.seeds)
        for i, lr in enumerate(map(float, lrs)):
            histories[lr] = hists[i * n:(i + 1) * n]
            layer_means[lr] = means[:, i * n:(i + 1) * n]
        return {float(lr): [math.inf if h.diverged else h.loss[-1]
                            for h in histories[float(lr)]] for lr in lrs}

    choice = compare.tune_lr(evaluate, state.lrs, lower_is_better=True,
                             max_extensions=state.max_extensions)
    return DeepTrainingResult(state, histories, layer_means, choice)
