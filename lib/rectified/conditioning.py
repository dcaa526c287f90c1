"""Why a layer learns slowly from all-positive inputs: the second moment of its inputs,
the signs of per-example updates, and gradient descent on a linear readout.

A unit computes w·h + b. Its per-example gradient is δ·h, so when every input h_i > 0
(sigmoid outputs) every weight of the unit moves in the same direction, and the mean of
h adds one large eigenvalue to the second-moment matrix E[h hᵀ] that sets the curvature
of the unit's loss. Centring h (tanh, or σ − ½) removes both effects.

Why-ReLU part 2 chapter (zero-centring; LeCun et al. 1998, "Efficient BackProp").
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["second_moment", "condition_number", "same_sign_fraction", "sgd_path",
           "readout_gd", "first_below"]


def _features(features) -> np.ndarray:
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 2 or len(F) < 1:
        raise ValueError(f"features must be a 2-D array (samples, features), got shape {F.shape}")
    return F


def second_moment(features, bias: bool = True) -> np.ndarray:
    """(1/n) AᵀA with A = [features, 1] (the bias input) or A = features: the Hessian of a
    linear least-squares unit, and the matrix whose spectrum sets its gradient-descent speed."""
    A = _features(features)
    if bias:
        A = np.c_[A, np.ones(len(A))]
    return A.T @ A / len(A)


def condition_number(features, bias: bool = True) -> float:
    """λ_max / λ_min of :func:`second_moment` (inf when it is singular)."""
    ev = np.linalg.eigvalsh(second_moment(features, bias))
    return float(ev[-1] / ev[0]) if ev[0] > 0 else math.inf


def same_sign_fraction(updates) -> float:
    """Fraction of rows (one weight update per row) whose nonzero entries all share one
    sign — all weights of the unit move up together or down together."""
    U = _features(updates)
    pos = (U > 0).any(axis=1)
    neg = (U < 0).any(axis=1)
    return float(np.mean(~(pos & neg)))


def sgd_path(X, y, w0, lr: float, steps: int, seed: int = 0) -> np.ndarray:
    """Per-example SGD on ½(w·x − y)² (no bias), examples drawn in a seeded random order.

    Returns the path, shape (steps + 1, d): w_{t+1} = w_t − lr·(w_t·x − y)·x. Once the
    weights blow up (any |w_i| > 1e12: too large a learning rate) the rest of the path is NaN.
    """
    X = _features(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    order = np.random.default_rng(seed).integers(0, len(X), steps)
    path = np.empty((steps + 1, X.shape[1]))
    path[0] = w = np.asarray(w0, dtype=np.float64).copy()
    for t, i in enumerate(order, start=1):
        with np.errstate(over="ignore", invalid="ignore"):
            w = w - lr * (w @ X[i] - y[i]) * X[i]
        if not np.all(np.abs(w) <= 1e12):      # also catches inf and NaN
            path[t:] = np.nan
            break
        path[t] = w
    return path


def readout_gd(features, labels, lrs, max_steps: int, n_classes: int | None = None) -> np.ndarray:
    """Full-batch gradient descent on a softmax readout (weights and bias, starting at zero)
    with cross-entropy, for several learning rates at once.

    Returns the training loss before each step, shape (len(lrs), max_steps + 1); a run
    whose loss stops being finite is recorded as inf from then on.
    """
    F = torch.as_tensor(_features(features))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if len(y) != len(F):
        raise ValueError(f"features and labels must have the same length, got {len(F)} "
                         f"and {len(y)}")
    lrs = np.atleast_1d(np.asarray(lrs, dtype=np.float64))
    if lrs.ndim != 1 or not np.all(lrs > 0):
        raise ValueError(f"lrs must be positive learning rates, got {lrs!r}")
    k = int(n_classes or int(y.max()) + 1)
    A = torch.cat([F, torch.ones(len(F), 1, dtype=F.dtype)], dim=1)
    Y = torch.nn.functional.one_hot(y, k).to(F.dtype)
    m, n = len(lrs), len(A)
    # the m readouts side by side as one (features + 1, m·k) matrix: one product per step
    W = torch.zeros(A.shape[1], m * k, dtype=F.dtype)
    lr = torch.as_tensor(lrs, dtype=F.dtype).repeat_interleave(k)
    Yr = Y.repeat(1, m)
    losses = np.full((m, max_steps + 1), math.inf)
    for step in range(max_steps + 1):
        logp = torch.log_softmax((A @ W).view(n, m, k), dim=-1)
        loss = -(logp * Y[:, None, :]).sum(-1).mean(0)
        losses[:, step] = torch.nan_to_num(loss, nan=math.inf).numpy()
        if step < max_steps:
            W = W - lr * (A.T @ (logp.exp().view(n, m * k) - Yr)) / n
    bad = ~np.isfinite(losses)
    losses[np.cumsum(bad, axis=1) > 0] = math.inf
    return losses


def first_below(losses, target: float) -> np.ndarray:
    """Per row of ``losses``, the first step whose loss is ≤ target (inf if none)."""
    L = np.atleast_2d(np.asarray(losses, dtype=np.float64))
    hit = L <= target
    return np.where(hit.any(axis=1), hit.argmax(axis=1), math.inf)
