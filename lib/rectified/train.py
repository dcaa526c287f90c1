"""One deterministic training loop that records a history.

    >>> cfg = TrainConfig(optimizer="adam", lr=0.01, epochs=20, batch_size=32, seed=0)
    >>> hist = train(model, dataset, cfg)
    >>> hist.loss[-1], hist.dead_fraction[-1]

The same model seed, data and config give an identical :class:`History`. A run whose loss
becomes NaN or infinite stops and says so (``hist.diverged``, ``hist.message``) instead of
raising. Used by every chapter that trains a network.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from . import diagnostics
from .data import Dataset
from .models import eval_mode, resolve_device

__all__ = ["TrainConfig", "History", "train", "evaluate", "as_tensors", "OPTIMIZERS",
           "UnitTrace", "trace_units"]

OPTIMIZERS = ("sgd", "momentum", "adam")
_LOSSES = ("auto", "cross_entropy", "mse")


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
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if (self.epochs is None) == (self.steps is None):
            raise ValueError(f"give exactly one of epochs and steps, got epochs={self.epochs!r}, "
                             f"steps={self.steps!r}")
        for name in ("epochs", "steps", "batch_size", "record_every"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"{name} must be a positive int or None, got {v!r}")
        for name in ("weight_decay", "activation_l1", "momentum"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {self.clip!r}")


@dataclass
class History:
    """What a run recorded, one entry per record (the first one before any step).

    Per-layer lists (``grad_norm``, ``act_rate``, ``dead_fraction``) hold one value per
    weight layer / hidden layer, from the input side. Accuracies are NaN for regression.
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


def _loss_fn(name: str):
    return nn.functional.cross_entropy if name == "cross_entropy" else nn.functional.mse_loss


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss: str = "cross_entropy"):
    """(loss, accuracy) of ``model`` on (X, y) in eval mode; accuracy is NaN for 'mse'."""
    with eval_mode(model):
        out = model(X)
    value = float(_loss_fn(loss)(out, y))
    acc = float((out.argmax(1) == y).float().mean()) if loss == "cross_entropy" else math.nan
    return value, acc


def _param_groups(model: nn.Module, cfg: TrainConfig):
    """Weight matrices and conv kernels (every parameter with 2+ dimensions) get the L2
    penalty; biases, batch-norm parameters and PReLU slopes do not, unless ``decay_prelu``."""
    prelu = {id(p) for m in model.modules() if isinstance(m, nn.PReLU) for p in m.parameters()}
    decay, no_decay = [], []
    for p in model.parameters():
        if p.dim() >= 2 or (cfg.decay_prelu and id(p) in prelu):
            decay.append(p)
        else:
            no_decay.append(p)
    return [{"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def _optimizer(model, cfg: TrainConfig):
    return _optimizer_for(_param_groups(model, cfg), cfg)


def _optimizer_for(groups, cfg: TrainConfig):
    """The torch optimiser ``cfg`` names, over the given parameter groups."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr)
    momentum = cfg.momentum if cfg.optimizer == "momentum" else 0.0
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=momentum)


def _loss_name(cfg: TrainConfig, data) -> str:
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


def _record(hist: History, model, Xtr, ytr, Xte, yte, loss_name, step, epoch, cfg):
    loss, acc = evaluate(model, Xtr, ytr, loss_name)
    test_loss, test_acc = evaluate(model, Xte, yte, loss_name)
    hist.add(step, epoch, loss, acc, test_loss, test_acc)
    if cfg.diagnostics and hasattr(model, "forward_hidden"):
        hist.grad_norm.append(diagnostics.gradient_norms(model, Xtr, ytr, loss_name))
        pres = diagnostics.pre_activations(model, Xtr)
        hist.act_rate.append([float((z > 0).float().mean()) for z in pres])
        hist.dead_fraction.append([float(d.float().mean()) for d in diagnostics.dead_mask(pres)])
    return loss


def train(model: nn.Module, data: Dataset, cfg: TrainConfig, on_record=None) -> History:
    """Train ``model`` on ``data.X_train`` with ``cfg``; returns the recorded :class:`History`.

    ``on_record(model, hist)``, when given, is called after every record (the first one
    before any step), e.g. to keep per-unit statistics (dying ReLU chapter).
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a rectified.data.Dataset, got {type(data).__name__}")
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    loss_name = _loss_name(cfg, data)
    cls = loss_name == "cross_entropy"
    device = resolve_device(cfg.device)
    model.to(device)
    Xtr, ytr = as_tensors(data.X_train, data.y_train, device, cls)
    Xte, yte = as_tensors(data.X_test, data.y_test, device, cls)
    n = len(Xtr)
    batch, per_epoch, total, every = _schedule(cfg, n)

    torch.manual_seed(cfg.seed)            # dropout and any other global-RNG module
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = _optimizer(model, cfg)
    loss_fn = _loss_fn(loss_name)
    hist = History(config=asdict(cfg))
    _record(hist, model, Xtr, ytr, Xte, yte, loss_name, 0, 0.0, cfg)
    if on_record is not None:
        on_record(model, hist)
    model.train()
    step = 0
    order = torch.randperm(n, generator=gen).to(device)
    while step < total:
        pos = (step % per_epoch) * batch
        idx = order[pos:pos + batch]
        opt.zero_grad(set_to_none=True)
        if cfg.activation_l1 and hasattr(model, "forward_hidden"):
            out, _, posts = model.forward_hidden(Xtr[idx])
            penalty = sum(h.abs().mean() for h in posts)
            loss = loss_fn(out, ytr[idx]) + cfg.activation_l1 * penalty
        else:
            loss = loss_fn(model(Xtr[idx]), ytr[idx])
        if not torch.isfinite(loss):
            hist.diverged = True
            hist.message = f"diverged at step {step}: training loss became {float(loss.detach())}"
            break
        loss.backward()
        if cfg.clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        step += 1
        if step % every == 0 or step == total:
            full = _record(hist, model, Xtr, ytr, Xte, yte, loss_name, step, step / per_epoch, cfg)
            if on_record is not None:
                on_record(model, hist)
                model.train()
            if not math.isfinite(full):
                hist.diverged = True
                hist.message = f"diverged at step {step}: training loss became {full}"
                break
            if cfg.stop_at_train_acc is not None and hist.train_acc[-1] >= cfg.stop_at_train_acc:
                hist.message = f"reached train accuracy {cfg.stop_at_train_acc} at step {step}"
                break
        if step % per_epoch == 0 and step < total:     # the next epoch's minibatch order
            order = torch.randperm(n, generator=gen).to(device)
    if not hist.message:
        hist.message = f"finished {step} steps ({step / per_epoch:g} epochs)"
    model.eval()
    return hist


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
