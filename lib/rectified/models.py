"""Models: an MLP builder with the book's initialisations, a stacked ensemble of MLPs that
trains as one, Maxout, a small CNN, an Elman RNN.

Every model is built from a ``seed`` and returns the same weights for the same seed.
``forward_hidden`` exposes each hidden layer's pre-activation (the activation's input) and
output, which is what the diagnostics and the training history read.

Chapters: why ReLU (initialisations; seed × learning-rate grids as one ensemble), dying
ReLU (bias init, asymmetric init, batch norm), maxout, RNNs and tanh.
"""

from __future__ import annotations

import contextlib
import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from . import activations, checks

__all__ = [
    "INITS", "resolve_device", "eval_mode", "check_positive_int", "draw_init", "init_linear_",
    "MLP", "MLPEnsemble", "Maxout", "SmallCNN", "ElmanRNN", "relu_interpolant", "check_knots",
    "generator", "Ensemble", "ElmanEnsemble", "RAI_SIGMA",
]

#: Weight initialisations. fan_in = n inputs of the layer, fan_out = n outputs.
INITS = {
    "he": "N(0, 2/fan_in) — He et al. 2015, for rectifiers",
    "xavier": "U[±√(6/(fan_in+fan_out))] — Glorot & Bengio 2010 'normalised' init",
    "lecun": "N(0, 1/fan_in) — LeCun et al. 1998; the init SELU assumes",
    "standard": "U[±1/√fan_in] — the 'standard' heuristic Glorot & Bengio 2010 criticise",
    "asymmetric": "randomised asymmetric init (Lu et al. 2019): one positive Beta(2,1) entry "
                  "per unit among its weights and bias, the rest "
                  "N(0, 0.6007²/fan_in)",
}
#: The randomised asymmetric init's Gaussian scale: its other entries are
#: N(0, σ²) with σ = RAI_SIGMA / √fan_in, as in Lu et al.'s (2019) examples.
RAI_SIGMA = 0.6007
_RECURRENT_INITS = ("gaussian", "identity", "orthogonal")
_BATCHNORM = (None, "before", "after")
_DROPOUT_KINDS = ("standard", "alpha")


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """'cpu' (default), 'cuda' (error if none is available) or 'auto' (cuda when available)."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but torch sees no CUDA device; "
                         "use device='cpu' or device='auto'")
    return torch.device(device)


def generator(seed: int) -> torch.Generator:
    """A fresh torch generator seeded with ``seed`` (an int): every model here draws its
    initial weights from one, so the same seed gives the same weights. Models and the RNN
    chapter's LSTM (recurrence)."""
    return torch.Generator().manual_seed(checks.check_seed("seed", seed))


