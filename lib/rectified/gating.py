"""Gated feed-forward layers, and the character models that compare them.

A transformer block's feed-forward layer maps each position's vector x (width d) to

    plain:  W2 · act(W1 x)                 hidden width h
    gated:  W2 · (act(W1 x) ⊙ (V x))       hidden width 2h/3 (same parameter count)

(Shazeer 2020; the gated forms are ReGLU, GEGLU and SwiGLU for act = ReLU, GELU, SiLU).
:class:`FFNLanguageModel` stacks K character models built around that block (residual,
pre-LayerNorm, as in a transformer, without attention) so that one batched product runs
all of them; :func:`rectified.train.train` trains each member with its own seed and
learning rate, as it trains an :class:`~rectified.models.MLPEnsemble`.
:func:`compute_lm` tunes and runs one feed-forward arm on character-level text.
ReLU today chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import torch
from torch import nn

from . import activations, checks
from .models import Ensemble, generator

__all__ = ["FFN_ARMS", "ffn_arm", "hidden_width", "feed_forward", "FFNSpec",
           "FFNLanguageModel", "LMState", "LMResult", "compute_lm", "bits_per_char",
           "loss_per_member"]

#: Feed-forward arms: name -> (activation, gated). The gated arms multiply act(W1 x)
#: by a second linear map V x.
FFN_ARMS = {
    "relu": ("relu", False), "gelu": ("gelu", False), "silu": ("silu", False),
    "relu2": ("relu2", False),
    "reglu": ("relu", True), "geglu": ("gelu", True), "swiglu": ("silu", True),
}


def ffn_arm(arm: str) -> tuple[str, bool]:
    """(activation name, gated) of a feed-forward arm of :data:`FFN_ARMS`."""
    checks.check_choice("arm", arm, FFN_ARMS)
    return FFN_ARMS[arm]


def hidden_width(arm: str, d_ff: int) -> int:
    """The hidden width of ``arm`` for a plain layer of width ``d_ff``: ``d_ff`` for a
    plain arm, round(2·d_ff/3) for a gated one, whose three matrices W1, V, W2 then hold
    as many weights as the plain layer's two (exactly so when 3 divides d_ff)."""
    checks.check_int("d_ff", d_ff, 1, 1 << 20, "hidden width of the plain layer")
    return int(round(2 * d_ff / 3)) if ffn_arm(arm)[1] else d_ff


def feed_forward(x, W1, W2, arm: str = "relu", V=None):
    """The feed-forward layer in numpy: x (…, d) → (…, d) with W1 (d, h), W2 (h, d), and
    for a gated arm V (d, h): W2 (act(x W1) ⊙ x V)."""
    name, gated = ffn_arm(arm)
    act = activations.get(name)
    h = act(np.asarray(x) @ np.asarray(W1))
    if gated:
        if V is None:
            raise ValueError(f"the gated arm {arm!r} needs V, the gate's matrix")
        h = h * (np.asarray(x) @ np.asarray(V))
    elif V is not None:
        raise ValueError(f"the plain arm {arm!r} takes no V")
    return h @ np.asarray(W2)


@dataclass(frozen=True)
class FFNSpec:
    """The shape of a character model built around a transformer's feed-forward block:
    the last ``context`` characters (each embedded in ``embed`` numbers, the
    embeddings concatenated and mapped to width ``d_model``), ``blocks`` residual
    blocks x ← x + FFN(LayerNorm(x)), a final LayerNorm and a read-out to the
    ``vocab`` characters. The feed-forward layer is of arm ``arm`` with plain hidden
    width ``d_ff`` (a gated arm gets :func:`hidden_width`)."""

    vocab: int
    context: int = 8
    d_model: int = 32
    d_ff: int = 96
    blocks: int = 1
    arm: str = "relu"
    embed: int = 16

    def __post_init__(self):
        checks.check_int("vocab", self.vocab, 2, 1 << 20)
        checks.check_int("embed", self.embed, 1, 1 << 14)
        checks.check_int("context", self.context, 1, 4096)
        checks.check_int("d_model", self.d_model, 1, 1 << 14)
        checks.check_int("d_ff", self.d_ff, 1, 1 << 20)
        checks.check_int("blocks", self.blocks, 1, 64)
        ffn_arm(self.arm)

    @property
    def hidden(self) -> int:
        """The feed-forward layer's hidden width for this arm."""
        return hidden_width(self.arm, self.d_ff)

    @property
    def ffn_params(self) -> int:
        """Weights of one feed-forward layer: 2·d·h plain, 3·d·h gated."""
        return (3 if ffn_arm(self.arm)[1] else 2) * self.d_model * self.hidden

    @property
    def n_params(self) -> int:
        """Parameters of one model: the embedding and its projection, feed-forward
        blocks with their LayerNorms, the final LayerNorm and the read-out with its
        bias."""
        d = self.d_model
        embedding = self.vocab * self.embed + self.context * self.embed * d
        blocks = self.blocks * (self.ffn_params + 2 * d)
        return embedding + blocks + 2 * d + d * self.vocab + self.vocab


