"""Post-training quantisation of a trained MLP to small integers, with integer arithmetic.

Weights become int8 codes with one scale per tensor (symmetric: w ≈ s_w · q, q in
[−127, 127]); each hidden layer's output, non-negative for ReLU and ReLU6, becomes an
unsigned ``bits``-bit code with one scale per tensor, a ≈ s_a · q, q in [0, 2^bits − 1],
where s_a = range / (2^bits − 1) and the range is calibrated: the largest output seen
on calibration inputs (Jacob et al. 2018 use running min/max the same way). Products
are accumulated in integers and rescaled once per layer. A bounded activation (ReLU6)
caps the range at 6; an unbounded one (ReLU) lets its largest output set the step
size for every value. ReLU today chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import activations, checks

__all__ = ["quantise_uniform", "quantise_weights", "QuantState", "QuantResult",
           "compute_quantisation", "layer_ranges"]


def quantise_uniform(x, scale: float, lo: int, hi: int) -> np.ndarray:
    """Integer codes round(x / scale) clipped to [lo, hi] (int64)."""
    checks.check_number("scale", scale, 0, lo_open=True)
    q = np.rint(np.asarray(x, dtype=np.float64) / scale)
    return np.clip(q, lo, hi).astype(np.int64)


def quantise_weights(W, bits: int = 8) -> tuple[np.ndarray, float]:
    """(codes, scale) of a weight tensor, symmetric per tensor: scale = max|W| /
    (2^(bits−1) − 1), codes in [−(2^(bits−1) − 1), 2^(bits−1) − 1]."""
    bits = checks.check_int("bits", bits, 2, 16)
    W = np.asarray(W, dtype=np.float64)
    top = 2 ** (bits - 1) - 1
    scale = float(np.abs(W).max()) / top or 1.0
    return quantise_uniform(W, scale, -top, top), scale


def _layers(net):
    """[(W (in, out), b (out,))] of an MLP, float64, input side first."""
    return [(lin.weight.detach().double().numpy().T, lin.bias.detach().double().numpy())
            for lin in net.weight_layers]


def _hidden_float(net, X):
    """Each hidden layer's output of an MLP on X, float64 (the reference)."""
    act = activations.get(net.activation, **net.act_params)
    outs, h = [], np.asarray(X, dtype=np.float64)
    for W, b in _layers(net)[:-1]:
        h = act(h @ W + b)
        outs.append(h)
    return outs, h @ _layers(net)[-1][0] + _layers(net)[-1][1]


def layer_ranges(net, X) -> np.ndarray:
    """The largest output of each hidden layer of ``net`` (an MLP) on inputs X: the
    calibrated range of each layer's activation quantiser."""
    outs, _ = _hidden_float(net, X)
    return np.array([float(h.max()) for h in outs])


@dataclass(frozen=True)
class QuantState:
    """The hidden activation (``relu`` or ``relu6``), ``bits`` for each hidden layer's
    output code (weights and inputs stay 8-bit), and the seed whose net
    :func:`rectified.plots.draw_quantisation` shows in detail."""

    activation: str = "relu"
    bits: int = 8
    seed_index: int = 0

    def __post_init__(self):
        checks.check_choice("activation", self.activation, ("relu", "relu6"))
        checks.check_int("bits", self.bits, 2, 16, "bits per activation code")
        checks.check_int("seed_index", self.seed_index, 0)


@dataclass(frozen=True)
class QuantResult:
    """Per net (one per seed): float and quantised test accuracy, each hidden layer's
    calibrated range, the step size of the last hidden layer's code, and the relative
    RMS error of the logits ‖z_q − z‖/‖z‖. ``values``/``codes`` hold the last hidden
    layer's float outputs of net ``state.seed_index`` on the test inputs and their
    dequantised values (for the picture)."""

    state: QuantState
    activation: str
    acc_float: np.ndarray
    acc_quant: np.ndarray
    ranges: np.ndarray
    step: np.ndarray
    logit_error: np.ndarray
    values: np.ndarray
    dequantised: np.ndarray

    @property
    def acc_change(self) -> np.ndarray:
        """Quantised minus float test accuracy, per net (negative: a loss)."""
        return self.acc_quant - self.acc_float


def _integer_forward(net, X, ranges, bits: int):
    """Logits of ``net`` on X with int8 weights and inputs and ``bits``-bit hidden codes,
    and the last hidden layer's dequantised output."""
    act = activations.get(net.activation, **net.act_params)
    layers = _layers(net)
    top_in = 127
    s_x = float(np.abs(X).max()) / top_in or 1.0
    q = quantise_uniform(X, s_x, -top_in, top_in)
    scale = s_x
    levels = 2 ** bits - 1
    last = None
    for i, (W, b) in enumerate(layers):
        qW, s_w = quantise_weights(W, 8)
        acc = q @ qW                                       # exact integer sums
        z = acc * (scale * s_w) + b
        if i == len(layers) - 1:
            return z, last
        a = act(z)
        s_a = float(ranges[i]) / levels or 1.0
        q = quantise_uniform(a, s_a, 0, levels)
        scale = s_a
        last = q * s_a


def compute_quantisation(state: QuantState, nets, X_calib, X_test, y_test) -> QuantResult:
    """Quantise the trained MLPs ``nets[state.activation]`` (one per seed; ``nets`` maps
    an activation to its nets) after training: ranges calibrated on ``X_calib``, then
    integer inference on ``X_test`` compared with the float net. ReLU today chapter."""
    checks.check_type("state", state, QuantState, "a QuantState")
    if state.activation not in nets:
        raise ValueError(f"no nets for activation {state.activation!r}; have "
                         f"{sorted(nets)}")
    nets = list(nets[state.activation])
    if not nets:
        raise ValueError("nets must hold at least one trained MLP")
    names = {n.activation for n in nets}
    if names != {state.activation}:
        raise ValueError(f"the nets for {state.activation!r} use {sorted(names)}")
    if state.seed_index >= len(nets):
        raise ValueError(f"seed_index must be < {len(nets)}, got {state.seed_index}")
    X_calib = np.asarray(checks.check_array("X_calib", X_calib, 2), dtype=np.float64)
    X_test = np.asarray(checks.check_array("X_test", X_test, 2), dtype=np.float64)
    y_test = np.asarray(y_test)
    acc_f, acc_q, ranges, steps, errors = [], [], [], [], []
    shown = None
    for k, net in enumerate(nets):
        r = layer_ranges(net, X_calib)
        outs, logits = _hidden_float(net, X_test)
        zq, last = _integer_forward(net, X_test, r, state.bits)
        acc_f.append(float(np.mean(logits.argmax(1) == y_test)))
        acc_q.append(float(np.mean(zq.argmax(1) == y_test)))
        ranges.append(r)
        steps.append(float(r[-1]) / (2 ** state.bits - 1))
        errors.append(float(np.linalg.norm(zq - logits) / np.linalg.norm(logits)))
        if k == state.seed_index:
            shown = (outs[-1], last)
    return QuantResult(state, names.pop(), np.array(acc_f), np.array(acc_q),
                       np.array(ranges), np.array(steps), np.array(errors), *shown)
