"""Argument checks shared by the whole library.

Each check raises where a bad value enters: a TypeError for the wrong kind of value, a
ValueError for a value of the right kind outside what is allowed. Every message names the
argument, shows the value and says what is allowed, e.g. ``lr must be a finite number > 0,
got nan``. Each check returns the value in a plain form (int, float, array).
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

__all__ = ["check_int", "check_seed", "check_number", "check_array", "check_choice",
           "check_type", "MAX_SEED"]

#: The largest seed accepted: torch's generators take seeds below 2**64, numpy any int >= 0.
MAX_SEED = 2 ** 63 - 1


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) \
        and not isinstance(value, (bool, np.bool_))


def _bounds(lo, hi, lo_open=False, hi_open=False) -> str:
    """' >= lo', ' < hi', ' in [lo, hi]' or '' as the range allows."""
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {hi}"
    return ""


def _hint(hint: str) -> str:
    return f" ({hint})" if hint else ""


def check_int(name: str, value, lo: int | None = None, hi: int | None = None,
              hint: str = "") -> int:
    """``value`` as an int: TypeError unless it is an int (numpy ints too, bools not),
    ValueError unless lo <= value <= hi (a bound of None is no bound)."""
    allowed = f"an int{_bounds(lo, hi)}{_hint(hint)}"
    if not _is_int(value):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def check_seed(name: str, value) -> int:
    """``value`` as a seed: an int in [0, :data:`MAX_SEED`] (TypeError for a non-int,
    ValueError for a negative or too large one)."""
    return check_int(name, value, 0, MAX_SEED, "a random seed")


def check_number(name: str, value, lo: float | None = None, hi: float | None = None, *,
                 lo_open: bool = False, hi_open: bool = False, hint: str = "") -> float:
    """``value`` as a float: TypeError unless it is a real number (not a bool or a string),
    ValueError unless it is finite and within the bounds (``lo_open``/``hi_open`` exclude
    the bound itself)."""
    allowed = f"a finite number{_bounds(lo, hi, lo_open, hi_open)}{_hint(hint)}"
    if not _is_real(value):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or (lo is not None and (v <= lo if lo_open else v < lo)) \
            or (hi is not None and (v >= hi if hi_open else v > hi)):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return v


def check_array(name: str, value, ndim: int | Iterable[int] | None = None, *,
                finite: bool = True, min_rows: int = 1):
    """``value`` (a list, numpy array or torch tensor) checked to hold numbers, to have
    ``ndim`` dimensions (an int or a set of them), at least ``min_rows`` rows along the
    first axis and, with ``finite``, no NaN or infinity. A tensor is returned as it is,
    anything else as a numpy array."""
    try:
        import torch
        is_tensor = isinstance(value, torch.Tensor)
    except ImportError:                                   # pragma: no cover
        is_tensor = False
    if is_tensor:
        arr = value
        numeric = not value.dtype.is_complex
        shape = tuple(value.shape)
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as err:
            raise TypeError(f"{name} must be an array of numbers, got {value!r}") from err
        numeric = arr.dtype.kind in "biuf"
        shape = arr.shape
    if not numeric:
        raise TypeError(f"{name} must be an array of numbers, got dtype "
                        f"{arr.dtype} ({value!r:.80})")
    if ndim is not None:
        allowed = {ndim} if isinstance(ndim, int) else set(ndim)
        if len(shape) not in allowed:
            dims = " or ".join(str(d) for d in sorted(allowed))
            raise ValueError(f"{name} must have {dims} dimensions, got shape {shape}")
    rows = shape[0] if shape else 1
    if rows < min_rows or (len(shape) and 0 in shape):
        raise ValueError(f"{name} must not be empty (need at least {min_rows} "
                         f"row{'' if min_rows == 1 else 's'}), "
                         f"got shape {shape}")
    if finite:
        ok = bool(torch.isfinite(arr).all()) if is_tensor else bool(np.isfinite(arr).all())
        if not ok:
            raise ValueError(f"{name} must hold finite numbers only, got NaN or infinity "
                             f"(shape {shape})")
    return arr


def check_choice(name: str, value, allowed: Iterable) -> object:
    """``value`` unchanged if it is one of ``allowed``; ValueError listing them otherwise."""
    allowed = list(allowed)
    try:
        ok = value in allowed
    except TypeError:                                     # e.g. an unhashable value
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, "
                         f"got {value!r}")
    return value


def check_type(name: str, value, kind: type | tuple, what: str):
    """``value`` unchanged if it is an instance of ``kind``; TypeError naming ``what``
    (e.g. 'a RecurrenceState') otherwise."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value
