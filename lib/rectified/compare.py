"""Comparing training runs: how long each took to reach a target, and which setting is best.

The measurements a comparison of activations, initialisations or learning rates reads off
recorded :class:`~rectified.train.History` objects. Why-ReLU part 2 and the rectifier
family chapters.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from .train import History

__all__ = ["epochs_to_target", "best_by_median"]


def epochs_to_target(hist: History, target_acc: float, interpolate: bool = False) -> float:
    """Epochs until the training accuracy first reaches ``target_acc``; ``inf`` when it
    never does (a stalled or diverged run).

    ``interpolate=True`` estimates the crossing between the last record below the target
    and the first at or above it by linear interpolation of the accuracy, instead of
    returning the record's epoch (a finer answer from coarse records).
    """
    e = hist.first_epoch_reaching("train_acc", target_acc)
    if e is None:
        return math.inf
    j = hist.epoch.index(e)
    if not interpolate or j == 0:
        return float(e)
    (e0, e1), (a0, a1) = hist.epoch[j - 1:j + 1], hist.train_acc[j - 1:j + 1]
    return float(e0 + (e1 - e0) * (target_acc - a0) / (a1 - a0))


def best_by_median(results: Mapping[object, Sequence[float]]):
    """The key whose values have the smallest median (ties → first key), and that median.

    Used to pick each network's best learning rate from {lr: [epochs to target per seed]}.
    """
    if not results:
        raise ValueError("best_by_median needs at least one entry")
    medians = {k: float(np.median(np.asarray(v, dtype=float))) for k, v in results.items()}
    best = min(medians, key=lambda k: medians[k])
    return best, medians[best]
