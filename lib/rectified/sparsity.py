"""Activation sparsity: counting exact zeros, and when skipping them saves work.

A ReLU layer's output has exact zeros; the next matrix product y = h W can skip the
rows of W where h is zero. For one input (a language model generating one token at a
time) the work falls in proportion to the zeros; for a batch, a row can be skipped only
where *every* input of the batch is zero. Whether the skipping saves *time* depends on
the machine: gathering the surviving rows costs memory traffic of its own.
ReLU today chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import checks, timing

__all__ = ["zero_fraction", "shared_zero_fraction", "skip_zero_rows", "SkipState",
           "SkipResult", "compute_skip_timing", "matmul_flops"]


def zero_fraction(h) -> float:
    """The share of entries of ``h`` (array or tensor) that are exactly 0."""
    h = checks.check_array("h", h, finite=False)
    if isinstance(h, torch.Tensor):
        return float((h == 0).float().mean())
    return float(np.mean(np.asarray(h) == 0))


def shared_zero_fraction(h, batch: int) -> float:
    """The share of units that are exactly 0 for *every* row of a batch: ``h`` (rows,
    units) is cut into consecutive batches of ``batch`` rows (a last partial batch is
    dropped), and a unit counts for a batch when its whole column there is zero. With
    ``batch=1`` this is :func:`zero_fraction`; it is the share of the next matrix's rows
    that a batched product may skip."""
    h = np.asarray(checks.check_array("h", h, ndim=2, finite=False))
    batch = checks.check_int("batch", batch, 1, len(h), "rows per batch, at most len(h)")
    n = len(h) // batch * batch
    blocks = (h[:n] == 0).reshape(-1, batch, h.shape[1])
    return float(blocks.all(axis=1).mean())


def skip_zero_rows(h: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """h W for one input h (units,) and W (units, out), computed from the rows of W
    where h is non-zero only: h[nz] W[nz]. Equal to ``h @ W`` up to float rounding."""
    nz = torch.nonzero(h).flatten()
    return h.index_select(0, nz) @ W.index_select(0, nz)


def matmul_flops(units: int, out: int, nonzero: int | None = None) -> int:
    """Floating-point operations of h W for one input: 2 · units · out, or with
    ``nonzero`` rows kept, 2 · nonzero · out (a multiply and an add per weight read)."""
    checks.check_int("units", units, 1)
    checks.check_int("out", out, 1)
    kept = units if nonzero is None else checks.check_int("nonzero", nonzero, 0, units)
    return 2 * kept * out


@dataclass(frozen=True)
class SkipState:
    """A down-projection of ``units`` → ``out`` (a transformer's W2), one input at a time,
    with the given shares of exact zeros in the input; ``repeats`` interleaved timing
    repeats of ``number`` calls each; ``seed`` draws the weights and which units are
    zero; ``threads`` for torch while timing."""

    units: int = 3072
    out: int = 768
    sparsities: tuple = (0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
    repeats: int = 7
    number: int = 20
    seed: int = 0
    threads: int = 1

    def __post_init__(self):
        checks.check_int("units", self.units, 1, 1 << 16)
        checks.check_int("out", self.out, 1, 1 << 16)
        checks.check_int("repeats", self.repeats, 1, 1000)
        checks.check_int("number", self.number, 1, 100_000)
        checks.check_seed("seed", self.seed)
        checks.check_int("threads", self.threads, 1, 256)
        if len(self.sparsities) < 1:
            raise ValueError("sparsities must hold at least one value")
        for s in self.sparsities:
            checks.check_number("each of sparsities", s, 0, 1, hi_open=True)


@dataclass(frozen=True)
class SkipResult:
    """Per sparsity: the non-zero count, the FLOPs of the dense and of the skipping
    product (deterministic), and the median seconds per call of each (this machine, this
    run: never asserted). ``max_error`` is the largest |dense − skipping| seen."""

    state: SkipState
    sparsities: np.ndarray
    nonzero: np.ndarray
    dense_flops: int
    skip_flops: np.ndarray
    dense_seconds: np.ndarray
    skip_seconds: np.ndarray
    max_error: float

    @property
    def speedup(self) -> np.ndarray:
        """Measured dense time / skipping time, per sparsity (> 1: skipping was faster)."""
        return self.dense_seconds / self.skip_seconds

    @property
    def flop_ratio(self) -> np.ndarray:
        """Dense FLOPs / skipping FLOPs, per sparsity: the most skipping could save."""
        return self.dense_flops / np.maximum(self.skip_flops, 1)

    def break_even(self) -> float:
        """The smallest sparsity measured at which skipping was faster than the dense
        product (NaN if at none): a measurement of this machine, this run."""
        faster = np.flatnonzero(self.speedup > 1)
        return float(self.sparsities[faster[0]]) if faster.size else float("nan")


def compute_skip_timing(state: SkipState) -> SkipResult:
    """Time h W against :func:`skip_zero_rows` for one input at each sparsity of the
    state (interleaved repeats, :func:`rectified.timing.time_many`). ReLU today
    chapter."""
    checks.check_type("state", state, SkipState, "a SkipState")
    gen = torch.Generator().manual_seed(state.seed)
    W = torch.randn(state.units, state.out, generator=gen) / state.units ** 0.5
    base = torch.rand(state.units, generator=gen) + 0.1          # all non-zero
    order = torch.randperm(state.units, generator=gen)
    old = torch.get_num_threads()
    torch.set_num_threads(state.threads)
    try:
        nonzero, dense_s, skip_s, err = [], [], [], 0.0
        for s in state.sparsities:
            h = base.clone()
            n_zero = int(round(s * state.units))
            h[order[:n_zero]] = 0.0
            err = max(err, float((h @ W - skip_zero_rows(h, W)).abs().max()))
            t = timing.time_many({"dense": lambda h=h: h @ W,
                                  "skip": lambda h=h: skip_zero_rows(h, W)},
                                 repeats=state.repeats, number=state.number)
            nonzero.append(state.units - n_zero)
            dense_s.append(t["dense"].median)
            skip_s.append(t["skip"].median)
    finally:
        torch.set_num_threads(old)
    nonzero = np.array(nonzero)
    return SkipResult(state, np.array(state.sparsities, dtype=float), nonzero,
                      matmul_flops(state.units, state.out),
                      np.array([matmul_flops(state.units, state.out, int(n))
                                for n in nonzero]),
                      np.array(dense_s), np.array(skip_s), err)
