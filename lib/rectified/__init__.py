"""rectified — the tested library behind the book *Rectified*, an executable textbook about
the rectified linear unit and its relatives.

Modules, one concept each:

- :mod:`rectified.activations` — activation functions, their derivatives, torch versions
- :mod:`rectified.data` — seeded toy sets, 1-D targets, the adding problem, 8×8 digits
- :mod:`rectified.models` — MLP builder and initialisations, Maxout, SmallCNN, Elman RNN
- :mod:`rectified.train` — one deterministic training loop with a recorded history
- :mod:`rectified.diagnostics` — dead units, gradient norms, linear regions, spectra
- :mod:`rectified.plots` — house-style plot helpers
- :mod:`rectified.widgets` — ``render(state) -> Figure`` widgets
- :mod:`rectified.register` — the register of questions and claims, and the claims ledger
"""

from . import activations, data, diagnostics, models, plots, register, train, widgets

__version__ = "0.1.0"
__all__ = ["activations", "data", "diagnostics", "models", "plots", "register", "train",
           "widgets"]
