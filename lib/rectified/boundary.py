"""Decision boundaries of two-input, two-class classifiers: the curve itself and, for a
piecewise-linear network, its straight pieces.

Inside one activation region a ReLU-family MLP is an affine map, so the set where its two
logits are equal is a straight line there; a region is convex, so the boundary meets it in
at most one straight segment. The boundary is therefore a polygon whose corners sit on
region borders, where some unit switches on or off.

    >>> pieces = boundary_pieces(relu_net, xlim=(-1.3, 1.3), ylim=(-1.3, 1.3))
    >>> pieces.n_pieces, pieces.max_deviation()

Why-nonlinearity chapter (the ring: tanh draws a curve, ReLU a polygon).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import diagnostics, models

__all__ = ["decision_contour", "chord_deviation", "BoundaryPieces", "boundary_pieces"]


def _check_resolution(resolution) -> int:
    if not isinstance(resolution, (int, np.integer)) or isinstance(resolution, bool) \
            or resolution < 3:
        raise ValueError(f"resolution must be an int >= 3, got {resolution!r}")
    return int(resolution)


@torch.no_grad()
def _logit_gap(model: nn.Module, pts: np.ndarray) -> np.ndarray:
    """logit₁ − logit₀ (two outputs) or the single logit (one output) at the points."""
    device = next(model.parameters()).device
    with models.eval_mode(model):
        out = model(torch.as_tensor(pts, dtype=torch.float32, device=device))
    if out.dim() != 2 or out.shape[1] not in (1, 2):
        raise ValueError(f"model must map (n, 2) inputs to 1 or 2 logits, got output shape "
                         f"{tuple(out.shape)}")
    gap = out[:, 1] - out[:, 0] if out.shape[1] == 2 else out[:, 0]
    return gap.double().cpu().numpy()


def decision_contour(model: nn.Module, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0),
                     resolution: int = 300) -> list[np.ndarray]:
    """The polylines where a 2-input classifier gives P(class 1) = 1/2, i.e. where
    logit₁ − logit₀ = 0, traced on a resolution² grid; each an array of shape (m, 2),
    longest first. A closed curve repeats its first point at the end."""
    import contourpy   # matplotlib's contouring engine, installed with it

    resolution = _check_resolution(resolution)
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    gx, gy = np.meshgrid(xs, ys)
    gap = _logit_gap(model, np.c_[gx.ravel(), gy.ravel()]).reshape(resolution, resolution)
    lines = contourpy.contour_generator(gx, gy, gap).lines(0.0)
    return sorted((np.asarray(l, dtype=float) for l in lines if len(l) >= 2),
                  key=len, reverse=True)


def chord_deviation(points) -> float:
    """Largest distance of a polyline's points from the straight line (chord) through its
    first and last point: 0 for a straight piece, larger the more the piece bends."""
    p = np.asarray(points, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (m, 2), got {p.shape}")
    if len(p) < 3:
        return 0.0
    d = p[-1] - p[0]
    length = np.hypot(*d)
    if length == 0:
        return float(np.hypot(*(p - p[0]).T).max())
    return float(np.abs(d[0] * (p[:, 1] - p[0, 1]) - d[1] * (p[:, 0] - p[0, 0])).max() / length)


@dataclass(frozen=True)
class BoundaryPieces:
    """A decision boundary cut where it crosses from one activation region to the next.

    ``pieces`` holds the traced boundary points of each piece, in order along each
    contour line; ``corners`` the points where consecutive pieces meet.
    """

    pieces: list
    corners: np.ndarray

    @property
    def n_pieces(self) -> int:
        return len(self.pieces)

    def max_deviation(self) -> float:
        """The largest :func:`chord_deviation` of any piece, its two end points left out
        (they are interpolated across a region border, so they may sit off the line)."""
        return max((chord_deviation(p[1:-1]) for p in self.pieces if len(p) >= 5), default=0.0)


def _runs(keys: list) -> list[tuple[int, int]]:
    """[start, stop) index ranges of equal consecutive keys."""
    runs, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i))
            start = i
    return runs


def boundary_pieces(model: nn.Module, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0),
                    resolution: int = 300) -> BoundaryPieces:
    """Split a piecewise-linear MLP's decision boundary into its straight pieces.

    Each traced point of :func:`decision_contour` gets the on/off pattern of every hidden
    unit there; a run of points with one pattern lies in one linear region, where the
    boundary is straight. Runs of a single point (the trace cutting a region's corner
    finer than the grid resolves) are dropped, and on a closed curve the first and last
    runs join when they share a pattern.
    """
    diagnostics.piecewise_linear_layers(model)      # raises for other activations
    corners, pieces = [], []
    for line in decision_contour(model, xlim, ylim, resolution):
        closed = len(line) > 2 and np.allclose(line[0], line[-1])
        pts = line[:-1] if closed else line
        keys = [row.tobytes() for row in diagnostics.activation_patterns(model, pts)]
        runs = [r for r in _runs(keys) if r[1] - r[0] > 1] or [(0, len(keys))]
        merged = [runs[0]]
        for r in runs[1:]:
            if keys[r[0]] == keys[merged[-1][0]]:
                merged[-1] = (merged[-1][0], r[1])
            else:
                merged.append(r)
        segs = [pts[a:b] for a, b in merged]
        if closed and len(merged) > 1 and keys[merged[0][0]] == keys[merged[-1][0]]:
            segs = [np.vstack([segs[-1], segs[0]])] + segs[1:-1]
        if len(segs) > 1:      # a corner between consecutive pieces (and last to first)
            nxt = segs[1:] + segs[:1] if closed else segs[1:]
            corners += [(s[-1] + t[0]) / 2 for s, t in zip(segs, nxt)]
        pieces += segs
    return BoundaryPieces(pieces, np.asarray(corners, dtype=float).reshape(-1, 2))
