"""The training engine: one loop that trains a single model, or every member of an
:class:`~rectified.models.MLPEnsemble` at once, and records a :class:`History`.

    >>> cfg = TrainConfig(optimizer="adam", lr=0.01, epochs=20, batch_size=32, seed=0)
    >>> hist = train(model, dataset, cfg)
    >>> hist.loss[-1], hist.dead_fraction[-1]

    >>> ens = models.MLPEnsemble([models.MLP(64, [32], 10, seed=s) for s in range(3)])
    >>> hists = train(ens, dataset, [TrainConfig(lr=lr, epochs=20, seed=s)
    ...                              for lr, s in [(0.1, 0), (0.3, 1), (1.0, 2)]])

    >>> trainer = Trainer(model, dataset, cfg)       # the same run, some steps at a time
    >>> trainer.step(100).record()

The same model seed, data and config give an identical :class:`History`. An ensemble
member's history is the one :func:`train` would record for that member alone, up to float
rounding. A run whose loss becomes NaN or infinite stops and says so (``hist.diverged``,
``hist.message``) instead of raising. Used by every chapter that trains a network.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from . import checks, diagnostics
from .data import Dataset
from .models import Ensemble, eval_mode, resolve_device

__all__ = ["TrainConfig", "History", "Trainer", "train", "PlainSGD",
           "PlainAdam", "loss_function", "evaluate", "as_tensors",
           "OPTIMIZERS", "UnitTrace", "trace_units"]

OPTIMIZERS = ("sgd", "momentum", "adam")
_LOSSES = ("auto", "cross_entropy", "mse")
# What the members of an ensemble must share: the step schedule, the loss and the optimiser.
_SHARED = ("optimizer", "momentum", "batch_size", "epochs", "steps", "record_every", "loss",
           "weight_decay", "device", "clip")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run except the model and the data.

    Give exactly one of ``epochs`` and ``steps``. ``batch_size=None`` is full-batch.
    ``weight_decay`` is an L2 penalty on weight matrices (not biases, batch-norm or PReLU
    slopes, unless ``decay_prelu``). ``clip`` is a maximum global gradient norm.
    ``record_every`` counts steps between history records (default: once per epoch).
    ``activation_l1`` adds that multiple of the mean absolute hidden activation to the loss.
    ``stop_at_train_acc`` ends the run at the first record reaching that training accuracy.
    """

    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int | None = 32
    epochs: int | None = None
    steps: int | None = None
    weight_decay: float = 0.0
    decay_prelu: bool = False
    clip: float | None = None
    loss: str = "auto"
    activation_l1: float = 0.0
    record_every: int | None = None
    diagnostics: bool = True
    stop_at_train_acc: float | None = None
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; known: {', '.join(OPTIMIZERS)}")
        if self.loss not in _LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; known: {', '.join(_LOSSES)}")
        checks.check_number("lr", self.lr, 0, lo_open=True)
        if (self.epochs is None) == (self.steps is None):
            raise ValueError(f"give exactly one of epochs and steps, got epochs={self.epochs!r}, "
                             f"steps={self.steps!r}")
        for name in ("epochs", "steps", "batch_size", "record_every"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"{name} must be a positive int or None, got {v!r}")
        for name in ("weight_decay", "activation_l1"):
            checks.check_number(name, getattr(self, name), 0)
        checks.check_number("momentum", self.momentum, 0, 1)
        if self.clip is not None:
            checks.check_number("clip", self.clip, 0, lo_open=True, hint="or None")
        if self.stop_at_train_acc is not None:
            checks.check_number("stop_at_train_acc", self.stop_at_train_acc, 0, 1,
                                hint="a training accuracy, or None")
        checks.check_seed("seed", self.seed)
        for name in ("diagnostics", "decay_prelu"):
            checks.check_type(name, getattr(self, name), (bool, np.bool_), "a bool")
        checks.check_type("device", self.device, (str, torch.device),
                          "'cpu', 'cuda', 'auto' or a torch.device")


