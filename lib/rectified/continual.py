"""Learning one task after another, and measuring what the first one loses.

Catastrophic forgetting (McCloskey & Cohen 1989): a network trained on task A and then on
task B loses much of its skill on A, because the second training moves the weights that A
relied on. :func:`train_two_tasks` runs that protocol with the book's training loop and
records task A's test accuracy at every record of the second training.

    >>> a = data.digits(seed=0); b = data.permuted(a, seed=1)
    >>> res = train_two_tasks(models.MLP(64, [64], 10), a, b, cfg)
    >>> res.first_before, res.first_after, res.forgotten, res.second_after

Maxout chapter (Goodfellow et al. 2013, "An empirical investigation of catastrophic
forgetting").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from .data import Dataset
from .train import History, TrainConfig, as_tensors, evaluate, train

__all__ = ["TwoTaskResult", "learn_second_task", "train_two_tasks"]


@dataclass(frozen=True)
class TwoTaskResult:
    """Accuracies of a first-A-then-B run (test sets, eval mode)."""

    first_before: float          # on A, after training on A
    first_after: float           # on A, after training on B as well
    second_after: float          # on B, after training on B
    first_curve: np.ndarray      # on A, at every record of the training on B (first = before)
    second_epochs: np.ndarray    # the epochs on B of those records
    history_first: History | None  # the training on A, when it was done here
    history_second: History      # the training on B (train = B's, test = A's test set)

    @property
    def forgotten(self) -> float:
        """Accuracy on A lost by training on B (first_before − first_after)."""
        return self.first_before - self.first_after


def _check_tasks(first, second):
    for ds, name in ((first, "first"), (second, "second")):
        if not isinstance(ds, Dataset):
            raise TypeError(f"{name} must be a rectified.data.Dataset, got {type(ds).__name__}")
        if not ds.is_classification:
            raise ValueError(f"{name} must be a classification task (n_classes set), got {ds!r}")
    if first.n_classes != second.n_classes or first.n_features != second.n_features:
        raise ValueError(f"the two tasks must share the input size and the classes, got "
                         f"{first!r} and {second!r}")


def learn_second_task(model: nn.Module, first: Dataset, second: Dataset, cfg: TrainConfig,
                      history_first: History | None = None) -> TwoTaskResult:
    """Train ``model``, already trained on ``first``, on ``second`` with ``cfg`` (e.g. with
    ``stop_at_train_acc`` to stop once the second task is learned).

    The training history's test set is *first*'s test set, so ``history_second.test_acc``
    is task A's accuracy as B is being learned and ``history_second.train_acc`` is B's
    training accuracy.
    """
    _check_tasks(first, second)
    return _learn_second_task(model, first, second, cfg, history_first)


def _learn_second_task(model, first, second, cfg, history_first):
    tracking = Dataset(second.X_train, second.y_train, first.X_test, first.y_test,
                       f"{second.name}, tracking {first.name}", second.n_classes)
    h2 = train(model, tracking, cfg)
    device = next(model.parameters()).device
    Xb, yb = as_tensors(second.X_test, second.y_test, device)
    return TwoTaskResult(
        first_before=h2.test_acc[0], first_after=h2.test_acc[-1],
        second_after=evaluate(model, Xb, yb)[1],
        first_curve=np.asarray(h2.test_acc), second_epochs=np.asarray(h2.epoch),
        history_first=history_first, history_second=h2)


def train_two_tasks(model: nn.Module, first: Dataset, second: Dataset, cfg: TrainConfig,
                    second_cfg: TrainConfig | None = None) -> TwoTaskResult:
    """Train ``model`` on ``first`` with ``cfg``, then on ``second`` with ``second_cfg``
    (default ``cfg``) as :func:`learn_second_task` does."""
    _check_tasks(first, second)      # before training on the first task, not after
    h1 = train(model, first, cfg)
    return _learn_second_task(model, first, second, second_cfg or cfg, h1)
