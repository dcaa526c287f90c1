"""Seeded datasets: 2-D toy classification, 1-D regression, the adding problem, 8×8 digits.

Nothing is downloaded: the toy sets are generated from a seed and the digits ship inside
scikit-learn. Every generator takes ``seed`` and gives identical arrays for the same seed.

Chapters: why nonlinearity (ring, 1-D targets), why ReLU and dying ReLU (digits),
RNNs and tanh (adding problem).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import checks

__all__ = [
    "Dataset", "split", "ring", "xor", "gaussians", "spiral", "moons", "classification_2d",
    "DATASETS_2D", "TARGETS_1D", "regression_1d", "adding_problem", "digits",
    "ADDING_BASELINE_MSE", "permuted", "digits_pixels", "adding_split",
]

#: MSE of always predicting 1 on the adding problem: Var(U1 + U2) = 2/12.
ADDING_BASELINE_MSE = 1.0 / 6.0


@dataclass(frozen=True)
class Dataset:
    """A train/test split. ``y`` holds class indices (int64) or regression targets (float)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str = ""
    n_classes: int | None = None   # None for regression

    @property
    def n_features(self) -> int:
        return int(np.prod(self.X_train.shape[1:]))

    @property
    def is_classification(self) -> bool:
        return self.n_classes is not None

    def __repr__(self):
        kind = f"{self.n_classes} classes" if self.is_classification else "regression"
        return (f"Dataset({self.name!r}, train {self.X_train.shape}, "
                f"test {self.X_test.shape}, {kind})")


#: The most examples (or time steps) a generator here draws: ten million rows are far
#: beyond any chapter and still fit in memory.
MAX_ROWS = 10_000_000


def _check_n(n, name="n", minimum=2) -> int:
    return checks.check_int(name, n, minimum, MAX_ROWS)


def _check_noise(noise) -> float:
    return checks.check_number("noise", noise, 0)


def split(X, y, test_fraction: float = 0.25, seed: int = 0, name: str = "",
          n_classes: int | None = None) -> Dataset:
    """Shuffle with ``seed`` and split off ``test_fraction`` of the rows as a test set."""
    X = checks.check_array("X", X, min_rows=2)
    y = checks.check_array("y", y, min_rows=2)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    checks.check_number("test_fraction", test_fraction, 0, 1, lo_open=True, hi_open=True,
                        hint="strictly between 0 and 1")
    seed = checks.check_seed("seed", seed)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = max(1, int(round(test_fraction * len(X))))
    if n_test >= len(X):
        raise ValueError(f"test_fraction={test_fraction} leaves no training rows out of {len(X)}")
    test, train = order[:n_test], order[n_test:]
    return Dataset(X[train], y[train], X[test], y[test], name, n_classes)


# --- 2-D classification -------------------------------------------------------------------
# All sets live in roughly [-1, 1]², with two balanced classes labelled 0 and 1.

