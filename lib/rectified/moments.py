"""Moments of an activation's output under Gaussian inputs, and how they travel through depth.

    >>> gaussian_moments("selu")                 # z ~ N(0, 1): mean ≈ 0, variance ≈ 1
    >>> deep_moments("relu", depth=50, width=256) # measured mean and variance, layer by layer

Three views of one question, what a deep stack does to the mean and the variance of its
signal: :func:`gaussian_moments` integrates E f(z) and Var f(z) for z ~ N(μ, σ²); :func:`variance_map` iterates the infinite-width recursion
q ← gain · E[f(z)²], z ~ N(0, q); :func:`layer_moments` and :func:`deep_moments` measure
the same numbers in a finite random network. Rectifier family chapter (self-normalisation).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import activations, models

__all__ = ["gaussian_moments", "variance_map", "layer_moments", "deep_moments", "INIT_GAIN",
           "fixed_point_gain"]

#: Weight variance × fan_in of each initialisation with zero-mean Gaussian weights.
INIT_GAIN = {"lecun": 1.0, "he": 2.0}


def _act(activation, params):
    return activations.get(activation, **params)


def _check_var(var, name="var"):
    if not (isinstance(var, (int, float, np.floating)) and math.isfinite(var) and var > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {var!r}")
    return float(var)


def gaussian_moments(activation, mean: float = 0.0, var: float = 1.0,
                     **params) -> tuple[float, float]:
    """(E f(z), Var f(z)) for z ~ N(mean, var): E g(z) = ∫ g(mean + σu) φ(u) du, by the
    trapezoid rule on u ∈ [−10, 10] (4,001 points; a kink costs an error of order 1e-5)."""
    var = _check_var(var)
    return _moments(_act(activation, params), mean, var, *_grid())


def _grid():
    u = np.linspace(-10.0, 10.0, 4001)
    w = np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi) * (u[1] - u[0])
    w[[0, -1]] *= 0.5
    return u, w


def _moments(act, mean, var, u, w):
    fz = np.asarray(act(mean + math.sqrt(var) * u), dtype=np.float64)
    m1 = float(w @ fz)
    m2 = float(w @ (fz * fz))
    return m1, max(m2 - m1 * m1, 0.0)


def variance_map(activation, depth: int, q0: float = 1.0, gain: float | str = 2.0,
                 **params) -> np.ndarray:
    """Pre-activation variances q_0 … q_depth of an infinitely wide net with zero biases and
    zero-mean weights of variance gain/fan_in (gain 2 = He, 1 = LeCun, or their names):
    q_{l+1} = gain · E[f(z)²], z ~ N(0, q_l). A fixed point q* = gain · E[f(z)²] is a
    variance the net keeps at any depth."""
    if isinstance(gain, str):
        if gain not in INIT_GAIN:
            raise ValueError(f"unknown init {gain!r} for gain; known: {', '.join(INIT_GAIN)}")
        gain = INIT_GAIN[gain]
    if not isinstance(depth, (int, np.integer)) or depth < 0:
        raise ValueError(f"depth must be an int >= 0, got {depth!r}")
    q = [_check_var(q0, "q0")]
    act = _act(activation, params)
    grid = _grid()
    for _ in range(depth):
        m, v = _moments(act, 0.0, q[-1], *grid)
        q.append(gain * (v + m * m))
    return np.asarray(q)


def fixed_point_gain(activation, q: float = 1.0, **params) -> float:
    """The weight gain g (weight variance × fan_in) that makes ``q`` a fixed point of
    :func:`variance_map`: g = q / E[f(z)²], z ~ N(0, q).

    For ReLU it is 2 (He's init), for Leaky ReLU with slope a it is 2/(1 + a²) (He et al.'s
    init for PReLU), for SELU 1 (LeCun's); for ELU, GELU, SiLU and softplus it is the init
    that keeps a unit-variance signal at variance 1 layer after layer. Rectifier family
    chapter (each activation's initialisation).
    """
    q = _check_var(q, "q")
    m, v = _moments(_act(activation, params), 0.0, q, *_grid())
    return q / (v + m * m)


@torch.no_grad()
def layer_moments(model, X, training: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(mean, variance) of each hidden layer's output over all inputs and units, measured
    by one forward pass of ``model`` (an MLP) on X; ``training=True`` runs it in training
    mode, so that dropout acts (seed torch's generator first for repeatable masks)."""
    if not hasattr(model, "forward_hidden"):
        raise TypeError(f"model must expose forward_hidden (an MLP), got {type(model).__name__}")
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    with models.eval_mode(model):
        model.train(training)
        _, _, posts = model.forward_hidden(X)
    means = np.array([float(h.mean()) for h in posts])
    variances = np.array([float(h.var(unbiased=False)) for h in posts])
    return means, variances


def deep_moments(activation: str, depth: int = 50, width: int = 256, n: int = 512,
                 init: str = "he", input_mean: float = 0.0, input_var: float = 1.0,
                 seed: int = 0, dropout: float = 0.0, dropout_kind: str = "standard",
                 **params) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each layer's output in a random MLP of ``depth`` hidden layers
    of ``width`` units (zero biases, ``init`` weights, seed ``seed``) fed n inputs with
    i.i.d. N(input_mean, input_var) entries. Entry 0 is the input itself.

    ``dropout`` > 0 drops that share of every layer's outputs on the way to the next layer
    (``dropout_kind`` "standard" or "alpha", :class:`~rectified.models.MLP`), with masks
    drawn from ``seed``; a layer's entry is its output before its own dropout."""
    input_var = _check_var(input_var, "input_var")
    net = models.MLP(width, [width] * depth, 1, activation=activation, init=init, seed=seed,
                     dropout=dropout, dropout_kind=dropout_kind, **params)
    rng = np.random.default_rng(seed)
    X = input_mean + math.sqrt(input_var) * rng.standard_normal((n, width))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        means, variances = layer_moments(net, X, training=dropout > 0)
    return (np.concatenate([[X.mean()], means]), np.concatenate([[X.var()], variances]))
