"""What ReLU does to random numbers, and measurements that compare activations.

Introduced in chapter 4 (*Sparse, cheap, and non-saturating*):
:func:`relu_gaussian_moments` gives the zero fraction, mean and variance of
``relu(z)`` for a Gaussian ``z`` in closed form, :func:`empirical_moments` measures
the same quantities on samples, and :func:`layer_sparsity` measures each activation
layer of a network. Chapter 5 (*ReLU against sigmoid and tanh*) uses
:func:`race_to_accuracy` to train the same network with different activations.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from scipy import special
from torch import nn

from relu_lab._validation import as_float_array, check_positive_int, check_real
from relu_lab.data import Dataset
from relu_lab.models import ACTIVATION_MODULES, INITS, mlp
from relu_lab.sparsity import capture_activations, zero_fraction
from relu_lab.timing import time_call
from relu_lab.training import History, train

__all__ = [
    "ReluMoments",
    "relu_gaussian_moments",
    "empirical_moments",
    "layer_sparsity",
    "RaceResult",
    "race_to_accuracy",
]


class ReluMoments(NamedTuple):
    """Summary statistics of the outputs of a ReLU, as a named tuple of floats."""

    #: Fraction of outputs that are exactly zero.
    zero_fraction: float
    #: Mean output, ``E[relu(z)]``.
    mean: float
    #: Mean squared output, ``E[relu(z)**2]``.
    second_moment: float
    #: ``second_moment - mean**2``.
    variance: float


def relu_gaussian_moments(mean: float = 0.0, std: float = 1.0) -> ReluMoments:
    """Closed-form statistics of ``relu(z)`` for ``z ~ Normal(mean, std**2)``.

    With :math:`a = \\mu / \\sigma`, the standard normal density :math:`\\varphi` and
    distribution function :math:`\\Phi`:

    * zero fraction :math:`P(z \\le 0) = \\Phi(-a)`,
    * mean :math:`\\mu \\Phi(a) + \\sigma \\varphi(a)`,
    * second moment :math:`(\\mu^2 + \\sigma^2) \\Phi(a) + \\mu \\sigma \\varphi(a)`.

    For the standard normal this gives 1/2, :math:`1/\\sqrt{2\\pi}` and 1/2: a ReLU
    keeps half of the input's second moment, which is why He initialisation doubles
    the weight variance (chapter 7).

    Parameters
    ----------
    mean : float, default 0.0
        Mean of the Gaussian input; finite.
    std : float, default 1.0
        Standard deviation of the input; finite and positive.

    Returns
    -------
    ReluMoments

    Examples
    --------
    >>> m = relu_gaussian_moments()
    >>> m.zero_fraction, round(m.mean, 6), m.second_moment
    (0.5, 0.398942, 0.5)
    >>> round(m.variance, 6) == round(0.5 - 1 / (2 * math.pi), 6)
    True
    >>> round(relu_gaussian_moments(mean=-1.0).zero_fraction, 4)  # a negative bias: sparser
    0.8413
    """
    mu = check_real(mean, "mean")
    sigma = check_real(std, "std")
    if sigma <= 0:
        raise ValueError(f"std must be positive, got {sigma}")
    a = mu / sigma
    cdf = float(special.ndtr(a))
    pdf = math.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)
    m1 = mu * cdf + sigma * pdf
    m2 = (mu * mu + sigma * sigma) * cdf + mu * sigma * pdf
    return ReluMoments(float(special.ndtr(-a)), m1, m2, max(m2 - m1 * m1, 0.0))


def empirical_moments(values: Any) -> ReluMoments:
    """The statistics of :class:`ReluMoments`, measured on ``values``.

    Parameters
    ----------
    values : array_like or torch.Tensor
        A non-empty array of finite numbers (usually ReLU outputs); any shape.

    Returns
    -------
    ReluMoments
        Computed in float64, whatever the input dtype.

    Examples
    --------
    >>> empirical_moments([0.0, 0.0, 1.0, 3.0])
    ReluMoments(zero_fraction=0.5, mean=1.0, second_moment=2.5, variance=1.5)
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu()
    x = as_float_array(values, "values").astype(np.float64).ravel()
    if x.size == 0:
        raise ValueError("values must not be empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite (no NaN or infinity)")
    m1 = float(x.mean())
    m2 = float(np.mean(x * x))
    return ReluMoments(zero_fraction(x), m1, m2, float(x.var()))


def layer_sparsity(model: nn.Module, inputs: torch.Tensor) -> OrderedDict[str, float]:
    """Fraction of exact zeros in each activation layer's output on ``inputs``.

    The fraction is taken over all examples and units of the layer together.

    Parameters
    ----------
    model : torch.nn.Module
        A network with at least one activation layer (see
        :data:`relu_lab.sparsity.ACTIVATION_LAYERS`).
    inputs : torch.Tensor
        A batch, examples along dimension 0.

    Returns
    -------
    OrderedDict
        Layer name to zero fraction, in the order the layers ran.

    Examples
    --------
    >>> net = mlp([2, 4, 4, 1], bias=-100.0)  # every pre-activation is very negative
    >>> dict(layer_sparsity(net, torch.randn(8, 2)))
    {'relu1': 1.0, 'relu2': 1.0}
    """
    return OrderedDict((name, zero_fraction(out)) for name, out in capture_activations(model, inputs).items())


