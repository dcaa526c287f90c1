"""Activation functions: numpy value and derivative, torch counterpart, one registry.

Every activation in the book lives here once. Each entry pairs a numpy reference
(value and hand-written derivative) with a torch implementation of the same formula;
the tests check them against each other and against finite differences.

    >>> from rectified import activations as A
    >>> relu = A.get("relu", grad_at_zero=0.5)
    >>> relu(np.array([-1.0, 0.0, 2.0])), relu.grad(np.array([-1.0, 0.0, 2.0]))
    (array([0., 0., 2.]), array([0. , 0.5, 1. ]))

Chapters: the rectifier family (gallery), the kink at zero (``grad_at_zero``),
maxout (:func:`maxout`), ReLU today (ReLU6, hard-swish, squared ReLU).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from scipy import special

__all__ = [
    "Activation", "get", "names", "parameters", "torch_module", "check_groups",
    "relu", "relu_grad", "leaky_relu", "leaky_relu_grad", "prelu", "prelu_grad",
    "prelu_grad_alpha", "elu", "elu_grad", "selu", "selu_grad", "softplus", "softplus_grad",
    "gelu", "gelu_grad", "gelu_tanh", "gelu_tanh_grad", "silu", "silu_grad",
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "abs_", "abs_grad", "linear", "linear_grad",
    "maxout", "maxout_grad", "maxout_torch", "relu_torch", "relu6", "relu6_grad",
    "hard_sigmoid", "hard_swish", "hard_swish_grad", "relu2", "relu2_grad",
    "SELU_ALPHA", "SELU_SCALE",
]

#: SELU constants (Klambauer et al. 2017), to the precision torch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_C = 0.044715


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))


def _check_grad_at_zero(grad_at_zero: float, lo: float, hi: float, name: str) -> float:
    if not isinstance(grad_at_zero, (int, float, np.floating)) or isinstance(grad_at_zero, bool):
        raise TypeError(f"grad_at_zero must be a number, got {grad_at_zero!r}")
    if not lo <= grad_at_zero <= hi:
        raise ValueError(
            f"grad_at_zero={grad_at_zero!r} is not a subgradient of {name} at 0; "
            f"allowed values lie in [{lo}, {hi}] (e.g. 0, 0.5 or 1 for ReLU)"
        )
    return float(grad_at_zero)


# --- ReLU and its piecewise-linear relatives -------------------------------------------

def relu(x):
    """ReLU, max(0, x)."""
    x = _arr(x)
    return np.maximum(x, 0).astype(x.dtype)


def relu_grad(x, grad_at_zero: float = 0.0):
    """ReLU's derivative: 0 for x < 0, 1 for x > 0, and ``grad_at_zero`` (any value in the
    subdifferential [0, 1]) at exactly 0. The kink at zero chapter compares the choices."""
    g = _check_grad_at_zero(grad_at_zero, 0.0, 1.0, "relu")
    x = _arr(x)
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, g)).astype(x.dtype)


def leaky_relu(x, slope: float = 0.01):
    """Leaky ReLU, x for x > 0 and slope·x otherwise (Maas et al. 2013)."""
    x = _arr(x)
    return np.where(x > 0, x, slope * x).astype(x.dtype)


def leaky_relu_grad(x, slope: float = 0.01):
    """Leaky ReLU's derivative; at 0 it returns ``slope``, as torch does."""
    x = _arr(x)
    return np.where(x > 0, 1.0, slope).astype(x.dtype)


def prelu(x, alpha=0.25):
    """PReLU (He et al. 2015): leaky ReLU whose slope α is learned; α broadcasts over x."""
    return leaky_relu(x, np.asarray(alpha))


def prelu_grad(x, alpha=0.25):
    """∂PReLU/∂x: 1 for x > 0, α otherwise."""
    return leaky_relu_grad(x, np.asarray(alpha))


def prelu_grad_alpha(x):
    """∂PReLU/∂α = min(x, 0): only negative inputs teach the slope (rectifier family chapter)."""
    x = _arr(x)
    return np.minimum(x, 0).astype(x.dtype)


def abs_(x):
    """Absolute-value rectification |x| (leaky ReLU with slope −1)."""
    return np.abs(_arr(x))


