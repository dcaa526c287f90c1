"""Many small MLPs trained in one batched pass: a learning-rate × seed grid at the cost of
about one run.

Member k of an :class:`MLPEnsemble` is an ordinary :class:`~rectified.models.MLP` (same
widths and activation for all members, any init and seed); :func:`train_ensemble` trains
every member with its own :class:`~rectified.train.TrainConfig` (its own learning rate,
minibatch order ``seed`` and ``activation_l1``) and returns one
:class:`~rectified.train.History` per member, the history :func:`rectified.train.train`
would have recorded for that member alone (up to float rounding: the batched matrix
products sum in a different order).

    >>> nets = [models.MLP(64, [32], 10, "tanh", seed=s) for s in range(3)]
    >>> cfgs = [TrainConfig(lr=lr, epochs=20, seed=s) for s in range(3)]
    >>> hists = train_ensemble(MLPEnsemble(nets), data.digits(), cfgs)

Why-ReLU part 2 chapter (training speed at each network's best learning rate, sparsity).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from . import activations, models
from .data import Dataset
from .train import History, TrainConfig, _loss_name, _optimizer_for, _schedule, as_tensors

__all__ = ["MLPEnsemble", "train_ensemble", "epochs_to_target", "best_by_median",
           "train_ensemble_full_batch"]

from .compare import best_by_median, epochs_to_target  # noqa: E402  (moved to compare)

# Options that must be equal across members because they set the shared step schedule.
_SHARED = ("optimizer", "momentum", "batch_size", "epochs", "steps", "record_every", "loss",
           "device")


class MLPEnsemble(nn.Module):
    """K MLPs of one shape and activation whose weights are stacked along a leading member
    axis, so that one ``torch.matmul`` evaluates all of them.

    Supports MLPs without batch norm or dropout whose activation is a fixed function
    (not maxout or the learned PReLU).
    """

    def __init__(self, mlps: Sequence[models.MLP]):
        super().__init__()
        mlps = list(mlps)
        if not mlps:
            raise ValueError("MLPEnsemble needs at least one MLP")
        first = mlps[0]
        for m in mlps:
            if not isinstance(m, models.MLP):
                raise TypeError(f"members must be rectified.models.MLP, got {type(m).__name__}")
            if m.batchnorm or not isinstance(m.dropout, nn.Identity) or \
                    m.activation in ("maxout", "prelu"):
                raise ValueError("MLPEnsemble supports MLPs without batch norm or dropout and "
                                 f"with a fixed activation; got activation={m.activation!r}, "
                                 f"batchnorm={m.batchnorm!r}, dropout={m.dropout!r}")
            shape = [tuple(p.shape) for p in m.parameters()]
            if shape != [tuple(p.shape) for p in first.parameters()] or \
                    m.activation != first.activation or m.act_params != first.act_params:
                raise ValueError("all members must have the same widths and activation")
        self.activation = first.activation
        self.act_params = dict(first.act_params)
        self.act = activations.get(first.activation, **first.act_params)
        self.widths = list(first.widths)
        layers = [m.weight_layers for m in mlps]          # per member, input side first
        # weights stored as (K, fan_in, fan_out) so that h @ W maps (K, B, in) → (K, B, out)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].weight.detach().T.clone() for ls in layers]))
            for i in range(len(layers[0])))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].bias.detach()[None, :].clone() for ls in layers]))
            for i in range(len(layers[0])))

    def __len__(self) -> int:
        return self.weights[0].shape[0]

    def forward_hidden(self, x):
        """x of shape (B, in) (shared by all members) or (K, B, in) → (output (K, B, out),
        [pre-activation per hidden layer], [output per hidden layer]), each (K, B, width)."""
        return _forward(self.weights, self.biases, self.act, x)

    def forward(self, x):
        return self.forward_hidden(x)[0]

    def member(self, k: int) -> models.MLP:
        """Member k as a stand-alone MLP with the ensemble's current weights."""
        if not 0 <= k < len(self):
            raise IndexError(f"member index {k} out of range for an ensemble of {len(self)}")
        W = [w[k].detach().T.numpy().astype(np.float64) for w in self.weights]
        b = [bb[k, 0].detach().numpy().astype(np.float64) for bb in self.biases]
        return models.MLP.from_weights(list(zip(W, b)), self.activation, **self.act_params)