def draw_init(scheme: str, fan_out: int, fan_in: int, gen: torch.Generator,
              bias_init: float = 0.0, batch: tuple[int, ...] = ()):
    """Weights of shape ``(*batch, fan_out, fan_in)`` and biases ``(*batch, fan_out)`` drawn
    with one of :data:`INITS`: one layer, or with ``batch`` a stack of independent layers
    (the dying-ReLU Monte Carlo draws a thousand nets at once). For a single layer the draws
    are those of :func:`init_linear_`, number for number."""
    if scheme not in INITS:
        raise ValueError(f"unknown init {scheme!r}; known inits: {', '.join(INITS)}")
    shape = (*batch, fan_out, fan_in)
    if scheme == "he":
        W = torch.randn(shape, generator=gen) * math.sqrt(2.0 / fan_in)
    elif scheme == "lecun":
        W = torch.randn(shape, generator=gen) * math.sqrt(1.0 / fan_in)
    elif scheme == "xavier":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        W = (torch.rand(shape, generator=gen) * 2 - 1) * bound
    elif scheme == "standard":
        W = (torch.rand(shape, generator=gen) * 2 - 1) / math.sqrt(fan_in)
    else:  # asymmetric
        # Each unit's weights and bias form one vector of fan_in + 1 entries;
        # one entry, chosen at random, is drawn from Beta(2, 1) > 0 and the
        # others from N(0, σ²), σ = RAI_SIGMA / √fan_in (Lu et al.'s choice).
        # The vector's expected squared length is then 1/2 + 0.6007² ≈ 0.86
        # (E[Beta(2,1)²] = 1/2), below He's 2.
        sigma = RAI_SIGMA / math.sqrt(fan_in)
        full = torch.randn((*batch, fan_out, fan_in + 1), generator=gen) * sigma
        pick = torch.randint(0, fan_in + 1, (*batch, fan_out, 1), generator=gen)
        u = torch.rand((*batch, fan_out, 1), generator=gen)
        full.scatter_(-1, pick, torch.sqrt(u))            # inverse CDF of Beta(2, 1)
        return full[..., :fan_in], full[..., fan_in] + bias_init
    return W, torch.full((*batch, fan_out), float(bias_init))


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Run the block with ``model`` in eval mode (batch norm on running statistics, no
    dropout), then put it back in the mode it was in, also when the block raises."""
    was = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was)


@torch.no_grad()
def init_linear_(layer: nn.Linear | nn.Conv2d, scheme: str, gen: torch.Generator,
                 bias_init: float = 0.0, scale: float = 1.0) -> None:
    """Initialise a linear or conv layer in place with one of :data:`INITS`.

    ``scale`` multiplies the weights (to show what a badly scaled init does);
    ``bias_init`` sets every bias (e.g. 0.1, the positive-bias remedy for dying units).
    """
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"init scale must be a finite number > 0, got {scale!r}")
    w = layer.weight
    W, b = draw_init(scheme, w.shape[0], w[0].numel(), gen, bias_init)
    w.copy_((W * scale).reshape(w.shape))
    if layer.bias is not None:
        layer.bias.copy_(b)


def check_positive_int(name: str, value, hint: str = "") -> None:
    """ValueError unless ``value`` is an int (numpy ints too, bools not) of at least 1;
    the message names ``name`` and adds ``hint`` in brackets."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        extra = f" ({hint})" if hint else ""
        raise ValueError(f"{name} must be a positive int{extra}, got {value!r}")


def _check_widths(widths) -> list[int]:
    if isinstance(widths, (int, np.integer)):
        widths = [widths]
    widths = list(widths)
    bad = [w for w in widths if not isinstance(w, (int, np.integer)) or isinstance(w, bool) or w < 1]
    if bad or not widths:
        raise ValueError(f"hidden widths must be a non-empty list of positive ints, "
                         f"got {widths!r}")
    return [int(w) for w in widths]


class Maxout(nn.Module):
    """A maxout layer: a linear map to ``out_features·k`` followed by the max of each
    consecutive group of k (Goodfellow et al. 2013). Maxout chapter."""

    def __init__(self, in_features: int, out_features: int, k: int = 2, bias: bool = True):
        super().__init__()
        check_positive_int("in_features", in_features)
        check_positive_int("out_features", out_features)
        k = activations.check_groups(out_features * checks.check_int("k", k, 1), k)
        self.k = k
        self.linear = nn.Linear(in_features, out_features * k, bias=bias)

    def forward(self, x):
        return activations.maxout_torch(self.linear(x), self.k)