@dataclass(frozen=True)
class RaceResult:
    """One contestant of :func:`race_to_accuracy`.

    Attributes
    ----------
    activation : str
        The activation's name.
    history : History
        Training loss and accuracy after every epoch (index 0: untrained).
    target : float
        The training accuracy to reach.
    seconds : float
        Wall-clock time of the whole training run (every epoch, with the evaluation
        that :func:`relu_lab.training.train` does after each).
    model : torch.nn.Module, optional
        The trained network, to look inside (its activations, its sparsity).
    """

    activation: str
    history: History
    target: float
    seconds: float
    model: nn.Module | None = None

    @property
    def epochs_to_target(self) -> int | None:
        """First epoch whose training accuracy is at least :attr:`target`, or None."""
        return self.history.epochs_to_reach(self.target)

    @property
    def seconds_per_epoch(self) -> float:
        """Mean wall-clock time of one epoch."""
        return self.seconds / max(self.history.epochs, 1)

    @property
    def seconds_to_target(self) -> float | None:
        """Estimated wall-clock time to reach the target (epochs needed times seconds per epoch), or None."""
        epochs = self.epochs_to_target
        return None if epochs is None else epochs * self.seconds_per_epoch


def race_to_accuracy(
    activations: Sequence[str],
    data: Dataset,
    *,
    hidden: Sequence[int] = (64, 64),
    target: float = 0.95,
    epochs: int = 40,
    lr: float = 0.05,
    momentum: float = 0.9,
    batch_size: int = 64,
    init: str | float = "xavier",
    seed: int = 0,
) -> dict[str, RaceResult]:
    """Train the same network once per activation and record how fast each learns.

    Everything except the activation is shared: the layer widths, the initialisation
    scheme and its seed (so the weights start identical), the data, the minibatch
    order, the optimiser and the learning rate. Each network trains for ``epochs``
    epochs, timed with :func:`relu_lab.timing.time_call` after an untimed one-epoch
    warm-up run on a throwaway copy.

    Parameters
    ----------
    activations : sequence of str
        Names from :data:`relu_lab.models.ACTIVATION_MODULES`, e.g.
        ``["relu", "tanh", "sigmoid"]``; at least one, no repeats.
    data : Dataset
        Training data; accuracy is measured on it.
    hidden : sequence of int, default (64, 64)
        Widths of the hidden layers; input and output widths come from ``data``.
    target : float, default 0.95
        Training accuracy that counts as the finish line, in (0, 1].
    epochs : int, default 40
        Epochs per contestant.
    lr, momentum, batch_size, init, seed
        As in :func:`relu_lab.training.train` and :func:`relu_lab.models.mlp`.

    Returns
    -------
    dict
        Activation name to :class:`RaceResult`, in the order given.

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> results = race_to_accuracy(["relu", "tanh"], xor(), hidden=[8], target=1.0, epochs=20, lr=0.1)
    >>> list(results), results["relu"].history.epochs
    (['relu', 'tanh'], 20)
    >>> all(r.epochs_to_target is not None and r.seconds > 0 for r in results.values())
    True
    """
    if isinstance(activations, (str, bytes)) or not isinstance(activations, Sequence):
        raise TypeError(f"activations must be a sequence of names, got {type(activations).__name__}")
    if not activations:
        raise ValueError("activations must name at least one activation")
    for name in activations:
        if name not in ACTIVATION_MODULES:
            raise ValueError(f"activations: {name!r} is not one of {sorted(ACTIVATION_MODULES)}")
    if len(set(activations)) != len(activations):
        raise ValueError(f"activations must not repeat a name, got {list(activations)}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a sequence of layer widths, got {type(hidden).__name__}")
    target = check_real(target, "target")
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target}")
    epochs = check_positive_int(epochs, "epochs")
    if isinstance(init, str) and init not in INITS:
        raise ValueError(f"init must be one of {INITS} or a positive float, got {init!r}")
    sizes = [data.n_features, *hidden, data.n_classes]
    options = dict(lr=lr, momentum=momentum, batch_size=batch_size, seed=seed, track_dead=False)

    results: dict[str, RaceResult] = {}
    for name in activations:
        train(mlp(sizes, name, init, seed=seed), data, epochs=1, **options)  # warm-up, untimed
        model = mlp(sizes, name, init, seed=seed)
        runs: list[History] = []
        timing = time_call(lambda: runs.append(train(model, data, epochs=epochs, **options)), repeats=1, warmup=0)
        results[name] = RaceResult(name, runs[0], target, timing.median, model)
    return results