def _check_configs(cfgs, k) -> list[TrainConfig]:
    cfgs = list(cfgs)
    if len(cfgs) != k:
        raise ValueError(f"need one TrainConfig per member: {k} members, {len(cfgs)} configs")
    for c in cfgs:
        if not isinstance(c, TrainConfig):
            raise TypeError(f"configs must be TrainConfig, got {type(c).__name__}")
        if c.optimizer == "adam" or c.weight_decay or c.clip is not None:
            raise ValueError("train_ensemble supports plain SGD and momentum without weight "
                             f"decay or clipping; got optimizer={c.optimizer!r}, "
                             f"weight_decay={c.weight_decay!r}, clip={c.clip!r}")
        for name in _SHARED:
            if getattr(c, name) != getattr(cfgs[0], name):
                raise ValueError(f"{name} must be the same for all members, got "
                                 f"{getattr(c, name)!r} and {getattr(cfgs[0], name)!r}")
    return cfgs


def _ce_per_member(out, y):
    k, b, c = out.shape
    return nn.functional.cross_entropy(out.reshape(k * b, c), y.reshape(k * b),
                                       reduction="none").view(k, b).mean(1)


def _matmul(h, W):
    if h.dim() == 2:   # one input batch shared by all members: a single (N, K·out) product
        k, fan_in, fan_out = W.shape
        return (h @ W.transpose(0, 1).reshape(fan_in, k * fan_out)).view(
            -1, k, fan_out).transpose(0, 1)
    return torch.matmul(h, W)


def _forward(weights, biases, act, x):
    pres, posts = [], []
    h = x
    for W, b in zip(weights[:-1], biases[:-1]):
        z = _matmul(h, W) + b
        pres.append(z)
        h = act.torch(z)
        posts.append(h)
    return _matmul(h, weights[-1]) + biases[-1], pres, posts


@torch.no_grad()
def _evaluate(weights, biases, act, X, y):
    out = _forward(weights, biases, act, X)[0]
    loss = _ce_per_member(out, y.expand(out.shape[0], -1))
    acc = (out.argmax(-1) == y).float().mean(1)
    return loss.tolist(), acc.tolist()