class MLP(nn.Module):
    """A fully connected net: ``in_features`` → hidden ``widths`` → ``out_features``.

    activation: a registry name (see :func:`rectified.activations.names`) or ``"maxout"``
    (each hidden unit is the max of ``k`` linear pieces). ``act_params`` go to the
    activation (``slope``, ``alpha``, ``grad_at_zero`` ...). ``batchnorm`` puts a
    BatchNorm1d ``"before"`` or ``"after"`` each hidden activation; ``dropout`` drops
    hidden outputs with that probability during training.

    ``dropout_kind="alpha"`` uses alpha dropout instead (``nn.AlphaDropout``, Klambauer et
    al. 2017), which keeps a SELU net's mean 0 and variance 1. ``concatenated=True`` makes
    each hidden layer output ``[f(z), f(−z)]``, twice its width: with ReLU this is CReLU
    (Shang et al. 2016), and the next layer's fan-in doubles. Rectifier family chapter.
    """

    def __init__(self, in_features: int, widths: Sequence[int] | int, out_features: int,
                 activation: str = "relu", init: str = "he", bias_init: float = 0.0,
                 init_scale: float = 1.0, batchnorm: str | None = None, k: int = 2,
                 dropout: float = 0.0, seed: int = 0, device: str = "cpu",
                 concatenated: bool = False, dropout_kind: str = "standard", **act_params):
        super().__init__()
        widths = _check_widths(widths)
        check_positive_int("in_features", in_features)
        check_positive_int("out_features", out_features)
        if batchnorm not in _BATCHNORM:
            raise ValueError(f"batchnorm must be one of {_BATCHNORM}, got {batchnorm!r}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; known inits: {', '.join(INITS)}")
        checks.check_number("dropout", dropout, 0, 1, hi_open=True)
        checks.check_number("bias_init", bias_init)
        checks.check_int("k", k, 1)
        checks.check_seed("seed", seed)
        checks.check_number("init_scale", init_scale, 0, lo_open=True)
        if dropout_kind not in _DROPOUT_KINDS:
            raise ValueError(f"dropout_kind must be one of {_DROPOUT_KINDS}, "
                             f"got {dropout_kind!r}")
        if not isinstance(concatenated, bool):
            raise TypeError(f"concatenated must be a bool, got {concatenated!r}")
        drop = nn.AlphaDropout if dropout_kind == "alpha" else nn.Dropout
        self.dropout = drop(dropout) if dropout else nn.Identity()
        self.concatenated = concatenated
        self.activation = activation
        self.act_params = dict(act_params)
        self.widths = widths
        self.batchnorm = batchnorm
        # maxout's pieces per unit are its registry parameter k
        grouped = {"k": k} if "k" in activations.parameters(activation) else {}
        act = activations.get(activation, **grouped, **act_params)   # validates, clearly
        self.k = act.pieces
        if concatenated and self.k > 1:
            raise ValueError("concatenated=True takes an element-wise activation, "
                             f"got {activation!r} with k={self.k}")
        doubled = 2 if concatenated else 1
        self.linears = nn.ModuleList()
        self.acts = nn.ModuleList()
        self.norms = nn.ModuleList()
        fan_in = in_features
        for w in widths:
            self.linears.append(nn.Linear(fan_in, w * self.k))
            self.acts.append(activations.torch_module(act, num_parameters=w))
            self.norms.append(nn.BatchNorm1d(w * self.k if batchnorm == "before"
                                             else w * doubled)
                              if batchnorm else nn.Identity())
            fan_in = w * doubled
        self.out = nn.Linear(fan_in, out_features)
        gen = generator(seed)
        for layer in self.weight_layers:
            init_linear_(layer, init, gen, bias_init if layer is not self.out else 0.0,
                         init_scale)
        self.to(resolve_device(device))

    @classmethod
    def from_weights(cls, weights: Sequence[tuple], activation: str = "relu",
                     concatenated: bool = False, **act_params) -> "MLP":
        """Build an MLP with hand-set weights: a list of (W, b) with W of shape (out, in),
        the last pair being the output layer (``concatenated``: each layer's input is
        twice the previous layer's output)."""
        if len(weights) < 2:
            raise ValueError("from_weights needs at least one hidden layer and an output layer")
        shapes = [np.shape(W) for W, _ in weights]
        doubled = 2 if concatenated else 1
        for (a, b) in zip(shapes, shapes[1:]):
            if a[0] * doubled != b[1]:
                raise ValueError(f"weight shapes do not chain: {shapes}")
        net = cls(shapes[0][1], [s[0] for s in shapes[:-1]], shapes[-1][0], activation,
                  concatenated=concatenated, **act_params)
        with torch.no_grad():
            for layer, (W, b) in zip(net.weight_layers, weights):
                layer.weight.copy_(torch.as_tensor(np.asarray(W), dtype=torch.float32))
                layer.bias.copy_(torch.as_tensor(np.asarray(b), dtype=torch.float32))
        return net

    def forward_hidden(self, x):
        """Returns (output, [pre-activation per hidden layer], [output per hidden layer])."""
        pres, posts = [], []
        h = x
        for lin, act, norm in zip(self.linears, self.acts, self.norms):
            z = lin(h)
            if self.batchnorm == "before":
                z = norm(z)
            pres.append(z)
            h = torch.cat([act(z), act(-z)], dim=-1) if self.concatenated else act(z)
            if self.batchnorm == "after":
                h = norm(h)
            posts.append(h)
            h = self.dropout(h)
        return self.out(h), pres, posts

    def forward(self, x):
        return self.forward_hidden(x)[0]

    @property
    def weight_layers(self) -> list[nn.Module]:
        """The weight layers from input to output (what per-layer gradient norms refer to)."""
        return [*self.linears, self.out]


