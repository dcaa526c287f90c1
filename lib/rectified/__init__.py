"""rectified — the tested library behind the book *Rectified*, an executable textbook about
the rectified linear unit and its relatives.

Core modules, one concept each (imported with the package):

- :mod:`rectified.activations` — activation functions, their derivatives, torch versions
- :mod:`rectified.data` — seeded toy sets, 1-D targets, the adding problem, 8×8 digits
- :mod:`rectified.models` — MLP builder and initialisations, Maxout, SmallCNN, Elman RNN
- :mod:`rectified.train` — one deterministic training loop with a recorded history
- :mod:`rectified.diagnostics` — dead units, gradient norms, linear regions, spectra
- :mod:`rectified.plots` — house-style plot helpers
- :mod:`rectified.widgets` — ``render(state) -> Figure`` widgets
- :mod:`rectified.register` — the register of questions and claims, and the claims ledger

Modules for particular experiments (import them by name):

- :mod:`rectified.boundary` — geometry of 2-D decision boundaries
- :mod:`rectified.conditioning` — all-positive inputs and slow learning
- :mod:`rectified.continual` — one task after another: catastrophic forgetting
- :mod:`rectified.curvature` — first-order step predictions and the curvature that spoils them
- :mod:`rectified.ensemble` — many small MLPs trained in one batched pass
- :mod:`rectified.moments` — Gaussian moments of activations through depth
- :mod:`rectified.piecewise` — piecewise-linear functions as maxout units
- :mod:`rectified.playground` — the live playground's state, run and picture
- :mod:`rectified.precision` — exact zeros and ReLU'(0) in low precision
- :mod:`rectified.propagation` — forward signal and back-propagated gradient through depth
- :mod:`rectified.recurrence` — hidden states and Jacobians of RNNs through time
- :mod:`rectified.timing` — a small timing harness
"""

from . import activations, data, diagnostics, models, plots, register, train, widgets

__version__ = "0.1.0"
__all__ = ["activations", "data", "diagnostics", "models", "plots", "register", "train",
           "widgets"]
