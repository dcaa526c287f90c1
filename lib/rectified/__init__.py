"""rectified — the tested library behind the book *Rectified*, an executable textbook about
the rectified linear unit and its relatives.

Core modules, one concept each (imported with the package):

- :mod:`rectified.activations` — the registry: each activation's formula, derivative, torch
  version and facts (shape parameter, negative slope, can it die, maxout's pieces)
- :mod:`rectified.data` — seeded toy sets, 1-D targets, the adding problem, 8×8 digits
- :mod:`rectified.models` — MLP and its initialisations, MLPEnsemble (many MLPs stacked),
  Maxout, SmallCNN, Elman RNN
- :mod:`rectified.train` — the one training engine: a model or an ensemble, a History
- :mod:`rectified.diagnostics` — dead units, gradient norms, linear regions; the dead-unit map
- :mod:`rectified.plots` — the house style and every drawing: ``draw_x(result)``
- :mod:`rectified.widgets` — widget machinery: live controls, kernel-free frames, small
  multiples
- :mod:`rectified.register` — the one reader of the register, and the claims ledger

Modules of particular experiments (import them by name); each holds its experiments'
``XState``, ``compute_x(state) -> XResult`` and the helpers they need:

- :mod:`rectified.boundary` — fits beyond the data and decision boundaries in 2-D
- :mod:`rectified.compare` — comparing runs: the protocol (per-arm tuning, seeds,
  intervals) and the training-speed view
- :mod:`rectified.conditioning` — all-positive inputs and slow learning
- :mod:`rectified.continual` — one task after another: catastrophic forgetting
- :mod:`rectified.curvature` — first-order step predictions and the curvature that spoils them
- :mod:`rectified.moments` — Gaussian moments of activations through depth
- :mod:`rectified.piecewise` — piecewise-linear functions: sums of ReLUs, maxout fits
- :mod:`rectified.playground` — the live playground's state, run and picture
- :mod:`rectified.precision` — exact zeros and ReLU'(0) in low precision
- :mod:`rectified.propagation` — signal and gradient through depth; the activation explorer
- :mod:`rectified.recurrence` — hidden states and Jacobians of RNNs through time
- :mod:`rectified.timing` — timing and counting the cost of an operation
"""

from . import activations, data, diagnostics, models, plots, register, train, widgets

__version__ = "0.1.0"
__all__ = ["activations", "data", "diagnostics", "models", "plots", "register", "train",
           "widgets"]