class Ensemble(nn.Module):
    """Base of the models that stack K members' parameters along a leading
    axis, so that one batched product evaluates all members:
    :func:`rectified.train.train` trains each member with its own config.

    A subclass keeps ``weights`` (weight tensors) and ``biases`` as parameter
    lists, every tensor of shape (K, ...) with at least 3 dimensions, and
    defines ``forward_hidden(x, members=None)`` -> (output (K, B, out),
    pre-activations, hidden outputs). Why-ReLU, dying ReLU, rectifier family,
    why-nonlinearity and RNN chapters.
    """

    def __len__(self) -> int:
        return self.weights[0].shape[0]

    def forward(self, x, members=None):
        return self.forward_hidden(x, members)[0]

    @staticmethod
    def members_of(members, kind: type, ensemble: str, same=lambda m: None,
                   mismatch: str = "all members must have the same sizes") -> list:
        """``members`` as a list, checked for stacking: at least one, each a ``kind``
        (TypeError otherwise), all with parameters of the same shapes and the same
        ``same(member)`` (e.g. the activation; ValueError with ``mismatch`` otherwise).
        ``ensemble`` names the ensemble class in the messages."""
        members = list(members)
        if not members:
            raise ValueError(f"{ensemble} needs at least one {kind.__name__}")
        for m in members:
            if not isinstance(m, kind):
                raise TypeError(f"members must be {kind.__module__}.{kind.__name__}, "
                                f"got {type(m).__name__}")
        shapes = [tuple(p.shape) for p in members[0].parameters()]
        for m in members:
            if [tuple(p.shape) for p in m.parameters()] != shapes or \
                    same(m) != same(members[0]):
                raise ValueError(mismatch)
        return members

    @staticmethod
    def stack(members, get) -> nn.Parameter:
        """One parameter of shape (K, ...): ``get(member)`` of each member, copied."""
        return nn.Parameter(torch.stack([get(m).detach().clone() for m in members]))

    def _select(self, members):
        """(weights, biases) of the chosen members (None: all), in order."""
        weights, biases = list(self.weights), list(self.biases)
        if members is None:
            return weights, biases
        index = torch.as_tensor(members, dtype=torch.long,
                                device=weights[0].device)
        return [w[index] for w in weights], [b[index] for b in biases]