_CHUNK = 2048      # examples per piece when a model evaluates a large set


def _bmm(x, W):
    """x (K, …, n) times stacked W (K, n, m), member by member."""
    k = W.shape[0]
    return torch.bmm(x.reshape(k, -1, x.shape[-1]), W).view(*x.shape[:-1], W.shape[-1])


def _layer_norm(x, gain, bias):
    return nn.functional.layer_norm(x, x.shape[-1:]) * gain + bias


class FFNLanguageModel(Ensemble):
    """K character models of one :class:`FFNSpec`, one per seed, stacked along a
    leading member axis so that one batched product runs all of them;
    :func:`rectified.train.train` trains each member with its own config.

    The feed-forward block is a transformer's, pre-LayerNorm and residual, with no
    biases in W1, V, W2 (as in Shazeer 2020); attention is left out, so that many arms ×
    seeds × rates train in seconds. Init: W1 and V N(0, 1/d), W2 N(0, 1/h) times
    1/√(2·blocks) (GPT-2's scaling of what writes into the residual stream), the
    read-out N(0, 1/d), the embedding N(0, 1) and its projection N(0, 1/fan_in);
    the same for every arm, since the LayerNorm before each feed-forward layer fixes
    its input's scale.

        >>> lm = FFNLanguageModel(FFNSpec(vocab=82, arm="swiglu"), seeds=range(5))
        >>> lm(X).shape                    # X (B, 8) character ids -> (5, B, 82)

    ``forward_hidden`` returns, per block, the pre-activation W1 x and the hidden output
    (act(W1 x), times V x when gated): what the sparsity measurements count.
    ReLU today chapter.
    """

    def __init__(self, spec: FFNSpec, seeds: Sequence[int] = (0,)):
        super().__init__()
        checks.check_type("spec", spec, FFNSpec, "an FFNSpec")
        seeds = [checks.check_seed("each of seeds", s) for s in seeds]
        if not seeds:
            raise ValueError("FFNLanguageModel needs at least one seed")
        self.spec = spec
        name, self.gated = ffn_arm(spec.arm)
        self.act = activations.get(name)
        d, h, n = spec.d_model, spec.hidden, spec.context
        out_scale = 1 / math.sqrt(2 * spec.blocks)
        e = spec.embed
        shapes = [((spec.vocab, e), 1.0), ((n * e, d), 1 / math.sqrt(n * e))]
        for _ in range(spec.blocks):
            shapes += [((d, (2 if self.gated else 1) * h), 1 / math.sqrt(d)),
                       ((h, d), out_scale / math.sqrt(h))]
        shapes.append(((d, spec.vocab), 1 / math.sqrt(d)))
        stacks = [[] for _ in shapes]
        for s in seeds:
            gen = generator(s)
            for i, (shape, scale) in enumerate(shapes):
                stacks[i].append(torch.randn(shape, generator=gen) * scale)
        self.weights = nn.ParameterList(nn.Parameter(torch.stack(w)) for w in stacks)
        k = len(seeds)
        norms = []                     # LayerNorm gain and bias per block, then final
        for _ in range(spec.blocks + 1):
            norms += [torch.ones(k, 1, d), torch.zeros(k, 1, d)]
        self.biases = nn.ParameterList([nn.Parameter(t) for t in norms] +
                                       [nn.Parameter(torch.zeros(k, 1, spec.vocab))])

    def forward_hidden(self, x, members=None):
        """x (B, context) character ids shared by the members (any dtype holding whole
        numbers), or (K, B, context) → (logits (K, B, vocab), [W1 x per block],
        [hidden output per block]), the last two (K, B, hidden)."""
        return self._run(x, members, keep_hidden=True)

    def forward(self, x, members=None):
        """Logits only (K, B, vocab): like ``forward_hidden(x)[0]``, without keeping
        the hidden layers (what the training engine evaluates)."""
        return self._run(x, members, keep_hidden=False)[0]

    def _run(self, x, members, keep_hidden: bool):
        spec = self.spec
        if x.dim() not in (2, 3) or x.shape[-1] != spec.context:
            raise ValueError(f"x must have shape (batch, {spec.context}) or (members, "
                             f"batch, {spec.context}), got {tuple(x.shape)}")
        if not torch.is_grad_enabled() and x.shape[-2] > _CHUNK:
            # evaluation of a large set: in pieces, to bound the memory it needs
            parts = [self._run(x[..., i:i + _CHUNK, :], members, keep_hidden)
                     for i in range(0, x.shape[-2], _CHUNK)]
            return (torch.cat([p[0] for p in parts], 1),
                    [torch.cat(z, 1) for z in zip(*[p[1] for p in parts])],
                    [torch.cat(z, 1) for z in zip(*[p[2] for p in parts])])
        weights, biases = self._select(members)
        k = weights[0].shape[0]
        ids = x.long()
        if ids.dim() == 2:
            ids = ids.expand(k, *ids.shape)
        flat = torch.arange(k, device=ids.device).view(k, 1, 1) * spec.vocab + ids
        chars = nn.functional.embedding(flat, weights[0].reshape(-1, spec.embed))
        h = _bmm(chars.reshape(k, -1, spec.context * spec.embed), weights[1])
        pres, posts = [], []
        for i in range(spec.blocks):
            W1, W2 = weights[2 + 2 * i], weights[3 + 2 * i]
            z = _bmm(_layer_norm(h, biases[2 * i], biases[2 * i + 1]), W1)
            if self.gated:
                z, gate = z.split(spec.hidden, -1)
                hidden = self.act.torch(z) * gate
            else:
                hidden = self.act.torch(z)
            if keep_hidden:
                pres.append(z)
                posts.append(hidden)
            h = h + _bmm(hidden, W2)
        g, b = biases[2 * spec.blocks], biases[2 * spec.blocks + 1]
        return _bmm(_layer_norm(h, g, b), weights[-1]) + biases[-1], pres, posts

    def with_arm(self, arm: str) -> "FFNLanguageModel":
        """A copy with the same weights whose feed-forward activation is ``arm``'s (same
        kind, plain or gated, and width): e.g. ReLU swapped into a GELU-trained model
        before fine-tuning."""
        gated = ffn_arm(arm)[1]
        if gated != self.gated or hidden_width(arm, self.spec.d_ff) != self.spec.hidden:
            raise ValueError(f"arm {arm!r} does not fit this model's feed-forward layer "
                             f"(arm {self.spec.arm!r}): swap plain for plain, gated for "
                             f"gated")
        new = FFNLanguageModel(replace(self.spec, arm=arm), seeds=[0] * len(self))
        new.load_state_dict(self.state_dict())
        return new

    def select(self, members: Sequence[int]) -> "FFNLanguageModel":
        """A new model holding copies of the chosen members' weights, in that order."""
        members = list(members)
        for m in members:
            if not 0 <= m < len(self):
                raise IndexError(f"member index {m} out of range for {len(self)} members")
        new = FFNLanguageModel(self.spec, seeds=[0] * len(members))
        with torch.no_grad():
            for p, q in zip(new.parameters(), self.parameters()):
                p.copy_(q[members])
        return new


