"""Learning one task after another, and measuring what the first one loses.

Catastrophic forgetting (McCloskey & Cohen 1989): a network trained on task A and then on
task B loses much of its skill on A, because the second training moves the weights that A
relied on. :func:`train_two_tasks` runs that protocol with the book's training loop and
records task A's test accuracy at every record of the second training.

    >>> a = data.digits(seed=0); b = data.permuted(a, seed=1)
    >>> res = train_two_tasks(models.MLP(64, [64], 10), a, b, cfg)
    >>> res.first_before, res.first_after, res.forgotten, res.second_after

One arm of the chapter's comparison is a :class:`ForgettingState`; its rate
comes from :func:`tune_lr` on a validation split and its seeds' runs from
:func:`compute_forgetting`.

Maxout chapter (Goodfellow et al. 2013, "An empirical investigation of catastrophic
forgetting").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from torch import nn

from . import activations, checks, compare
from .data import Dataset
from .models import MLP
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


# --- One arm of the forgetting experiment: tune, train on A, then on B -----

__all__ += ["ForgettingState", "ForgettingResult", "train_first_task",
            "tune_lr", "compute_forgetting"]


@dataclass(frozen=True)
class ForgettingState:
    """One arm of the forgetting experiment: a one-hidden-layer MLP and how
    it is trained.

    ``width`` hidden units of ``activation`` (``k`` pieces each for maxout),
    ``dropout`` on the hidden outputs, He initialisation. Task A: Adam at
    ``lr``, batches of ``batch_size``, ``epochs`` epochs. Task B: the same
    optimiser and rate until the net fits ``stop_at`` of B's training set (at
    most ``max_epochs_b`` epochs, a record every ``record_every`` steps;
    None: once per epoch). Maxout chapter.
    """

    activation: str = "relu"
    width: int = 64
    k: int = 1
    dropout: float = 0.0
    lr: float = 0.01
    epochs: int = 8
    batch_size: int = 128
    stop_at: float = 0.99
    max_epochs_b: int = 30
    record_every: int | None = None

    def __post_init__(self):
        if self.activation not in activations.names(include_grouped=True):
            raise ValueError(f"unknown activation {self.activation!r}; known: "
                             f"{', '.join(activations.names(include_grouped=True))}")
        checks.check_int("width", self.width, 1, 4096, "hidden units")
        checks.check_int("k", self.k, 1, 64, "pieces per unit")
        checks.check_number("dropout", self.dropout, 0, 1, hi_open=True)
        checks.check_number("lr", self.lr, 0, lo_open=True)
        for name in ("epochs", "batch_size", "max_epochs_b"):
            checks.check_int(name, getattr(self, name), 1)
        checks.check_number("stop_at", self.stop_at, 0, 1, lo_open=True,
                            hint="a training accuracy")
        if self.record_every is not None:
            checks.check_int("record_every", self.record_every, 1, hint="or None")

    def model(self, task: Dataset, seed: int) -> MLP:
        """A fresh network for ``task`` (its inputs and classes), seeded."""
        return MLP(task.n_features, [self.width], task.n_classes,
                   activation=self.activation, k=self.k,
                   dropout=self.dropout, seed=seed)

    def config_first(self, seed: int) -> TrainConfig:
        """Training on task A: a record only at the start and at the end."""
        return TrainConfig(optimizer="adam", lr=self.lr, epochs=self.epochs,
                           batch_size=self.batch_size, seed=seed,
                           diagnostics=False, record_every=10 ** 9)

    def config_second(self, seed: int) -> TrainConfig:
        """Training on task B until ``stop_at`` of its training set fits."""
        if not 0 < self.stop_at <= 1:
            raise ValueError(f"stop_at must be a training accuracy in (0, 1], "
                             f"got {self.stop_at!r}")
        return TrainConfig(optimizer="adam", lr=self.lr,
                           epochs=self.max_epochs_b,
                           batch_size=self.batch_size, seed=seed,
                           diagnostics=False, stop_at_train_acc=self.stop_at,
                           record_every=self.record_every)


def _check_state(state):
    if not isinstance(state, ForgettingState):
        raise TypeError(f"state must be a ForgettingState, got "
                        f"{type(state).__name__}")


def _check_seeds(seeds) -> tuple:
    seeds = tuple(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer))
                            and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of ints, got "
                         f"{seeds!r}")
    return seeds


def train_first_task(state: ForgettingState, task: Dataset,
                     seed: int) -> tuple[MLP, History]:
    """Train the arm's network on ``task`` alone: (the trained net, its
    History)."""
    _check_state(state)
    _check_tasks(task, task)
    net = state.model(task, seed)
    return net, train(net, task, state.config_first(seed))


def tune_lr(state: ForgettingState, validation: Dataset, grid, seeds):
    """The arm's own Adam learning rate, as a
    :class:`~rectified.compare.LRChoice`.

    For each rate of ``grid`` (neighbours at most a factor 2 apart): the
    median over ``seeds`` of the test accuracy on ``validation`` (a split of
    task A's *training* set) after task-A training. The grid grows while the
    best rate sits at its edge (:func:`rectified.compare.tune_lr`).
    """
    _check_state(state)
    seeds = _check_seeds(seeds)

    def evaluate(lrs):
        return {lr: [train_first_task(replace(state, lr=lr), validation,
                                      s)[1].test_acc[-1] for s in seeds]
                for lr in lrs}

    return compare.tune_lr(evaluate, grid, lower_is_better=False)


@dataclass(frozen=True, eq=False)
class ForgettingResult:
    """Every seed's first-A-then-B run of one arm (a :class:`TwoTaskResult`
    each, with its task-A history) and the per-seed numbers the chapter
    compares."""

    state: ForgettingState
    seeds: tuple
    runs: tuple

    def _per_seed(self, get) -> np.ndarray:
        return np.array([get(r) for r in self.runs], dtype=float)

    @property
    def forgotten(self) -> np.ndarray:
        """Task-A test accuracy lost by the time B is learned, per seed."""
        return self._per_seed(lambda r: r.forgotten)

    @property
    def train_acc_first(self) -> np.ndarray:
        """Task-A training accuracy after training on A, per seed."""
        return self._per_seed(lambda r: r.history_first.train_acc[-1])

    @property
    def test_acc_first(self) -> np.ndarray:
        """Task-A test accuracy after training on A, per seed."""
        return self._per_seed(lambda r: r.first_before)

    @property
    def first_after(self) -> np.ndarray:
        """Task-A test accuracy once B is learned, per seed."""
        return self._per_seed(lambda r: r.first_after)

    @property
    def test_loss_first(self) -> np.ndarray:
        """Task-A test cross-entropy after training on A, per seed."""
        return self._per_seed(lambda r: r.history_first.test_loss[-1])

    @property
    def gap_first(self) -> np.ndarray:
        """Task-A training minus test accuracy after training on A."""
        return self.train_acc_first - self.test_acc_first

    @property
    def epochs_second(self) -> np.ndarray:
        """Epochs of training on B until the stop, per seed."""
        return self._per_seed(lambda r: r.second_epochs[-1])

    def first_when_second_reaches(self, level: float) -> np.ndarray:
        """Task-A test accuracy at the first record where B's training
        accuracy reached ``level``, per seed (NaN where it never did)."""
        def at(r):
            hit = np.flatnonzero(np.asarray(r.history_second.train_acc)
                                 >= level)
            return r.first_curve[hit[0]] if hit.size else np.nan
        return self._per_seed(at)


def compute_forgetting(state: ForgettingState, first: Dataset,
                       second: Dataset, seeds) -> ForgettingResult:
    """Train one arm on task A, then on task B (:func:`train_two_tasks`),
    once per seed, with the state's configs; each run's network and data
    order come from its seed."""
    _check_state(state)
    seeds = _check_seeds(seeds)
    runs = tuple(train_two_tasks(state.model(first, s), first, second,
                                 state.config_first(s),
                                 state.config_second(s))
                 for s in seeds)
    return ForgettingResult(state, seeds, runs)
