"""Polarity: features that ignore the sign of a pattern, and which layer needs |z| for it.

A digit and its contrast-inverted copy are x and −x once each image is centred (pixels in
[0, 1] minus the image's mean). With a bias-free first layer, z(−x) = −z(x), so the
features |z| are identical for the two, and so is everything the later layers compute
from them, whatever their activation. ReLU keeps only one sign, so a ReLU net sees the
inverse as a different image.

    >>> result = compute_polarity(PolarityState(abs_layers="first"))
    >>> result.accuracy, result.accuracy_inverted, result.feature_gap

Rectifier family chapter (section 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import activations, checks, data, models

__all__ = ["ABS_LAYERS", "centre_images", "centred_digits", "PolarityState",
           "PolarityResult", "polarity_net", "compute_polarity"]

#: Where a net uses |z|: in no hidden layer, in the first one only, or in every one.
ABS_LAYERS = ("none", "first", "all")


def centre_images(pixels) -> np.ndarray:
    """Raw digit pixels (0 … 16) scaled to [0, 1], minus each image's own mean. The
    contrast-inverted image 16 − x becomes exactly the negative."""
    X = checks.check_array("pixels", pixels, 2) / 16.0
    return X - X.mean(axis=1, keepdims=True)


def centred_digits() -> data.Dataset:
    """The 8×8 digits, each image centred by :func:`centre_images`."""
    raw = data.digits(standardize=False)
    return data.Dataset(centre_images(raw.X_train), raw.y_train, centre_images(raw.X_test),
                        raw.y_test, "digits, centred", 10)


@dataclass(frozen=True)
class PolarityState:
    """A digit classifier with hidden ``widths``, a bias-free first layer, and |z| in
    ``abs_layers`` ("none", "first" or "all"; ReLU elsewhere), trained by momentum SGD on
    the centred digits."""

    abs_layers: str = "first"
    seed: int = 0
    epochs: int = 10
    lr: float = 0.03
    widths: tuple = (64, 64)

    def __post_init__(self):
        checks.check_choice("abs_layers", self.abs_layers, ABS_LAYERS)
        checks.check_seed("seed", self.seed)
        checks.check_int("epochs", self.epochs, 1, 200)
        checks.check_number("lr", self.lr, 0, 10, lo_open=True, hint="learning rate")
        if not isinstance(self.widths, tuple) or not self.widths:
            raise TypeError(f"widths must be a non-empty tuple of ints, got {self.widths!r}")
        for w in self.widths:
            checks.check_int("widths", w, 1, 4096, "units per hidden layer")


@dataclass(frozen=True, eq=False)
class PolarityResult:
    """Test accuracy on the digits and on their contrast-inverted copies, and per hidden
    layer the largest difference between the features of an image and of its inverse
    (``feature_gap``; 0 means the layer cannot tell them apart)."""

    state: PolarityState
    accuracy: float
    accuracy_inverted: float
    feature_gap: tuple
    history: object


def polarity_net(state: PolarityState) -> models.MLP:
    """The untrained net of ``state``: |z| layers start at LeCun's scale (|z| passes the
    whole second moment on), ReLU layers at He's; the first layer has no bias, fixed at
    0, so that z(−x) = −z(x)."""
    if not isinstance(state, PolarityState):
        raise TypeError(f"state must be a PolarityState, got {type(state).__name__}")
    n = len(state.widths)
    use_abs = {"none": [False] * n, "first": [True] + [False] * (n - 1),
               "all": [True] * n}[state.abs_layers]
    net = models.MLP(64, list(state.widths), 10, activation="relu", init="he",
                     seed=state.seed)
    with torch.no_grad():
        for lin, act_abs, i in zip(net.linears, use_abs, range(n)):
            if act_abs:
                net.acts[i] = activations.torch_module("abs")
                lin.weight.mul_(1 / math.sqrt(2))        # He's scale to LeCun's
        net.linears[0].bias.zero_()
    net.linears[0].bias.requires_grad_(False)
    return net


def compute_polarity(state: PolarityState) -> PolarityResult:
    """Train :func:`polarity_net` on the centred digits and test it on the digits and on
    their inverses (−x); measure, layer by layer, whether it can tell x from −x."""
    from . import train as training

    net = polarity_net(state)
    digits = centred_digits()
    history = training.train(net, digits, training.TrainConfig(
        optimizer="momentum", lr=state.lr, epochs=state.epochs, batch_size=64,
        diagnostics=False, seed=state.seed))
    X = torch.as_tensor(digits.X_test)
    y = torch.as_tensor(digits.y_test)
    net.eval()
    with torch.no_grad():
        out, _, posts = net.forward_hidden(X)
        out_inv, _, posts_inv = net.forward_hidden(-X)
    gaps = tuple(float((a - b).abs().max()) for a, b in zip(posts, posts_inv))
    return PolarityResult(
        state=state, accuracy=float((out.argmax(1) == y).float().mean()),
        accuracy_inverted=float((out_inv.argmax(1) == y).float().mean()),
        feature_gap=gaps, history=history)