def bits_per_char(loss_nats) -> np.ndarray:
    """Cross-entropy in nats per character → bits per character (÷ ln 2)."""
    return np.asarray(loss_nats, dtype=float) / math.log(2)


@dataclass(frozen=True)
class LMState:
    """One feed-forward arm trained as a character model (:class:`FFNSpec`'s shape; the
    arm sets the hidden width): Adam for ``steps`` steps on batches of ``batch_size``
    examples, each learning rate of ``lrs`` (factor-2 steps, extended while the best is
    at an edge, at most ``max_extensions`` times) with every seed of ``seeds``."""

    arm: str = "relu"
    context: int = 8
    d_model: int = 32
    d_ff: int = 96
    blocks: int = 1
    steps: int = 400
    batch_size: int = 64
    lrs: tuple = (0.005, 0.01, 0.02)
    seeds: tuple = (0, 1, 2, 3, 4)
    max_extensions: int = 2

    def __post_init__(self):
        ffn_arm(self.arm)
        checks.check_int("steps", self.steps, 1)
        checks.check_int("batch_size", self.batch_size, 1)
        checks.check_int("max_extensions", self.max_extensions, 0, 10)
        for name in ("lrs", "seeds"):
            v = getattr(self, name)
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__") or len(v) < 1:
                raise ValueError(f"{name} must be a non-empty tuple, got {v!r}")
        for lr in self.lrs:
            checks.check_number("each of lrs", lr, 0, lo_open=True)
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds!r}")
        for s in self.seeds:
            checks.check_seed("each of seeds", s)

    def spec(self, vocab: int) -> FFNSpec:
        """The model shape for a text of ``vocab`` characters."""
        return FFNSpec(vocab=vocab, context=self.context, d_model=self.d_model,
                       d_ff=self.d_ff, blocks=self.blocks, arm=self.arm)


