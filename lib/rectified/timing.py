"""A small timing harness: warm-up calls, repeats, medians, interleaved comparisons.

Timings on a shared machine are noisy. The harness reports the median of several repeats
(robust to a few slow outliers), and :func:`time_many` interleaves the candidates repeat
by repeat, so a burst of background load hits all of them alike instead of one.
For GPU work pass ``sync=cuda_sync(device)``: kernels run asynchronously and the clock
must wait for them.

    >>> t = time_many({"copy": lambda: x.copy(), "relu": lambda: np.maximum(x, 0)})
    >>> t["relu"].median / t["copy"].median

Why-ReLU part 2 chapter (the cost of an activation next to a copy and a matmul).
"""

from __future__ import annotations

import math
import time
import tracemalloc
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch

__all__ = ["Timing", "time_call", "time_many", "cuda_sync", "forward_backward",
           "bandwidth_gb_s", "peak_memory", "multiply_adds"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call, one entry per repeat (each repeat averages ``number`` calls)."""

    label: str
    times: tuple
    number: int = 1

    @property
    def median(self) -> float:
        return float(np.median(self.times))

    @property
    def best(self) -> float:
        return float(np.min(self.times))

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (0.1 = the middle half of the
        repeats lies within ±5 % of the median, roughly)."""
        q1, q3 = np.percentile(self.times, [25, 75])
        return float((q3 - q1) / self.median) if self.median > 0 else math.inf

    def __repr__(self):
        return (f"Timing({self.label!r}: median {self.median * 1e3:.3g} ms over "
                f"{len(self.times)} repeats × {self.number})")


def _check_counts(repeats, warmup, number):
    for name, v, lo in (("repeats", repeats, 1), ("warmup", warmup, 0), ("number", number, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")


def _one_repeat(fn, number, sync, clock):
    if sync is not None:
        sync()
    start = clock()
    for _ in range(number):
        fn()
    if sync is not None:
        sync()
    return (clock() - start) / number


def time_call(fn: Callable[[], object], repeats: int = 7, warmup: int = 1, number: int = 1,
              sync: Callable[[], None] | None = None, label: str = "",
              clock: Callable[[], float] = time.perf_counter) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed repeats of
    ``number`` calls each. ``sync`` (e.g. :func:`cuda_sync`) runs before and after each
    repeat."""
    return time_many({label: fn}, repeats, warmup, number, sync, clock)[label]


def time_many(fns: Mapping[str, Callable[[], object]], repeats: int = 7, warmup: int = 1,
              number: int = 1, sync: Callable[[], None] | None = None,
              clock: Callable[[], float] = time.perf_counter) -> dict[str, Timing]:
    """Time several functions, interleaved: repeat r times every function once before
    repeat r + 1 starts. Returns {label: :class:`Timing`} in the order given."""
    if not isinstance(fns, Mapping) or not fns:
        raise ValueError("fns must be a non-empty mapping of label -> zero-argument callable")
    for label, fn in fns.items():
        if not callable(fn):
            raise TypeError(f"fns[{label!r}] must be callable, got {type(fn).__name__}")
    _check_counts(repeats, warmup, number)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    if sync is not None:
        sync()
    times = {label: [] for label in fns}
    for _ in range(repeats):
        for label, fn in fns.items():
            times[label].append(_one_repeat(fn, number, sync, clock))
    return {label: Timing(label, tuple(t), number) for label, t in times.items()}


def cuda_sync(device: str | torch.device = "cuda") -> Callable[[], None] | None:
    """A function that waits for ``device``'s queued kernels, or None for the CPU."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    if not torch.cuda.is_available():
        raise ValueError("cuda_sync('cuda') was asked for but torch sees no CUDA device")
    return lambda: torch.cuda.synchronize(device)


def forward_backward(fn: Callable[[torch.Tensor], torch.Tensor],
                     x: torch.Tensor, upstream: torch.Tensor | None = None
                     ) -> Callable[[], None]:
    """A zero-argument closure that runs y = fn(x) and the backward pass into x's
    gradient with a fixed upstream gradient (ones unless ``upstream`` is given) — what
    one training step asks of an activation.

    ``x`` is copied into a new leaf tensor, unless it already is a leaf that requires a
    gradient: then it is used as it is, so that several closures can share one input
    (and one ``upstream``) instead of holding a copy each. Each call resets its grad."""
    if x.is_leaf and x.requires_grad:
        leaf = x
    else:
        leaf = x.detach().clone().requires_grad_(True)
    with torch.no_grad():
        shape = fn(leaf).shape
    if upstream is None:
        upstream = torch.ones(shape, dtype=leaf.dtype, device=leaf.device)
    elif upstream.shape != shape:
        raise ValueError(f"upstream must have the shape of fn(x), {tuple(shape)}, "
                         f"got {tuple(upstream.shape)}")

    def step():
        leaf.grad = None
        fn(leaf).backward(upstream)

    return step


def bandwidth_gb_s(timing: Timing, nbytes: float) -> float:
    """Effective memory bandwidth in GB/s: bytes read plus written per call ÷ median time."""
    if nbytes <= 0:
        raise ValueError(f"nbytes must be > 0, got {nbytes!r}")
    return nbytes / timing.median / 1e9


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated while ``fn()`` runs, its result included, as traced by
    :mod:`tracemalloc` (which sees numpy's arrays, not torch's tensors). Divided by an
    array's size it counts how many arrays of that size were alive at once.
    Why-ReLU part 2 chapter (the temporaries of a written-out sigmoid)."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    del result
    return peak - before


def multiply_adds(fn: Callable[[], object]) -> int:
    """Multiply-adds of the matrix products and convolutions ``fn()`` runs in torch, as
    counted by torch's FLOP counter (FLOPs ÷ 2; element-wise operations count 0).
    Why-ReLU part 2 chapter (a layer's matmul next to its activation)."""
    from torch.utils.flop_counter import FlopCounterMode

    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() // 2