class MLPEnsemble(Ensemble):
    """K MLPs of one shape and activation whose weights are stacked along a leading member
    axis, so that one ``torch.matmul`` evaluates all of them: a seed × learning-rate grid
    trained at about the cost of one run (:func:`rectified.train.train`).

    Member k starts as ``mlps[k]`` (any init and seed). Supports MLPs without batch norm or
    dropout, with any element-wise activation (not maxout), concatenated or not. PReLU's
    learned slopes, one per unit and member, are the parameter list ``slopes`` (shape
    (K, 1, width) per hidden layer; empty for other activations).
    Why-ReLU part 2, dying ReLU, rectifier family and why-nonlinearity chapters.

        >>> ens = MLPEnsemble([MLP(64, [32], 10, "tanh", seed=s) for s in range(3)])
        >>> ens(X).shape, ens.member(0)            # (3, len(X), 10), a stand-alone MLP
    """

    def __init__(self, mlps: Sequence[MLP]):
        super().__init__()
        mlps = self.members_of(
            mlps, MLP, "MLPEnsemble",
            same=lambda m: (m.activation, m.act_params, m.concatenated),
            mismatch="all members must have the same widths and activation")
        first = mlps[0]
        for m in mlps:
            if m.batchnorm or not isinstance(m.dropout, nn.Identity) or \
                    m.activation == "maxout":
                raise ValueError("MLPEnsemble supports MLPs without batch norm or dropout and "
                                 f"with an element-wise activation; got activation="
                                 f"{m.activation!r}, batchnorm={m.batchnorm!r}, "
                                 f"dropout={m.dropout!r}")
        self.activation = first.activation
        self.act_params = dict(first.act_params)
        self.act = activations.get(first.activation, **first.act_params)
        self.concatenated = first.concatenated
        self.widths = list(first.widths)
        self.slopes = nn.ParameterList(
            nn.Parameter(torch.stack([m.acts[i].weight.detach()[None, :].clone()
                                      for m in mlps]))
            for i in range(len(self.widths))) if self.activation == "prelu" else \
            nn.ParameterList()
        layers = [m.weight_layers for m in mlps]          # per member, input side first
        # weights stored as (K, fan_in, fan_out) so that h @ W maps (K, B, in) → (K, B, out)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].weight.detach().T.clone() for ls in layers]))
            for i in range(len(layers[0])))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].bias.detach()[None, :].clone() for ls in layers]))
            for i in range(len(layers[0])))

    def forward_hidden(self, x, members=None):
        """x of shape (B, in), shared by all members, or (K, B, in) → (output (K, B, out),
        [pre-activation per hidden layer], [output per hidden layer]), each (K, B, width).

        ``members`` (indices) evaluates only those members, in that order: K = len(members).
        """
        weights, biases = list(self.weights), list(self.biases)
        slopes = list(self.slopes) or [None] * len(self.widths)
        if members is not None:
            index = torch.as_tensor(members, dtype=torch.long, device=weights[0].device)
            weights, biases = [w[index] for w in weights], [b[index] for b in biases]
            slopes = [a if a is None else a[index] for a in slopes]
        pres, posts = [], []
        h = x
        for W, b, a in zip(weights[:-1], biases[:-1], slopes):
            z = _stacked_matmul(h, W) + b
            pres.append(z)
            h = self._act(z, a)
            if self.concatenated:
                h = torch.cat([h, self._act(-z, a)], dim=-1)
            posts.append(h)
        return _stacked_matmul(h, weights[-1]) + biases[-1], pres, posts

    def _act(self, z, slopes):
        """The activation; PReLU with each member's own slopes (K, 1, width)."""
        return self.act.torch(z) if slopes is None else torch.where(z > 0, z, slopes * z)

    def member(self, k: int) -> MLP:
        """Member k as a stand-alone MLP with the ensemble's current weights."""
        if not 0 <= k < len(self):
            raise IndexError(f"member index {k} out of range for an ensemble of {len(self)}")
        W = [w[k].detach().T.cpu().numpy().astype(np.float64) for w in self.weights]
        b = [bb[k, 0].detach().cpu().numpy().astype(np.float64) for bb in self.biases]
        net = MLP.from_weights(list(zip(W, b)), self.activation, self.concatenated,
                               **self.act_params)
        with torch.no_grad():
            for act, a in zip(net.acts, self.slopes):
                act.weight.copy_(a[k, 0])
        return net


def _stacked_matmul(h, W):
    """h (B, in) shared by the members, or (K, B, in), times stacked W (K, in, out)."""
    if h.dim() == 2:   # one input batch for all members: a single (B, K·out) product
        k, fan_in, fan_out = W.shape
        return (h @ W.transpose(0, 1).reshape(fan_in, k * fan_out)).view(
            -1, k, fan_out).transpose(0, 1)
    return torch.matmul(h, W)