def ring(n: int = 400, noise: float = 0.05, seed: int = 0):
    """A disk (class 0, radius ≤ 0.5) inside a ring (class 1, radius 0.7–1.0)."""
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    y = np.arange(n) % 2
    r = np.where(y == 0, rng.uniform(0.0, 0.5, n), rng.uniform(0.7, 1.0, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.c_[r * np.cos(angle), r * np.sin(angle)] + noise * rng.standard_normal((n, 2))
    return X.astype(np.float32), y.astype(np.int64)


def xor(n: int = 400, noise: float = 0.05, seed: int = 0, margin: float = 0.05):
    """Points in the four quadrants; class 1 where x₁·x₂ < 0 (the XOR pattern)."""
    n = _check_n(n)
    noise = _check_noise(noise)
    margin = checks.check_number("margin", margin, 0, 1, hi_open=True,
                                 hint="the gap each side of the axes")
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    X = rng.uniform(margin, 1.0, (n, 2)) * rng.choice([-1.0, 1.0], (n, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    X = X + noise * rng.standard_normal((n, 2))
    return X.astype(np.float32), y


def gaussians(n: int = 400, noise: float = 0.3, seed: int = 0, distance: float = 1.0):
    """Two isotropic gaussian blobs of std ``noise`` centred ``distance`` apart on the diagonal."""
    n = _check_n(n)
    noise = _check_noise(noise)
    distance = checks.check_number("distance", distance, 0)
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    y = np.arange(n) % 2
    centre = (distance / (2 * np.sqrt(2))) * np.where(y[:, None] == 1, 1.0, -1.0)
    X = centre + noise * rng.standard_normal((n, 2))
    return X.astype(np.float32), y.astype(np.int64)


def spiral(n: int = 400, noise: float = 0.05, seed: int = 0, turns: float = 1.5):
    """Two interleaved spirals of ``turns`` revolutions, class 1 rotated by π."""
    n = _check_n(n)
    noise = _check_noise(noise)
    turns = checks.check_number("turns", turns, 0, lo_open=True)
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    y = np.arange(n) % 2
    t = rng.uniform(0.05, 1.0, n)
    angle = 2 * np.pi * turns * t + np.pi * y
    X = np.c_[t * np.cos(angle), t * np.sin(angle)] + noise * rng.standard_normal((n, 2))
    return X.astype(np.float32), y.astype(np.int64)


def moons(n: int = 400, noise: float = 0.05, seed: int = 0):
    """Two interleaving half circles, scaled into [-1, 1]²."""
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    y = np.arange(n) % 2
    t = rng.uniform(0, np.pi, n)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    X = np.where(y[:, None] == 0, upper, lower)
    X = (X - [0.5, 0.25]) / 1.5 + noise * rng.standard_normal((n, 2))
    return X.astype(np.float32), y.astype(np.int64)


DATASETS_2D: dict[str, Callable] = {
    "ring": ring, "xor": xor, "gaussians": gaussians, "spiral": spiral, "moons": moons,
}


def classification_2d(name: str, n: int = 400, noise: float | None = None, seed: int = 0,
                       test_fraction: float = 0.25) -> Dataset:
    """A named 2-D set, split into train and test (``noise=None`` keeps the set's default)."""
    if not isinstance(name, str) or name not in DATASETS_2D:
        raise ValueError(f"unknown 2-D dataset {name!r}; known: {', '.join(DATASETS_2D)}")
    checks.check_seed("seed", seed)
    kwargs = {} if noise is None else {"noise": noise}
    X, y = DATASETS_2D[name](n=n, seed=seed, **kwargs)
    return split(X, y, test_fraction, seed, name=name, n_classes=2)


# --- 1-D regression -----------------------------------------------------------------------

TARGETS_1D: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sine": np.sin,
    "exp": lambda x: np.exp(x / 2) / np.exp(2.0),   # scaled so that it is ≤ 1 on [-4, 4]
    "abs": np.abs,
}


def regression_1d(target: str = "sine", n: int = 200, lo: float = -4.0, hi: float = 4.0,
                  noise: float = 0.0, seed: int = 0, test_fraction: float = 0.25) -> Dataset:
    """Samples x ~ U[lo, hi], y = target(x) + noise·N(0, 1); X has shape (n, 1)."""
    if not isinstance(target, str) or target not in TARGETS_1D:
        raise ValueError(f"unknown 1-D target {target!r}; known: {', '.join(TARGETS_1D)}")
    n = _check_n(n)
    noise = _check_noise(noise)
    lo, hi = checks.check_number("lo", lo), checks.check_number("hi", hi)
    checks.check_seed("seed", seed)
    if not lo < hi:
        raise ValueError(f"need lo < hi, got lo={lo!r}, hi={hi!r}")
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    x = rng.uniform(lo, hi, n)
    y = TARGETS_1D[target](x) + noise * rng.standard_normal(n)
    return split(x[:, None].astype(np.float32), y[:, None].astype(np.float32), test_fraction,
                 seed, name=target)


# --- The adding problem -------------------------------------------------------------------

def adding_problem(n: int = 1000, length: int = 50, seed: int = 0):
    """The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015).

    X has shape (n, length, 2): channel 0 holds U[0, 1] numbers, channel 1 marks exactly two
    positions, one in each half of the sequence. y (shape (n, 1)) is the sum of the two
    marked numbers. Predicting 1 always scores MSE ≈ 1/6 (:data:`ADDING_BASELINE_MSE`).
    """
    n = _check_n(n, "n", 1)
    length = _check_n(length, "length", 2)
    if n * length > MAX_ROWS:
        raise ValueError(f"n * length must be <= {MAX_ROWS} (memory), got n={n}, "
                         f"length={length}")
    seed = checks.check_seed("seed", seed)
    rng = np.random.default_rng(checks.check_seed("seed", seed))
    values = rng.uniform(0, 1, (n, length))
    marks = np.zeros((n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    X = np.stack([values, marks], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)
    return X, y


def adding_split(n: int = 1200, length: int = 50,
                 test_fraction: float = 1 / 6, seed: int = 0) -> Dataset:
    """:func:`adding_problem` (n sequences of ``length`` steps, drawn with
    ``seed``) split into training and test sequences with the same seed.
    RNN chapter."""
    X, y = adding_problem(n, length, seed)
    return split(X, y, test_fraction, seed,
                 name=f"adding problem, T = {length}")


# --- 8×8 digits ---------------------------------------------------------------------------

def digits(test_fraction: float = 0.25, seed: int = 0, standardize: bool = True,
           images: bool = False) -> Dataset:
    """The 1,797 8×8 handwritten digits that ship with scikit-learn (values 0–16), split.

    ``standardize`` rescales each pixel with the training split's mean and std (pixels that
    are constant in training are left at 0). ``images=True`` gives shape (n, 1, 8, 8) for a
    CNN instead of (n, 64).
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = bunch.data.astype(np.float32)
    y = bunch.target.astype(np.int64)
    ds = split(X, y, test_fraction, seed, name="digits", n_classes=10)
    Xtr, Xte = ds.X_train, ds.X_test
    if standardize:
        mean = Xtr.mean(axis=0)
        std = Xtr.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    if images:
        Xtr, Xte = Xtr.reshape(-1, 1, 8, 8), Xte.reshape(-1, 1, 8, 8)
    return Dataset(Xtr.astype(np.float32), ds.y_train, Xte.astype(np.float32), ds.y_test,
                   "digits", 10)


def permuted(ds: Dataset, seed: int = 0) -> Dataset:
    """A copy of ``ds`` whose input features are shuffled by one fixed permutation,
    ``np.random.default_rng(seed).permutation(n_features)``, the same for every example
    (train and test). Labels are unchanged: a new task that is the old one in a new input
    format ("permuted digits"). Maxout chapter (catastrophic forgetting).
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"ds must be a Dataset, got {type(ds).__name__}")
    seed = checks.check_seed("seed", seed)
    perm = np.random.default_rng(seed).permutation(ds.n_features)

    def shuffle(X):
        return X.reshape(len(X), -1)[:, perm].reshape(X.shape)

    return Dataset(shuffle(ds.X_train), ds.y_train, shuffle(ds.X_test), ds.y_test,
                   f"{ds.name} (permuted, seed {seed})", ds.n_classes)


def digits_pixels(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """The 8×8 digits with raw pixel intensities scaled to [0, 1] (x / 16), the usual
    convention for images: every input is nonnegative and none is centred, so one large
    step that makes a first-layer unit's weights and bias negative silences it for every
    image. Dying ReLU chapter."""
    ds = digits(test_fraction, seed, standardize=False)
    return Dataset(ds.X_train / 16.0, ds.y_train, ds.X_test / 16.0, ds.y_test,
                   "digits (pixels in [0, 1])", ds.n_classes)


# --- Character-level text from the Python standard library (ReLU today chapter) ------

@dataclass(frozen=True)
class CharCorpus:
    """A text cut into next-character examples: X holds ``context`` consecutive character
    ids, y the id of the character that follows them.

    ``dataset`` holds the training examples and, as its test split, the validation
    examples that choose learning rates; ``X_test``/``y_test`` are held-out examples used
    for nothing else. The text is split by position, 80 : 10 : 10, so no character of the
    validation or test text is a training target. ``vocab`` lists the characters by id;
    ``source`` names the file, ``sha256`` its content (same file, same numbers) and
    ``n_chars`` its length."""

    dataset: Dataset
    X_test: np.ndarray
    y_test: np.ndarray
    vocab: str
    source: str
    sha256: str
    n_chars: int

    @property
    def context(self) -> int:
        return int(self.dataset.X_train.shape[1])


def stdlib_text(module: str = "heapq") -> tuple[str, str]:
    """(text, path) of a standard-library module's source file, read from disk through
    ``inspect.getsourcefile``: text that every Python install ships, no download."""
    import importlib
    import inspect

    if not isinstance(module, str):
        raise TypeError(f"module must be a module name (str), got {module!r}")
    try:
        path = inspect.getsourcefile(importlib.import_module(module))
    except TypeError:                         # a built-in module: no file at all
        path = None
    if path is None:
        raise ValueError(f"module {module!r} has no Python source file")
    with open(path, encoding="utf-8") as f:
        return f.read(), path


def char_corpus(module: str = "heapq", context: int = 8,
                text: str | None = None) -> CharCorpus:
    """The source of ``module`` (or ``text``) as next-character examples: every window of
    ``context`` characters and the character after it. Ids follow the sorted set of
    characters. ReLU today chapter."""
    import hashlib

    context = checks.check_int("context", context, 1, 4096, "characters per example")
    if text is None:
        text, source = stdlib_text(module)
    else:
        checks.check_type("text", text, str, "a str")
        source = "<text>"
    vocab = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    n = len(ids)
    cut1, cut2 = int(0.8 * n), int(0.9 * n)
    if cut2 - cut1 < context + 1:
        raise ValueError(f"the text ({n} characters) is too short for a context of "
                         f"{context}: each of its validation and test tenths needs more "
                         f"than {context} characters")

    def examples(part):
        starts = np.arange(len(part) - context)
        X = np.stack([part[starts + j] for j in range(context)], 1)
        return X, part[starts + context]

    Xtr, ytr = examples(ids[:cut1])
    Xva, yva = examples(ids[cut1:cut2])
    Xte, yte = examples(ids[cut2:])
    return CharCorpus(Dataset(Xtr, ytr, Xva, yva, f"characters of {source}", len(vocab)),
                      Xte, yte, vocab, source,
                      hashlib.sha256(text.encode("utf-8")).hexdigest(), n)


__all__ += ["CharCorpus", "stdlib_text", "char_corpus"]