@dataclass(frozen=True, eq=False)
class LMResult:
    """One arm's runs. ``choice``: the learning rate with the lowest median validation
    loss (:func:`rectified.compare.tune_lr`); ``val_bpc``/``test_bpc``: each seed's
    validation and held-out test loss in bits per character at that rate; ``runs``
    maps each rate tried to its per-seed validation bits per character; ``model`` holds
    the chosen rate's trained members (one per seed, in ``state.seeds`` order) and
    ``histories`` their records."""

    state: LMState
    spec: FFNSpec
    choice: object
    val_bpc: np.ndarray
    test_bpc: np.ndarray
    runs: dict
    model: FFNLanguageModel
    histories: list

    @property
    def lr(self) -> float:
        return self.choice.best


@torch.no_grad()
def loss_per_member(model: FFNLanguageModel, X, y) -> np.ndarray:
    """Each member's mean cross-entropy (nats per character) on examples (X, y)."""
    out = model(torch.as_tensor(np.asarray(X)))
    y = torch.as_tensor(np.asarray(y)).expand(out.shape[:-1])
    loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1),
                                       reduction="none")
    return loss.view(out.shape[0], -1).mean(1).numpy()


def compute_lm(state: LMState, corpus) -> LMResult:
    """Tune and train ``state.arm`` on ``corpus`` (a :class:`rectified.data.CharCorpus`):
    every seed at every rate as members of one :class:`FFNLanguageModel` per call of
    :func:`rectified.train.train` (Adam; records at the start and the end); the rate is
    chosen by median validation loss and each chosen run is scored on the held-out test
    examples. ReLU today chapter."""
    from . import compare, train         # the engine imports models, not this module

    checks.check_type("state", state, LMState, "an LMState")
    ds = corpus.dataset
    spec = state.spec(ds.n_classes)
    runs, fitted, hists = {}, {}, {}

    def evaluate(lrs):
        grid = [(float(lr), s) for lr in lrs for s in state.seeds]
        lm = FFNLanguageModel(spec, [s for _, s in grid])
        cfgs = [train.TrainConfig(optimizer="adam", lr=lr, seed=s, steps=state.steps,
                                  batch_size=state.batch_size, record_every=state.steps,
                                  diagnostics=False) for lr, s in grid]
        hs = train.train(lm, ds, cfgs)
        n = len(state.seeds)
        for j, lr in enumerate(map(float, lrs)):
            idx = list(range(j * n, (j + 1) * n))
            runs[lr] = np.array([math.inf if hs[i].diverged else
                                 float(bits_per_char(hs[i].test_loss[-1])) for i in idx])
            fitted[lr] = (lm, idx)
            hists[lr] = [hs[i] for i in idx]
        return {float(lr): runs[float(lr)] for lr in lrs}

    choice = compare.tune_lr(evaluate, state.lrs, lower_is_better=True,
                             max_extensions=state.max_extensions)
    lm, idx = fitted[choice.best]
    best = lm.select(idx)
    test = bits_per_char(loss_per_member(best, corpus.X_test, corpus.y_test))
    return LMResult(state, spec, choice, runs[choice.best], test, dict(runs), best,
                    hists[choice.best])
