"""relu_lab: the helper package of the ReLU Lab book.

One small module per concept:

- :mod:`relu_lab.activations`: ReLU and its relatives, with derivatives (NumPy).
- :mod:`relu_lab.modern`: ReLU6, hard-swish, SELU, squared ReLU and gated units (GLU).
- :mod:`relu_lab.sparsity`: zero fractions, activation capture, dead units.
- :mod:`relu_lab.report`: the marked form (≈) of machine-dependent numbers; seed statistics.
- :mod:`relu_lab.stats`: closed-form moments of ReLU of a Gaussian, histograms.
- :mod:`relu_lab.regions`: counting the linear regions of a ReLU network.
- :mod:`relu_lab.gradients`: per-layer gradient norms.
- :mod:`relu_lab.signals`: forward signal propagation through depth.
- :mod:`relu_lab.dying`: provoking, detecting and counting dead units.
- :mod:`relu_lab.compare`: training the same model with several activations.
- :mod:`relu_lab.models`: seeded MLP builder (with skip connections and normalisation).
- :mod:`relu_lab.transformer`: the transformer's feed-forward block and gated units.
- :mod:`relu_lab.training`: deterministic training loop.
- :mod:`relu_lab.ensemble`: training several seeds of one network in one vectorised run.
- :mod:`relu_lab.data`: seeded and shipped data sets.
- :mod:`relu_lab.plotting`: the book's plotting style, and figures' dark twins.
- :mod:`relu_lab.explorables`: interactive figures that work in the static book.
- :mod:`relu_lab.timing`: the timing harness of chapter 4 and ``make bench``.
- :mod:`relu_lab.seeding`: the one seeding helper.
- :mod:`relu_lab.exercises`: ``check(name, answer)`` for the coded exercises.
"""

from relu_lab.activations import (
    elu,
    elu_derivative,
    gelu,
    gelu_derivative,
    leaky_relu,
    leaky_relu_derivative,
    prelu,
    prelu_derivative,
    relu,
    relu_derivative,
    sigmoid,
    sigmoid_derivative,
    silu,
    silu_derivative,
    tanh,
    tanh_derivative,
)
from relu_lab.seeding import seed_everything

__version__ = "0.1.0"

__all__ = [
    "relu", "relu_derivative", "leaky_relu", "leaky_relu_derivative", "prelu", "prelu_derivative",
    "sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "elu", "elu_derivative",
    "gelu", "gelu_derivative", "silu", "silu_derivative", "seed_everything", "__version__",
]