def abs_grad(x, grad_at_zero: float = 0.0):
    """sign(x), with ``grad_at_zero`` ∈ [−1, 1] at exactly 0 (torch returns 0)."""
    g = _check_grad_at_zero(grad_at_zero, -1.0, 1.0, "abs")
    x = _arr(x)
    return np.where(x > 0, 1.0, np.where(x < 0, -1.0, g)).astype(x.dtype)


def linear(x):
    """The identity, the 'activation' of a linear network."""
    return _arr(x).copy()


def linear_grad(x):
    """Derivative of the identity: 1 everywhere."""
    return np.ones_like(_arr(x))


# --- Exponential and smooth relatives ---------------------------------------------------

def elu(x, alpha: float = 1.0):
    """ELU (Clevert et al. 2016): x for x > 0, α(eˣ − 1) otherwise."""
    x = _arr(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


def elu_grad(x, alpha: float = 1.0):
    """ELU's derivative: 1 for x > 0, α·eˣ otherwise."""
    x = _arr(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def selu(x):
    """SELU (Klambauer et al. 2017): λ·ELU_α(x) with λ ≈ 1.0507, α ≈ 1.6733."""
    return (SELU_SCALE * elu(x, SELU_ALPHA)).astype(_arr(x).dtype)


def selu_grad(x):
    """SELU's derivative: λ for x > 0, λα·eˣ otherwise."""
    return (SELU_SCALE * elu_grad(x, SELU_ALPHA)).astype(_arr(x).dtype)


def softplus(x, beta: float = 1.0):
    """Softplus, log(1 + e^{βx})/β, a smooth ReLU (Dugas et al. 2001)."""
    x = _arr(x)
    return (np.logaddexp(0.0, beta * x) / beta).astype(x.dtype)


def softplus_grad(x, beta: float = 1.0):
    """Softplus' derivative is the logistic sigmoid σ(βx)."""
    x = _arr(x)
    return special.expit(beta * x).astype(x.dtype)


def sigmoid(x):
    """Logistic sigmoid σ(x) = 1/(1 + e^{−x})."""
    x = _arr(x)
    return special.expit(x).astype(x.dtype)


def sigmoid_grad(x):
    """σ'(x) = σ(x)(1 − σ(x)), at most ¼."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    """Hyperbolic tangent, tanh(x) = 2σ(2x) − 1."""
    return np.tanh(_arr(x))


def tanh_grad(x):
    """tanh'(x) = 1 − tanh²(x), at most 1."""
    t = tanh(x)
    return 1 - t * t


def gelu(x):
    """GELU, exact form x·Φ(x) with Φ the standard normal CDF (Hendrycks & Gimpel 2016)."""
    x = _arr(x)
    return (x * special.ndtr(x)).astype(x.dtype)


def gelu_grad(x):
    """d/dx x·Φ(x) = Φ(x) + x·φ(x)."""
    x = _arr(x)
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return (special.ndtr(x) + x * pdf).astype(x.dtype)


def gelu_tanh(x):
    """GELU, tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    x = _arr(x)
    return (0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * x**3)))).astype(x.dtype)


def gelu_tanh_grad(x):
    """Derivative of the tanh form of GELU."""
    x = _arr(x)
    t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * x**3))
    dt = (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_C * x * x)
    return (0.5 * (1 + t) + 0.5 * x * dt).astype(x.dtype)


def silu(x, beta: float = 1.0):
    """SiLU / Swish, x·σ(βx) (Elfwing et al. 2018; Ramachandran et al. 2017)."""
    x = _arr(x)
    return (x * special.expit(beta * x)).astype(x.dtype)


def silu_grad(x, beta: float = 1.0):
    """d/dx x·σ(βx) = σ(βx) + βx·σ(βx)(1 − σ(βx))."""
    x = _arr(x)
    s = special.expit(beta * x)
    return (s + beta * x * s * (1 - s)).astype(x.dtype)


# --- Maxout -------------------------------------------------------------------------------

def check_groups(n: int, k, what: str = "the last axis") -> int:
    """``k`` as an int after checking that it is a positive int dividing ``n`` (the size of
    ``what``): maxout takes the max over consecutive groups of k. Maxout chapter."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"k must be an int (pieces per maxout unit), got {k!r}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if n % k:
        raise ValueError(f"maxout needs {what} ({n}) to be divisible by k={k}")
    return int(k)


def maxout(z, k: int):
    """Maxout over consecutive groups of k along the last axis (Goodfellow et al. 2013).

    z of shape (..., m·k) → (..., m): unit j is max(z[..., j·k : (j+1)·k]).
    """
    z = _arr(z)
    k = check_groups(z.shape[-1], k)
    return z.reshape(*z.shape[:-1], z.shape[-1] // k, k).max(axis=-1)


def maxout_grad(z, k: int):
    """∂maxout/∂z: 1 at each group's arg-max (the first one on ties), 0 elsewhere."""
    z = _arr(z)
    k = check_groups(z.shape[-1], k)
    g = z.reshape(*z.shape[:-1], z.shape[-1] // k, k)
    onehot = np.zeros_like(g)
    np.put_along_axis(onehot, g.argmax(axis=-1)[..., None], 1.0, axis=-1)
    return onehot.reshape(z.shape)


def maxout_torch(z: torch.Tensor, k: int) -> torch.Tensor:
    """Torch maxout over consecutive groups of k along the last dimension."""
    k = check_groups(z.shape[-1], k)
    return z.unflatten(-1, (z.shape[-1] // k, k)).amax(dim=-1)


# --- Bounded and squared rectifiers (ReLU today chapter) ------------------------------------

def relu6(x):
    """ReLU6, min(max(0, x), 6): ReLU capped at 6 (Krizhevsky 2010; MobileNetV2). Its
    derivative is 0 below 0 and above 6, so a unit can also stick at the cap."""
    x = _arr(x)
    return np.clip(x, 0, 6).astype(x.dtype)


def relu6_grad(x):
    """ReLU6's derivative: 1 on (0, 6), 0 elsewhere (torch's choice at 0 and 6)."""
    x = _arr(x)
    return ((x > 0) & (x < 6)).astype(x.dtype)


def hard_sigmoid(x):
    """The piecewise-linear sigmoid of MobileNetV3, relu6(x + 3)/6: 0 below −3, 1 above 3."""
    return (relu6(_arr(x) + 3) / 6).astype(_arr(x).dtype)


def hard_swish(x):
    """Hard-swish (Howard et al. 2019), x·relu6(x + 3)/6: SiLU with its sigmoid replaced
    by :func:`hard_sigmoid`; 0 below −3, x above 3, a parabola between."""
    x = _arr(x)
    return (x * hard_sigmoid(x)).astype(x.dtype)


def hard_swish_grad(x):
    """Hard-swish's derivative: 0 below −3, (2x + 3)/6 on [−3, 3], 1 above 3."""
    x = _arr(x)
    return np.where(x < -3, 0.0, np.where(x > 3, 1.0, (2 * x + 3) / 6)).astype(x.dtype)


def relu2(x):
    """Squared ReLU, max(0, x)² (So et al. 2021, Primer)."""
    r = relu(x)
    return r * r


def relu2_grad(x):
    """Squared ReLU's derivative, 2·max(0, x): continuous, unlike ReLU's."""
    return 2 * relu(x)


def _relu2_torch(x):
    return torch.relu(x).square()


# --- Torch implementations ---------------------------------------------------------------

class _ReLUChosenGrad(torch.autograd.Function):
    """ReLU whose backward pass uses a chosen value at exactly 0."""

    @staticmethod
    def forward(ctx, x, grad_at_zero):
        ctx.save_for_backward(x)
        ctx.grad_at_zero = grad_at_zero
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        local = (x > 0).to(grad_out.dtype) + ctx.grad_at_zero * (x == 0).to(grad_out.dtype)
        return grad_out * local, None


def relu_torch(x: torch.Tensor, grad_at_zero: float = 0.0) -> torch.Tensor:
    """Torch ReLU; ``grad_at_zero=0`` is ``torch.relu`` itself, other values use a custom
    backward that returns that value where the input is exactly 0."""
    g = _check_grad_at_zero(grad_at_zero, 0.0, 1.0, "relu")
    return torch.relu(x) if g == 0.0 else _ReLUChosenGrad.apply(x, g)


def _abs_torch(x, grad_at_zero=0.0):
    g = _check_grad_at_zero(grad_at_zero, -1.0, 1.0, "abs")
    if g == 0.0:
        return x.abs()
    # |x| = relu(x) + relu(-x); the chosen value at 0 splits across the two halves.
    return relu_torch(x, (1 + g) / 2) + relu_torch(-x, (1 - g) / 2)


# --- Registry -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Activation:
    """One activation with its parameters bound: ``act(x)``, ``act.grad(x)``, ``act.torch(t)``.

    ``kinks`` lists the inputs where the function is not differentiable.
    """

    name: str
    formula: str
    value_fn: Callable
    grad_fn: Callable
    torch_fn: Callable
    params: Mapping[str, float] = field(default_factory=dict)
    kinks: tuple = ()
    grad_params: tuple = ()   # parameters only the derivative takes (grad_at_zero)
    shape_param: str | None = None   # the one parameter that changes the curve's shape
    negative_slope: object = None   # slope for z < 0 (float or per-unit array), elementwise
    #                                 piecewise-linear activations only
    piecewise_linear: bool = False  # the graph is made of straight pieces

    @property
    def pieces(self) -> int:
        """Inputs per unit: maxout's k (each unit is the max of k linear pieces), else 1."""
        return int(self.params.get("k", 1)) if self.name == "maxout" else 1

    @property
    def can_die(self) -> bool:
        """Whether a unit can be *dead*: output and gradient both exactly 0 on a whole
        input set. True only where the function is 0 with slope 0 on z < 0 (ReLU, and
        Leaky ReLU or PReLU with slope 0). Dying ReLU chapter."""
        return self.negative_slope is not None and bool(np.all(self.negative_slope == 0))

    def __call__(self, x):
        return self.value_fn(x, **self._value_params())

    def grad(self, x):
        return self.grad_fn(x, **self.params)

    def torch(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch_fn(x, **self.params)

    def _value_params(self):
        return {k: v for k, v in self.params.items() if k not in self.grad_params}

    def __repr__(self):
        p = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"Activation({self.name}{', ' + p if p else ''})"


@dataclass(frozen=True)
class _Spec:
    formula: str
    value_fn: Callable
    grad_fn: Callable
    torch_fn: Callable
    defaults: Mapping[str, float]
    kinks: tuple = ()
    grad_params: tuple = ()
    shape_param: str | None = None
    negative_slope: Callable | None = None   # params -> slope for z < 0 (piecewise linear)
    piecewise_linear: bool = False
    ranges: Mapping[str, tuple] = field(default_factory=dict)   # param -> (lo, hi), inclusive


_SPECS: dict[str, _Spec] = {
    "relu": _Spec(r"\max(0, x)", relu, relu_grad, relu_torch,
                  {"grad_at_zero": 0.0}, (0.0,), ("grad_at_zero",),
                  negative_slope=lambda p: 0.0, piecewise_linear=True,
                  ranges={"grad_at_zero": (0.0, 1.0)}),
    "leaky_relu": _Spec(r"x \text{ if } x>0 \text{ else } a x", leaky_relu, leaky_relu_grad,
                        lambda x, slope: F.leaky_relu(x, slope), {"slope": 0.01}, (0.0,),
                        shape_param="slope", negative_slope=lambda p: p["slope"],
                        piecewise_linear=True),
    "prelu": _Spec(r"x \text{ if } x>0 \text{ else } \alpha x \text{ (learned } \alpha)",
                   prelu, prelu_grad,
                   lambda x, alpha: F.prelu(x, torch.as_tensor(alpha, dtype=x.dtype).reshape(-1)),
                   {"alpha": 0.25}, (0.0,), shape_param="alpha",
                   negative_slope=lambda p: p["alpha"], piecewise_linear=True),
    "elu": _Spec(r"x \text{ if } x>0 \text{ else } \alpha(e^x-1)", elu, elu_grad,
                 lambda x, alpha: F.elu(x, alpha), {"alpha": 1.0}, (0.0,),
                 shape_param="alpha", ranges={"alpha": (0.0, math.inf)}),
    "selu": _Spec(r"\lambda\,(x \text{ if } x>0 \text{ else } \alpha(e^x-1))", selu, selu_grad,
                  lambda x: F.selu(x), {}, (0.0,)),
    "softplus": _Spec(r"\tfrac{1}{\beta}\log(1+e^{\beta x})", softplus, softplus_grad,
                      lambda x, beta: F.softplus(x, beta, threshold=40.0), {"beta": 1.0},
                      shape_param="beta"),
    "gelu": _Spec(r"x\,\Phi(x)", gelu, gelu_grad, lambda x: F.gelu(x), {}),
    "gelu_tanh": _Spec(r"\tfrac12 x\,(1+\tanh(\sqrt{2/\pi}(x+0.044715x^3)))", gelu_tanh,
                       gelu_tanh_grad, lambda x: F.gelu(x, approximate="tanh"), {}),
    "silu": _Spec(r"x\,\sigma(\beta x)", silu, silu_grad,
                  lambda x, beta: x * torch.sigmoid(beta * x), {"beta": 1.0},
                  shape_param="beta"),
    "sigmoid": _Spec(r"1/(1+e^{-x})", sigmoid, sigmoid_grad, torch.sigmoid, {}),
    "tanh": _Spec(r"\tanh x", tanh, tanh_grad, torch.tanh, {}),
    "abs": _Spec(r"|x|", abs_, abs_grad, _abs_torch, {"grad_at_zero": 0.0}, (0.0,),
                 ("grad_at_zero",), negative_slope=lambda p: -1.0, piecewise_linear=True,
                 ranges={"grad_at_zero": (-1.0, 1.0)}),
    "linear": _Spec(r"x", linear, linear_grad, lambda x: x, {},
                    negative_slope=lambda p: 1.0, piecewise_linear=True),
    "maxout": _Spec(r"\max(z_1, \ldots, z_k)", maxout, maxout_grad, maxout_torch, {"k": 2},
                    piecewise_linear=True),
    "relu6": _Spec(r"\min(\max(0, x), 6)", relu6, relu6_grad, lambda x: F.relu6(x), {},
                   (0.0, 6.0), negative_slope=lambda p: 0.0, piecewise_linear=True),
    "hard_swish": _Spec(r"x\,\min(\max(0, x + 3), 6)/6", hard_swish, hard_swish_grad,
                        lambda x: F.hardswish(x), {}, (-3.0, 3.0)),
    "relu2": _Spec(r"\max(0, x)^2", relu2, relu2_grad, _relu2_torch, {},
                   negative_slope=lambda p: 0.0),
}

#: Activations that act on groups of inputs rather than element by element.
_GROUPED = frozenset({"maxout"})

#: Activations whose graph is made of straight pieces with at most one kink, at 0 (region
#: counting applies to them; ReLU6's second kink at 6 keeps it out).
PIECEWISE_LINEAR = frozenset(k for k, s in _SPECS.items()
                             if s.piecewise_linear and k not in _GROUPED
                             and s.kinks in ((), (0.0,)))


def names(include_grouped: bool = False) -> list[str]:
    """Names of the element-wise activations, in gallery order; with ``include_grouped``
    also maxout, which maps groups of k inputs to one output."""
    return [k for k in _SPECS if include_grouped or k not in _GROUPED]


def parameters(name: str) -> dict:
    """The parameters ``name`` takes, with their defaults (e.g. ``{"slope": 0.01}``)."""
    if isinstance(name, Activation):
        return dict(name.params)
    return dict(_SPECS[get(name).name].defaults)


def get(name: str, **params) -> Activation:
    """Look up an activation by name and bind its parameters.

    Unknown names and unknown or invalid parameters raise a ``ValueError`` that says what
    is allowed.
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str, got {type(name).__name__}: {name!r}")
    key = name.lower()
    if key not in _SPECS:
        raise ValueError(f"unknown activation {name!r}; known activations: {', '.join(_SPECS)}")
    spec = _SPECS[key]
    unknown = set(params) - set(spec.defaults)
    if unknown:
        allowed = ", ".join(spec.defaults) or "none"
        raise ValueError(f"activation {key!r} takes no parameter(s) {sorted(unknown)}; "
                         f"its parameters: {allowed}")
    bound = {**spec.defaults, **params}
    for p, v in bound.items():
        lo, hi = spec.ranges.get(p, (-math.inf, math.inf))
        if p == "grad_at_zero":
            _check_grad_at_zero(v, lo, hi, key)
        elif p == "k":
            check_groups(v, v, "k")
        elif isinstance(v, (bool, np.bool_)) or np.asarray(v).dtype.kind not in "iuf":
            raise TypeError(f"parameter {p} of {key!r} must be a number or an array of "
                            f"numbers, got {v!r}")
        elif not np.all(np.isfinite(v)):
            raise ValueError(f"parameter {p}={v!r} of {key!r} must be finite")
        elif p == "beta" and v <= 0:
            raise ValueError(f"parameter beta of {key!r} must be > 0, got {v!r}")
        elif not np.all((lo <= np.asarray(v)) & (np.asarray(v) <= hi)):
            allowed = f"be >= {lo:g}" if hi == math.inf else f"lie in [{lo:g}, {hi:g}]"
            raise ValueError(f"parameter {p} of {key!r} must {allowed}, got {v!r}")
    slope = None if spec.negative_slope is None else spec.negative_slope(bound)
    return Activation(key, spec.formula, spec.value_fn, spec.grad_fn, spec.torch_fn,
                      bound, spec.kinks, spec.grad_params, spec.shape_param,
                      slope if slope is None or np.ndim(slope) else float(slope),
                      spec.piecewise_linear)


class _Lambda(torch.nn.Module):
    def __init__(self, act: Activation):
        super().__init__()
        self.act = act

    def forward(self, x):
        return self.act.torch(x)

    def extra_repr(self):
        return repr(self.act)


def torch_module(name: str, num_parameters: int = 1, **params) -> torch.nn.Module:
    """An ``nn.Module`` for the activation. ``prelu`` gives a learnable ``nn.PReLU`` with
    ``num_parameters`` slopes (one per unit for channel-wise PReLU) starting at ``alpha``."""
    act = get(name, **params)
    if act.name == "prelu":
        return torch.nn.PReLU(num_parameters=num_parameters, init=float(act.params["alpha"]))
    return _Lambda(act)


# --- Randomised leaky ReLU ------------------------------------------------------------------

#: RReLU's default slope range [1/8, 1/3] (Xu et al. 2015 draw a ~ U(3, 8) and use x/a).
RRELU_LOWER, RRELU_UPPER = 1.0 / 8.0, 1.0 / 3.0


def _check_rrelu_range(lower, upper):
    if not (np.isfinite(lower) and np.isfinite(upper) and 0 <= lower <= upper):
        raise ValueError(f"RReLU needs finite slopes 0 <= lower <= upper, got lower={lower!r}, "
                         f"upper={upper!r}")


def rrelu(x, lower: float = RRELU_LOWER, upper: float = RRELU_UPPER, training: bool = False,
          rng=None):
    """Randomised leaky ReLU (Xu et al. 2015): x for x ≥ 0 and a·x otherwise.

    In training each negative entry draws its own slope a ~ U[lower, upper] from ``rng`` (a
    numpy Generator or an int seed); at test time a is fixed at (lower + upper)/2, as in
    ``torch.nn.functional.rrelu``. Rectifier family chapter.
    """
    _check_rrelu_range(lower, upper)
    x = _arr(x)
    if training:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        slope = gen.uniform(lower, upper, size=x.shape)
    else:
        slope = 0.5 * (lower + upper)
    return np.where(x >= 0, x, slope * x).astype(x.dtype)


def rrelu_grad(x, lower: float = RRELU_LOWER, upper: float = RRELU_UPPER):
    """Test-time RReLU's derivative: 1 for x > 0, (lower + upper)/2 otherwise."""
    _check_rrelu_range(lower, upper)
    x = _arr(x)
    return np.where(x > 0, 1.0, 0.5 * (lower + upper)).astype(x.dtype)


__all__ += ["rrelu", "rrelu_grad", "RRELU_LOWER", "RRELU_UPPER"]