def train_ensemble(ens: MLPEnsemble, data: Dataset, cfgs: Sequence[TrainConfig],
                   test: bool = True) -> list[History]:
    """Train every member of ``ens`` on ``data`` (classification, cross-entropy) with its
    own config; returns one :class:`History` per member (no per-layer diagnostics).

    Per member: minibatch order from ``cfg.seed``, SGD step ``lr`` (momentum buffer
    v ← μv + g, W ← W − lr·v for ``"momentum"``), loss + ``activation_l1`` · Σ_layers
    mean|h|. A member stops, keeping its weights from that moment, when its loss becomes
    non-finite (``diverged``) or at the first record reaching its ``stop_at_train_acc``;
    stopped members leave the batch, and the run ends when none is left. ``test=False``
    skips the test set (its loss and accuracy are recorded as NaN) to save time.
    """
    if not isinstance(ens, MLPEnsemble):
        raise TypeError(f"ens must be an MLPEnsemble, got {type(ens).__name__}")
    if not isinstance(data, Dataset) or not data.is_classification:
        raise TypeError("data must be a classification rectified.data.Dataset")
    cfgs = _check_configs(cfgs, len(ens))
    c0 = cfgs[0]
    if c0.loss not in ("auto", "cross_entropy"):
        raise ValueError(f"train_ensemble trains with cross-entropy only, got loss={c0.loss!r}")
    device = models.resolve_device(c0.device)
    ens.to(device)
    Xtr, ytr = as_tensors(data.X_train, data.y_train, device)
    Xte, yte = as_tensors(data.X_test, data.y_test, device)
    n = len(Xtr)
    batch, per_epoch, total, every = _schedule(c0, n)
    mu = c0.momentum if c0.optimizer == "momentum" else 0.0
    act = ens.act

    members = list(range(len(ens)))          # ensemble indices still being trained
    gens = [torch.Generator().manual_seed(c.seed) for c in cfgs]
    weights = [w.detach().clone().requires_grad_(True) for w in ens.weights]
    biases = [b.detach().clone().requires_grad_(True) for b in ens.biases]
    bufs = [torch.zeros_like(p) for p in (*weights, *biases)]
    lr = torch.tensor([c.lr for c in cfgs], device=device).view(-1, 1, 1)
    l1 = torch.tensor([c.activation_l1 for c in cfgs], device=device)
    hists = [History(config=asdict(c)) for c in cfgs]

    def stop(done: set):
        """Write the stopped members' weights back and drop them from the batch."""
        nonlocal weights, biases, bufs, lr, l1, members, orders
        keep = [i for i in range(len(members)) if i not in done]
        with torch.no_grad():
            for i in done:
                for dst, src in zip([*ens.weights, *ens.biases], [*weights, *biases]):
                    dst[members[i]].copy_(src[i])
        sel = torch.tensor(keep, dtype=torch.long, device=device)
        weights = [w.detach()[sel].requires_grad_(True) for w in weights]
        biases = [b.detach()[sel].requires_grad_(True) for b in biases]
        bufs = [v[sel] for v in bufs]
        lr, l1 = lr[sel], l1[sel]
        members = [members[i] for i in keep]
        orders = [orders[i] for i in keep]

    def record(step) -> set:
        loss, acc = _evaluate(weights, biases, act, Xtr, ytr)
        if test:
            tloss, tacc = _evaluate(weights, biases, act, Xte, yte)
        else:
            tloss = tacc = [math.nan] * len(members)
        done = set()
        for i, k in enumerate(members):
            h = hists[k]
            h.add(step, step / per_epoch, loss[i], acc[i], tloss[i], tacc[i])
            if not math.isfinite(loss[i]):
                h.diverged = True
                h.message = f"diverged at step {step}: training loss became {loss[i]}"
                done.add(i)
            elif cfgs[k].stop_at_train_acc is not None and acc[i] >= cfgs[k].stop_at_train_acc:
                h.message = f"reached train accuracy {cfgs[k].stop_at_train_acc} at step {step}"
                done.add(i)
        return done

    orders = [torch.randperm(n, generator=gens[k]).to(device) for k in members]
    done = record(0)
    if done:
        stop(done)
    step = 0
    while step < total and members:
        pos = (step % per_epoch) * batch
        idx = torch.stack([o[pos:pos + batch] for o in orders])          # (members, b)
        out, _, posts = _forward(weights, biases, act, Xtr[idx])
        loss = _ce_per_member(out, ytr[idx])
        if l1.any():
            loss = loss + l1 * sum(h.abs().mean(dim=(1, 2)) for h in posts)
        finite = torch.isfinite(loss.detach())
        if not bool(finite.all()):
            bad = set(torch.nonzero(~finite).flatten().tolist())
            for i in bad:
                hists[members[i]].diverged = True
                hists[members[i]].message = (f"diverged at step {step}: training loss "
                                             f"became {float(loss[i].detach())}")
            stop(bad)
            if not members:
                break
            continue     # redo this step without the diverged members
        params = [*weights, *biases]
        grads = torch.autograd.grad(loss.sum(), params)
        with torch.no_grad():
            for p, g, v in zip(params, grads, bufs):
                if mu:
                    v.mul_(mu).add_(g)
                    g = v
                p.sub_(lr * g)
        step += 1
        if step % every == 0 or step == total:
            done = record(step)
            if done:
                stop(done)
        # a new epoch's order only after a completed step: a step redone without diverged
        # members must not draw one again
        if step % per_epoch == 0 and step < total:
            orders = [torch.randperm(n, generator=gens[k]).to(device) for k in members]
    if members:
        stop(set(range(len(members))))
    for h in hists:
        if not h.message:
            h.message = f"finished {h.step[-1]} steps ({h.epoch[-1]:g} epochs)"
    ens.eval()
    return hists


