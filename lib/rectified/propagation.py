"""Signal propagation through depth: how the forward signal and the back-propagated gradient
change from one hidden layer of an MLP to the next, and what initialisation theory predicts.

    >>> prof = layer_profile(model, X, y)        # one forward and one backward pass
    >>> prof.pre_var, prof.backprop               # per hidden layer, input side first

The forward quantity is the variance of each layer's pre-activation z_l (what He et al. 2015
keep constant); the backward one is the norm of ∂loss/∂z_l (what vanishes or explodes).
Chapter: why ReLU beat sigmoid and tanh, part 1 (gradients, depth and initialisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import diagnostics, models
from .train import _loss_fn

__all__ = ["LayerProfile", "layer_profile", "unit_activation_rates", "cosine_similarity",
           "layer_cosine_similarity", "relu_correlation_map"]


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
        value = _loss_fn(loss)(out, y)
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