@dataclass
class History:
    """What a run recorded, one entry per record (the first one before any step).

    Per-layer lists (``grad_norm``, ``act_rate``, ``dead_fraction``) hold one value per
    weight layer / hidden layer, from the input side; they stay empty for ensemble members
    and with ``diagnostics=False``. Accuracies are NaN for regression, test metrics NaN when
    the run skipped the test set.
    """

    config: dict
    step: list = field(default_factory=list)
    epoch: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    act_rate: list = field(default_factory=list)
    dead_fraction: list = field(default_factory=list)
    diverged: bool = False
    message: str = ""

    def add(self, step, epoch, loss, train_acc, test_loss, test_acc) -> None:
        """Append one record of the per-record metrics (not the per-layer lists)."""
        self.step.append(step)
        self.epoch.append(epoch)
        self.loss.append(loss)
        self.train_acc.append(train_acc)
        self.test_loss.append(test_loss)
        self.test_acc.append(test_acc)

    def first_epoch_reaching(self, metric: str, threshold: float, above: bool = True):
        """First recorded epoch where ``metric`` ≥ threshold (or ≤ with ``above=False``);
        None if never reached."""
        values = getattr(self, metric)
        for e, v in zip(self.epoch, values):
            if (v >= threshold) if above else (v <= threshold):
                return e
        return None

    def as_arrays(self) -> dict:
        """The history as numpy arrays, for plotting and comparing."""
        return {k: np.asarray(v, dtype=float) for k, v in asdict(self).items()
                if isinstance(v, list)}


def as_tensors(X, y, device="cpu", classification=True):
    """numpy arrays → float32 inputs and int64 labels (or float32 targets) on ``device``."""
    dev = resolve_device(device)
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=dev)
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64 if classification else torch.float32,
                        device=dev)
    return X, y


def loss_function(name: str) -> Callable:
    """The torch loss ``name`` names, the batch mean of 'cross_entropy' or 'mse': what the
    engine trains with, and what the why-ReLU chapter's layer profiles differentiate."""
    if name == "cross_entropy":
        return nn.functional.cross_entropy
    if name == "mse":
        return nn.functional.mse_loss
    raise ValueError(f"loss must be 'cross_entropy' or 'mse', got {name!r}")


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss: str = "cross_entropy"):
    """(loss, accuracy) of ``model`` on (X, y) in eval mode; accuracy is NaN for 'mse'."""
    with eval_mode(model):
        out = model(X)
    value = float(loss_function(loss)(out, y))
    acc = float((out.argmax(1) == y).float().mean()) if loss == "cross_entropy" else math.nan
    return value, acc


def _member_losses(out: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Each member's mean loss: ``out`` (K, B, ·) against targets (B, ·) shared by the
    members or (K, B, ·), one per member."""
    if loss == "mse":
        return ((out - y) ** 2).mean(dim=(1, 2))
    k, b, c = out.shape
    return nn.functional.cross_entropy(out.reshape(k * b, c), y.expand(k, b).reshape(k * b),
                                       reduction="none").view(k, b).mean(1)


class PlainSGD(torch.optim.Optimizer):
    """Gradient descent written out: v ← μ·v + g (g + λ·W with ``weight_decay`` λ), then
    W ← W − lr·v, with lr·v rounded before it is subtracted.

    ``lr`` may be a tensor that broadcasts against the parameters, e.g. shape (K, 1, 1) for
    one learning rate per member of an ensemble's stacked weights, which torch's SGD cannot
    take. The engine uses it for ensembles trained with SGD or momentum; the kink-at-zero
    chapter's mixed-precision runs use it for their float32 master weights.
    """

    def __init__(self, params, lr, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                if group["momentum"]:
                    v = self.state[p].setdefault("velocity", torch.zeros_like(p))
                    v.mul_(group["momentum"]).add_(g)
                    g = v
                p.sub_(group["lr"] * g)


class PlainAdam(torch.optim.Optimizer):
    """Adam written out with torch's update rule: m ← β₁m + (1 − β₁)g,
    v ← β₂v + (1 − β₂)g², W ← W − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε),
    with g + λW for ``weight_decay`` λ.

    ``lr`` may be a tensor that broadcasts against the parameters, e.g. shape
    (K, 1, 1) for one learning rate per member of an ensemble's stacked
    weights, which torch's Adam cannot take. The engine uses it for ensembles
    trained with Adam at several learning rates (RNN chapter).
    """

    def __init__(self, params, lr, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["step"] += 1
                m, v = state["m"], state["v"]
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                t = state["step"]
                denom = (v.sqrt() / math.sqrt(1 - beta2 ** t)).add_(group["eps"])
                p.sub_(group["lr"] / (1 - beta1 ** t) * m / denom)


def clip_members_(params, max_norm: float) -> None:
    """Clip each ensemble member's gradient to global norm ``max_norm``, as
    ``torch.nn.utils.clip_grad_norm_`` clips one model's: the member's
    gradients (row k of every stacked parameter) are scaled by
    min(1, max_norm / (‖g_k‖ + 1e-6)). RNN chapter."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    norm = torch.sqrt(sum(g.pow(2).flatten(1).sum(1) for g in grads))
    coef = (max_norm / (norm + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))