def train_ensemble_full_batch(ens: MLPEnsemble, data: Dataset, cfg: TrainConfig) -> list[History]:
    """Train every member of ``ens`` with one shared config, on the whole training set at
    every step; returns one :class:`History` per member (no per-layer diagnostics).

    Unlike :func:`train_ensemble` this takes any of the library's optimisers (Adam
    included), the L2 penalty ``weight_decay`` on weight matrices (not biases), and
    regression data (MSE) as well as classification (cross-entropy). The loss is the sum
    of the members' mean losses, so each member gets exactly its own gradient; Adam and
    the L2 term act elementwise, so each member follows the run :func:`rectified.train.train`
    would give it with ``batch_size=None`` (up to float rounding). Records follow the same
    schedule as that function. Why-nonlinearity chapter (seeds × activations on the ring,
    sine fits of several widths).
    """
    if not isinstance(ens, MLPEnsemble):
        raise TypeError(f"ens must be an MLPEnsemble, got {type(ens).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a rectified.data.Dataset, got {type(data).__name__}")
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if cfg.batch_size is not None or cfg.clip is not None or cfg.activation_l1 or \
            cfg.stop_at_train_acc is not None:
        raise ValueError("train_ensemble_full_batch needs batch_size=None and supports no "
                         f"clip, activation_l1 or stop_at_train_acc; got batch_size="
                         f"{cfg.batch_size!r}, clip={cfg.clip!r}, activation_l1="
                         f"{cfg.activation_l1!r}, stop_at_train_acc={cfg.stop_at_train_acc!r}")
    cls = _loss_name(cfg, data) == "cross_entropy"
    device = models.resolve_device(cfg.device)
    ens.to(device)
    Xtr, ytr = as_tensors(data.X_train, data.y_train, device, cls)
    Xte, yte = as_tensors(data.X_test, data.y_test, device, cls)
    _, _, total, every = _schedule(cfg, len(Xtr))      # one step per epoch
    opt = _optimizer_for([{"params": list(ens.weights), "weight_decay": cfg.weight_decay},
                          {"params": list(ens.biases), "weight_decay": 0.0}], cfg)
    k = len(ens)

    def per_member(out, y):
        if cls:
            return _ce_per_member(out, y.expand(k, -1))
        return ((out - y) ** 2).mean(dim=(1, 2))

    hists = [History(config=asdict(cfg)) for _ in range(k)]

    @torch.no_grad()
    def record(step):
        values = []
        for X, y in ((Xtr, ytr), (Xte, yte)):
            out = ens(X)
            acc = ((out.argmax(-1) == y).float().mean(1).tolist() if cls
                   else [math.nan] * k)
            values += [per_member(out, y).tolist(), acc]
        for i, h in enumerate(hists):
            h.add(step, float(step), *(v[i] for v in values))
            if not math.isfinite(values[0][i]) and not h.diverged:
                h.diverged = True
                h.message = f"diverged by step {step}: training loss became {values[0][i]}"

    record(0)
    ens.train()
    for step in range(1, total + 1):
        opt.zero_grad(set_to_none=True)
        per_member(ens(Xtr), ytr).sum().backward()
        opt.step()
        if step % every == 0 or step == total:
            record(step)
    for h in hists:
        if not h.message:
            h.message = f"finished {total} steps ({total} epochs)"
    ens.eval()
    return hists