class SmallCNN(nn.Module):
    """A two-convolution CNN for 1×8×8 digit images: conv3×3 → act → conv3×3 → act →
    2×2 max-pool → linear to ``n_classes``. Kink-at-zero chapter (exact zeros in conv nets)."""

    def __init__(self, activation: str = "relu", channels: Sequence[int] = (8, 16),
                 n_classes: int = 10, init: str = "he", seed: int = 0, device: str = "cpu",
                 **act_params):
        super().__init__()
        if len(channels) != 2:
            raise ValueError(f"channels must be a pair of positive ints, got {channels!r}")
        c1, c2 = _check_widths(channels)
        self.activation = activation
        self.convs = nn.ModuleList([nn.Conv2d(1, c1, 3, padding=1), nn.Conv2d(c1, c2, 3, padding=1)])
        self.acts = nn.ModuleList([activations.torch_module(activation, c1, **act_params),
                                   activations.torch_module(activation, c2, **act_params)])
        self.out = nn.Linear(c2 * 16, n_classes)
        gen = generator(seed)
        for layer in [*self.convs, self.out]:
            init_linear_(layer, init, gen)
        self.to(resolve_device(device))

    def forward_hidden(self, x):
        pres, posts = [], []
        h = x
        for conv, act in zip(self.convs, self.acts):
            z = conv(h)
            pres.append(z)
            h = act(z)
            posts.append(h)
        h = nn.functional.max_pool2d(h, 2).flatten(1)
        return self.out(h), pres, posts

    def forward(self, x):
        return self.forward_hidden(x)[0]

    @property
    def weight_layers(self):
        return [*self.convs, self.out]


class ElmanRNN(nn.Module):
    """h_t = act(W_in x_t + W_rec h_{t−1} + b), output = W_out h_T + b_out.

    recurrent_init: ``"gaussian"`` (entries N(0, scale²/hidden), spectral radius ≈ scale),
    ``"identity"`` (scale·I, the IRNN of Le et al. 2015) or ``"orthogonal"`` (scale·Q).
    RNN chapter.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 activation: str = "tanh", recurrent_init: str = "gaussian", scale: float = 1.0,
                 input_scale: float = 1.0, seed: int = 0, device: str = "cpu"):
        super().__init__()
        if recurrent_init not in _RECURRENT_INITS:
            raise ValueError(f"unknown recurrent_init {recurrent_init!r}; "
                             f"known: {', '.join(_RECURRENT_INITS)}")
        _check_widths([input_size, hidden_size, output_size])
        checks.check_number("scale", scale, 0)
        checks.check_number("input_scale", input_scale, 0)
        self.act = activations.get(activation)
        self.activation = activation
        self.hidden_size = hidden_size
        gen = generator(seed)
        n = hidden_size
        if recurrent_init == "gaussian":
            w_rec = torch.randn(n, n, generator=gen) * (scale / math.sqrt(n))
        elif recurrent_init == "identity":
            w_rec = scale * torch.eye(n)
        else:
            q, r = torch.linalg.qr(torch.randn(n, n, generator=gen))
            w_rec = scale * q * torch.sign(torch.diagonal(r))
        self.W_rec = nn.Parameter(w_rec)
        self.W_in = nn.Parameter(torch.randn(n, input_size, generator=gen)
                                 * (input_scale / math.sqrt(input_size)))
        self.b = nn.Parameter(torch.zeros(n))
        self.out = nn.Linear(n, output_size)
        init_linear_(self.out, "xavier", gen)
        self.to(resolve_device(device))

    def forward_states(self, x, h0=None):
        """x of shape (batch, time, input) → (output, list of hidden states h_1 … h_T)."""
        if x.dim() != 3:
            raise ValueError(f"ElmanRNN expects input of shape (batch, time, features), "
                             f"got {tuple(x.shape)}")
        h = x.new_zeros(x.shape[0], self.hidden_size) if h0 is None else h0
        states = []
        drive = x @ self.W_in.T + self.b
        for t in range(x.shape[1]):
            h = self.act.torch(drive[:, t] + h @ self.W_rec.T)
            states.append(h)
        return self.out(h), states

    def forward(self, x):
        return self.forward_states(x)[0]

    @property
    def weight_layers(self):
        return [self.W_in, self.W_rec, self.out]


class ElmanEnsemble(Ensemble):
    """K Elman RNNs of one size and activation, stacked so that one batched
    product per time step runs all of them: h_t = act(W_in x_t + W h_{t−1} + b)
    for every member at once. A seed × learning-rate grid of RNNs trains as one
    run (:func:`rectified.train.train`, one config per member).

    Member k starts as ``rnns[k]`` (any recurrent init and seed). RNN chapter.

        >>> ens = ElmanEnsemble([ElmanRNN(2, 32, 1, seed=s) for s in range(5)])
        >>> ens(X).shape                   # X (B, T, 2) -> (5, B, 1)
    """

    def __init__(self, rnns: Sequence[ElmanRNN]):
        super().__init__()
        rnns = self.members_of(
            rnns, ElmanRNN, "ElmanEnsemble", same=lambda r: r.activation,
            mismatch="all members must have the same sizes and activation")
        first = rnns[0]
        self.activation = first.activation
        self.act = first.act
        self.hidden_size = first.hidden_size

        def stack(get):
            return self.stack(rnns, get)

        # stored transposed, (K, fan_in, fan_out), so that h @ W maps
        # (K, B, in) to (K, B, out); biases as (K, 1, out)
        self.weights = nn.ParameterList([
            stack(lambda r: r.W_in.T), stack(lambda r: r.W_rec.T),
            stack(lambda r: r.out.weight.T)])
        self.biases = nn.ParameterList([
            stack(lambda r: r.b[None]), stack(lambda r: r.out.bias[None])])

    def forward_hidden(self, x, members=None):
        """x of shape (B, T, in), shared by all members, or (K, B, T, in) ->
        (output (K, B, out), [], []): a recurrent net records no layers.

        ``members`` (indices) runs only those members, in that order.
        """
        (W_in, W_rec, W_out), (b, b_out) = self._select(members)
        if x.dim() not in (3, 4):
            raise ValueError(f"x must have shape (batch, time, input) or "
                             f"(members, batch, time, input), "
                             f"got {tuple(x.shape)}")
        k = W_in.shape[0]
        if x.dim() == 3:
            x = x.expand(k, *x.shape)
        # time first, (T, K, B, n), so that each step's slice is contiguous
        drive = torch.matmul(x.permute(2, 0, 1, 3), W_in) + b
        h = x.new_zeros(k, x.shape[1], self.hidden_size)
        # unbind: one backward for all steps (indexing drive[t] would build
        # a full-size gradient at every step)
        for d in drive.unbind(0):
            h = self.act.torch(d + torch.bmm(h, W_rec))
        return torch.bmm(h, W_out) + b_out, [], []

    def member(self, k: int) -> ElmanRNN:
        """Member k as a stand-alone ElmanRNN with the ensemble's weights."""
        if not 0 <= k < len(self):
            raise IndexError(f"member index {k} out of range for an "
                             f"ensemble of {len(self)}")
        (W_in, W_rec, W_out), (b, b_out) = self.weights, self.biases
        net = ElmanRNN(W_in.shape[1], self.hidden_size, W_out.shape[2],
                       activation=self.activation,
                       device=str(W_in.device))
        with torch.no_grad():
            net.W_in.copy_(W_in[k].T)
            net.W_rec.copy_(W_rec[k].T)
            net.b.copy_(b[k, 0])
            net.out.weight.copy_(W_out[k].T)
            net.out.bias.copy_(b_out[k, 0])
        return net