__all__ += ["clip_members_"]


def _param_groups(model: nn.Module, cfg: TrainConfig):
    """Weight matrices and conv kernels (every parameter with 2+ dimensions) get the L2
    penalty; biases, batch-norm parameters and PReLU slopes do not, unless ``decay_prelu``.
    An ensemble's stacked weights get it, its stacked biases and PReLU slopes do not."""
    if isinstance(model, Ensemble):
        slopes = list(getattr(model, "slopes", []))
        decayed = slopes if cfg.decay_prelu else []
        kept = [] if cfg.decay_prelu else slopes
        return [{"params": list(model.weights) + decayed, "weight_decay": cfg.weight_decay},
                {"params": list(model.biases) + kept, "weight_decay": 0.0}]
    prelu = {id(p) for m in model.modules() if isinstance(m, nn.PReLU) for p in m.parameters()}
    decay, no_decay = [], []
    for p in model.parameters():
        if p.dim() >= 2 or (cfg.decay_prelu and id(p) in prelu):
            decay.append(p)
        else:
            no_decay.append(p)
    return [{"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def _make_optimizer(model: nn.Module, cfgs: list[TrainConfig]) -> torch.optim.Optimizer:
    """The optimiser the configs name: torch's Adam or SGD; for an ensemble trained with SGD
    or momentum, :class:`PlainSGD` with each member's own learning rate, and with Adam
    at more than one learning rate, :class:`PlainAdam`."""
    cfg = cfgs[0]
    groups = _param_groups(model, cfg)
    ensemble = isinstance(model, Ensemble)
    if ensemble:
        lr = torch.tensor([c.lr for c in cfgs],
                          device=model.weights[0].device).view(-1, 1, 1)
    if cfg.optimizer == "adam":
        if len({c.lr for c in cfgs}) > 1:
            return PlainAdam(groups, lr=lr)
        return torch.optim.Adam(groups, lr=cfg.lr)
    momentum = cfg.momentum if cfg.optimizer == "momentum" else 0.0
    if ensemble:
        return PlainSGD(groups, lr=lr, momentum=momentum)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=momentum)


def _resolve_loss(cfg: TrainConfig, data: Dataset) -> str:
    """``cfg.loss`` with 'auto' resolved: cross-entropy for classification, else MSE."""
    if cfg.loss != "auto":
        return cfg.loss
    return "cross_entropy" if data.is_classification else "mse"


def _schedule(cfg: TrainConfig, n: int) -> tuple[int, int, int, int]:
    """(batch size, steps per epoch, total steps, steps between records) for ``cfg`` on a
    training set of ``n`` examples (batch_size None: the whole set)."""
    batch = n if cfg.batch_size is None else min(cfg.batch_size, n)
    per_epoch = math.ceil(n / batch)
    total = cfg.steps if cfg.steps is not None else cfg.epochs * per_epoch
    every = cfg.record_every or (per_epoch if cfg.epochs is not None else max(1, total // 50))
    return batch, per_epoch, total, every


def _member_configs(model, cfg) -> list[TrainConfig]:
    """One TrainConfig per member (a single model is one member), checked."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module or a rectified.models.MLPEnsemble, "
                        f"got {type(model).__name__}")
    if not isinstance(model, Ensemble):
        if not isinstance(cfg, TrainConfig):
            raise TypeError(f"cfg must be a TrainConfig for a single model, got "
                            f"{type(cfg).__name__}")
        return [cfg]
    if isinstance(cfg, TrainConfig):
        cfgs = [cfg] * len(model)
    elif isinstance(cfg, Sequence) and not isinstance(cfg, str):
        cfgs = list(cfg)
    else:
        raise TypeError(f"cfg must be a TrainConfig or one TrainConfig per member, got "
                        f"{type(cfg).__name__}")
    if len(cfgs) != len(model):
        raise ValueError(f"need one TrainConfig per member: {len(model)} members, "
                         f"{len(cfgs)} configs")
    for c in cfgs:
        if not isinstance(c, TrainConfig):
            raise TypeError(f"cfg must hold TrainConfig objects, got {type(c).__name__}")
    first = cfgs[0]
    for name in _SHARED:
        for c in cfgs:
            if getattr(c, name) != getattr(first, name):
                raise ValueError(f"{name} must be the same for all members, got "
                                 f"{getattr(first, name)!r} and {getattr(c, name)!r}")
    return cfgs


class Trainer:
    """A training run advanced step by step: one model, or every member of an
    :class:`~rectified.models.MLPEnsemble` (or another
    :class:`~rectified.models.Ensemble`, e.g. of RNNs) with its own config
    (seed, learning rate, ``activation_l1``, ``stop_at_train_acc``; the
    schedule, loss, optimiser and clipping are shared).

    ``cfg`` is a :class:`TrainConfig`, or for an ensemble one per member (one config is
    shared by all). ``step(n)`` takes n optimiser steps, ``record()`` appends a record now,
    ``run()`` trains to the end of the schedule. The rules:

    - **Batches.** Each member draws its minibatch order from its own ``seed`` at every
      epoch. ``batch_size=None``: the whole training set at each step; a single model takes
      it in a fresh random order, an ensemble in stored order (one matrix product serves
      every member).
    - **Update.** Torch's SGD (``momentum``: heavy ball) or Adam; an ensemble trained with
      SGD or momentum uses :class:`PlainSGD` for its per-member learning rates. Weight decay
      acts on weight matrices only; ``clip`` bounds the global gradient norm
      (of each member on its own: :func:`clip_members_`). Adam at several
      learning rates in one ensemble is :class:`PlainAdam`.
    - **Records** every ``record_every`` steps (default: each epoch) and at the last step:
      training and test loss and accuracy, and for a single model with ``forward_hidden``
      and ``diagnostics`` the per-layer gradient norms, activation rates and dead fractions.
      ``test=False`` skips the test set (NaN). ``on_record(model, history)`` is called after
      every record (for an ensemble, with the list of histories).
    - **Stopping.** A member stops, keeping its weights, when its loss on a step's batch or
      on the training set at a record is not finite (``diverged``; the step is then taken
      again without it), or at the first record reaching its ``stop_at_train_acc``. The run
      ends when the schedule does or no member is left. Messages: ``"diverged at step s:
      training loss became v"``, ``"reached train accuracy a at step s"``, ``"finished s
      steps (e epochs)"``.

    ``optimizer`` replaces the optimiser the config names (single models; e.g. the
    mixed-precision runs of the kink-at-zero chapter). :func:`train` runs a Trainer to the
    end; the playground chapter steps one by hand.
    """

    def __init__(self, model: nn.Module, data: Dataset, cfg, *, test: bool = True,
                 on_record: Callable | None = None,
                 optimizer: torch.optim.Optimizer | None = None):
        if not isinstance(data, Dataset):
            raise TypeError(f"data must be a rectified.data.Dataset, got {type(data).__name__}")
        checks.check_array("data.X_train", data.X_train)
        checks.check_array("data.y_train", data.y_train)
        if test:
            checks.check_array("data.X_test", data.X_test)
            checks.check_array("data.y_test", data.y_test)
        self.cfgs = _member_configs(model, cfg)
        self.ensemble = isinstance(model, Ensemble)
        if optimizer is not None and self.ensemble:
            raise ValueError(f"optimizer replaces a single model's optimiser; an ensemble's "
                             f"comes from its configs, got optimizer={type(optimizer).__name__}")
        first = self.cfgs[0]
        self.model, self.test, self.on_record = model, test, on_record
        self.loss_name = _resolve_loss(first, data)
        device = resolve_device(first.device)
        model.to(device)
        cls = self.loss_name == "cross_entropy"
        self.Xtr, self.ytr = as_tensors(data.X_train, data.y_train, device, cls)
        self.Xte, self.yte = as_tensors(data.X_test, data.y_test, device, cls)
        self.batch, self.per_epoch, self.total, self.every = _schedule(first, len(self.Xtr))
        self.shared_batch = self.ensemble and first.batch_size is None
        if not self.ensemble:
            torch.manual_seed(first.seed)      # dropout and any other global-RNG module
        self.optimizer = optimizer or _make_optimizer(model, self.cfgs)
        self.histories = [History(config=asdict(c)) for c in self.cfgs]
        self.active = list(range(len(self.cfgs)))      # members still training
        self.step_count = 0
        self._l1 = torch.tensor([c.activation_l1 for c in self.cfgs], device=device)
        self._generators = [torch.Generator().manual_seed(c.seed) for c in self.cfgs]
        self._orders = self._draw_orders()
        self._stopped_weights = {}           # ensemble member → its weights when it stopped
        self._ended = False
        self.record()
        model.train()
        self._end_if_finished()

    @property
    def finished(self) -> bool:
        """True once the schedule is done or no member is left."""
        return not self.active or self.step_count >= self.total

    @property
    def history(self) -> History:
        """A single model's history (an ensemble has ``histories``, one per member)."""
        if self.ensemble:
            raise TypeError("an ensemble run has one history per member: use .histories")
        return self.histories[0]

    def run(self) -> "Trainer":
        """Train to the end of the schedule."""
        return self.step(self.total - self.step_count)

    def step(self, n: int = 1) -> "Trainer":
        """Take ``n`` optimiser steps, fewer if the run ends first; records fall due as the
        config schedules them."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be an int >= 0 (steps to take), got {n!r}")
        self.model.train()
        until = self.step_count + n
        while self.step_count < until and not self.finished:
            losses = self._batch_losses()
            finite = torch.isfinite(losses.detach())
            if not bool(finite.all()):
                for i in torch.nonzero(~finite).flatten().tolist()[::-1]:
                    self._stop(self.active[i], f"diverged at step {self.step_count}: training "
                                               f"loss became {float(losses[i].detach())}",
                               diverged=True)
                continue            # the same step again, without the members that diverged
            self.optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            if self.cfgs[0].clip is not None and self.ensemble:
                clip_members_(self.model.parameters(), self.cfgs[0].clip)
            elif self.cfgs[0].clip is not None:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.cfgs[0].clip)
            self.optimizer.step()
            self._hold_stopped_members()
            self.step_count += 1
            if self.step_count % self.every == 0 or self.step_count == self.total:
                self.record()
            if self.step_count % self.per_epoch == 0 and not self.finished:
                self._orders = self._draw_orders()
        self._end_if_finished()
        return self

    def record(self) -> "Trainer":
        """Append a record to each training member's history, then stop the members whose
        training loss is not finite or whose training accuracy reached its target."""
        if not self.active:
            return self
        step, epoch = self.step_count, self.step_count / self.per_epoch
        loss, acc = self._measure(self.Xtr, self.ytr)
        if self.test:
            test_loss, test_acc = self._measure(self.Xte, self.yte)
        else:
            test_loss = test_acc = [math.nan] * len(self.active)
        members = list(self.active)
        for i, k in enumerate(members):
            self.histories[k].add(step, epoch, loss[i], acc[i], test_loss[i], test_acc[i])
        if not self.ensemble and self.cfgs[0].diagnostics and \
                hasattr(self.model, "forward_hidden"):
            self._record_diagnostics(self.histories[0])
        if self.on_record is not None:
            was_training = self.model.training
            self.on_record(self.model, self.histories if self.ensemble else self.histories[0])
            self.model.train(was_training)
        for i, k in enumerate(members):
            target = self.cfgs[k].stop_at_train_acc
            if not math.isfinite(loss[i]):
                self._stop(k, f"diverged at step {step}: training loss became {loss[i]}",
                           diverged=True)
            elif target is not None and acc[i] >= target:
                self._stop(k, f"reached train accuracy {target} at step {step}")
        return self

    # --- the parts that differ between one model and an ensemble --------------------------

    def _draw_orders(self) -> dict:
        """Each training member's minibatch order for the next epoch, from its own seed."""
        if self.shared_batch:
            return {}
        n = len(self.Xtr)
        return {k: torch.randperm(n, generator=self._generators[k]).to(self.Xtr.device)
                for k in self.active}

    def _active_index(self):
        """The training members' indices into the ensemble's stacks (None: all of them)."""
        if len(self.active) == len(self.cfgs):
            return None
        return torch.tensor(self.active, dtype=torch.long, device=self.Xtr.device)

    def _batch_losses(self) -> torch.Tensor:
        """The training loss (plus activation penalty) of each training member on this
        step's batch, one entry per member."""
        pos = (self.step_count % self.per_epoch) * self.batch
        if not self.ensemble:
            idx = self._orders[0][pos:pos + self.batch]
            X, y = self.Xtr[idx], self.ytr[idx]
            loss_fn, l1 = loss_function(self.loss_name), self.cfgs[0].activation_l1
            if l1 and hasattr(self.model, "forward_hidden"):
                out, _, posts = self.model.forward_hidden(X)
                loss = loss_fn(out, y) + l1 * sum(h.abs().mean() for h in posts)
            else:
                loss = loss_fn(self.model(X), y)
            return loss.reshape(1)
        if self.shared_batch:
            X, y = self.Xtr, self.ytr
        else:
            idx = torch.stack([self._orders[k][pos:pos + self.batch] for k in self.active])
            X, y = self.Xtr[idx], self.ytr[idx]                    # (members, batch, ...)
        out, _, posts = self.model.forward_hidden(X, members=self._active_index())
        losses = _member_losses(out, y, self.loss_name)
        l1 = self._l1[self.active]
        if l1.any():
            losses = losses + l1 * sum(h.abs().mean(dim=(1, 2)) for h in posts)
        return losses

    def _measure(self, X, y) -> tuple[list, list]:
        """(losses, accuracies) of each training member on (X, y), in eval mode; accuracy
        is NaN for regression."""
        if not self.ensemble:
            loss, acc = evaluate(self.model, X, y, self.loss_name)
            return [loss], [acc]
        with torch.no_grad():
            out = self.model(X, members=self._active_index())
            losses = _member_losses(out, y, self.loss_name).tolist()
            if self.loss_name != "cross_entropy":
                return losses, [math.nan] * len(losses)
            return losses, (out.argmax(-1) == y).float().mean(1).tolist()

    def _record_diagnostics(self, hist: History) -> None:
        hist.grad_norm.append(diagnostics.gradient_norms(self.model, self.Xtr, self.ytr,
                                                         self.loss_name))
        pres = diagnostics.pre_activations(self.model, self.Xtr)
        hist.act_rate.append([float((z > 0).float().mean()) for z in pres])
        hist.dead_fraction.append([float(d.float().mean()) for d in diagnostics.dead_mask(pres)])

    def _stop(self, k: int, message: str, diverged: bool = False) -> None:
        """Member k trains no further and keeps the weights it has now."""
        self.histories[k].message = message
        self.histories[k].diverged = diverged
        self.active.remove(k)
        if self.ensemble:
            self._stopped_weights[k] = [p.detach()[k].clone() for p in self.model.parameters()]

    @torch.no_grad()
    def _hold_stopped_members(self) -> None:
        """Put back the weights of stopped ensemble members: the optimiser updates every row
        of a stacked tensor (momentum and Adam move rows whose gradient is zero)."""
        for k, weights in self._stopped_weights.items():
            for p, w in zip(self.model.parameters(), weights):
                p[k] = w

    def _end_if_finished(self) -> None:
        if self.finished and not self._ended:
            self._ended = True
            for h in self.histories:
                if not h.message:
                    h.message = (f"finished {self.step_count} steps "
                                 f"({self.step_count / self.per_epoch:g} epochs)")
            self.model.eval()


def train(model: nn.Module, data: Dataset, cfg, on_record: Callable | None = None, *,
          test: bool = True):
    """Train ``model`` on ``data.X_train`` with ``cfg`` to the end of its schedule and return
    the recorded :class:`History`; for an :class:`~rectified.models.MLPEnsemble` with one
    config per member (or one for all), return one History per member.

    ``on_record(model, history)``, when given, is called after every record (the first one
    before any step), e.g. to keep per-unit statistics (dying ReLU chapter). ``test=False``
    skips the test set. The rules are :class:`Trainer`'s.
    """
    trainer = Trainer(model, data, cfg, test=test, on_record=on_record).run()
    return trainer.histories if trainer.ensemble else trainer.history


@dataclass
class UnitTrace:
    """Each hidden unit's margin — its largest pre-activation over the training inputs —
    at every record of one run. ``margin[l]`` has shape (records, units) for hidden layer
    l (0 = input side); a unit is alive at a record when its margin is > 0 and dead when
    it is ≤ 0. Dying ReLU chapter."""

    history: History
    margin: list

    @property
    def step(self) -> np.ndarray:
        return np.asarray(self.history.step)

    def alive(self, layer: int) -> np.ndarray:
        """(records, units) booleans: True where the unit is positive for some input."""
        if not 0 <= layer < len(self.margin):
            raise ValueError(f"layer must lie in 0..{len(self.margin) - 1}, got {layer!r}")
        return self.margin[layer] > 0


def trace_units(model: nn.Module, data: Dataset, cfg: TrainConfig) -> UnitTrace:
    """Train like :func:`train` and keep every hidden unit's margin at each record
    (see :func:`rectified.diagnostics.max_pre_activation`). Dying ReLU chapter."""
    margins = []
    X = data.X_train

    def keep(m, _hist):
        margins.append(diagnostics.max_pre_activation(m, X))

    hist = train(model, data, cfg, on_record=keep)
    return UnitTrace(hist, [np.stack([m[layer] for m in margins])
                            for layer in range(len(margins[0]))])