def check_knots(knots, values) -> tuple[np.ndarray, np.ndarray]:
    """Knots (strictly increasing) and the values there, as float64 arrays of equal length."""
    k = np.asarray(knots, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if k.ndim != 1 or k.shape != v.shape or len(k) < 2:
        raise ValueError(f"knots and values must be 1-D of equal length >= 2, "
                         f"got shapes {k.shape} and {v.shape}")
    checks.check_array("knots", k)
    checks.check_array("values", v)
    if np.any(np.diff(k) <= 0):
        raise ValueError("knots must be strictly increasing")
    return k, v


def relu_interpolant(knots, values) -> MLP:
    """A one-hidden-layer ReLU MLP (1 → len(knots)−1 → 1) that equals the straight-line
    interpolation of (knots, values) on [knots[0], knots[-1]].

    Unit i is ReLU(x − knots[i]) and its output weight is the change of slope there, so
    each unit adds exactly one kink. Left of the first knot the net is constant; right of
    the last knot it continues the last slope. Why-nonlinearity chapter.
    """
    k, v = check_knots(knots, values)
    slopes = np.diff(v) / np.diff(k)
    dslope = np.diff(slopes, prepend=0.0)
    m = len(slopes)
    return MLP.from_weights([(np.ones((m, 1)), -k[:-1]), (dslope[None, :], np.array([v[0]]))])
