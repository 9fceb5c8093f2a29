"""The same network, data and optimiser with each activation: accuracy and cost.

Introduced in chapter 10. :func:`compare_activations` trains one small network per
activation and seed, changing nothing else, and :func:`activation_costs` times each
activation on its own with the timing harness of chapter 4 (:func:`relu_lab.timing.time_call`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from relu_lab._validation import check_positive_int
from relu_lab.data import Dataset
from relu_lab.ensemble import _check_seeds, train_seeds
from relu_lab.models import ACTIVATION_MODULES, mlp
from relu_lab.timing import Timing, time_call
from relu_lab.training import SGD, History

__all__ = ["Comparison", "compare_activations", "activation_costs", "training_step_costs"]

#: Quantities that :meth:`Comparison.final` and :meth:`Comparison.curves` can return.
METRICS = ("accuracy", "test_accuracy", "loss")


def _check_names(activations: Sequence[str]) -> tuple[str, ...]:
    if isinstance(activations, (str, bytes)) or not isinstance(activations, Sequence):
        raise TypeError(f"activations must be a sequence of activation names, got {type(activations).__name__}")
    if len(activations) == 0:
        raise ValueError("activations must name at least one activation")
    for name in activations:
        if not isinstance(name, str):
            raise TypeError(f"activations must hold strings, got {type(name).__name__} {name!r}")
        if name not in ACTIVATION_MODULES:
            raise ValueError(f"activations: unknown name {name!r}; choose from {sorted(ACTIVATION_MODULES)}")
    if len(set(activations)) != len(activations):
        raise ValueError(f"activations must not repeat a name, got {list(activations)}")
    return tuple(activations)


@dataclass(frozen=True)
class Comparison:
    """Training histories of one network per activation and seed.

    Attributes
    ----------
    histories : dict of str to tuple of History
        For each activation name, one :class:`~relu_lab.training.History` per seed, in
        the order of ``seeds``.
    seeds : tuple of int
        The seeds; seed ``s`` fixes both the initial weights and the minibatch order.
    models : dict of str to tuple of torch.nn.Module
        The trained networks, in the same layout as ``histories``.
    """

    histories: dict[str, tuple[History, ...]]
    seeds: tuple[int, ...]
    models: dict[str, tuple[nn.Module, ...]]

    @property
    def activations(self) -> tuple[str, ...]:
        """Activation names, in the order they were trained."""
        return tuple(self.histories)

    def _check_metric(self, metric: str) -> str:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        if metric == "test_accuracy" and not next(iter(self.histories.values()))[0].test_accuracy:
            raise ValueError("metric 'test_accuracy' needs a comparison run with test data")
        return metric

    def curves(self, metric: str = "test_accuracy") -> dict[str, np.ndarray]:
        """Per activation, an array ``(len(seeds), epochs + 1)`` of ``metric`` after each epoch.

        Column 0 is the untrained network.
        """
        metric = self._check_metric(metric)
        return {name: np.array([getattr(h, metric) for h in runs]) for name, runs in self.histories.items()}

    def final(self, metric: str = "test_accuracy") -> dict[str, np.ndarray]:
        """Per activation, ``metric`` after the last epoch, one value per seed."""
        return {name: c[:, -1] for name, c in self.curves(metric).items()}

    def table(self) -> str:
        """A plain-text table: final training and test accuracy, mean and range over seeds.

        Rows are sorted by mean test accuracy if there is test data, else by training
        accuracy, best first; numbers are rounded to 3 decimals.
        """
        train_acc = self.final("accuracy")
        has_test = bool(next(iter(self.histories.values()))[0].test_accuracy)
        test_acc = self.final("test_accuracy") if has_test else None
        key = test_acc if test_acc is not None else train_acc
        order = sorted(self.activations, key=lambda name: -float(key[name].mean()))
        header = f"{'activation':<12}{'train acc':>11}{'test acc':>11}"
        header += f"{'test range':>17}" if test_acc is not None else f"{'train range':>17}"
        lines = [header]
        for name in order:
            spread = test_acc[name] if test_acc is not None else train_acc[name]
            test = f"{test_acc[name].mean():>11.3f}" if test_acc is not None else f"{'-':>11}"
            lines.append(
                f"{name:<12}{train_acc[name].mean():>11.3f}{test}"
                f"{'':>4}{spread.min():.3f} - {spread.max():.3f}"
            )
        return "\n".join(lines)


def compare_activations(
    activations: Sequence[str],
    data: Dataset,
    test_data: Dataset | None = None,
    *,
    hidden: Sequence[int] = (64, 64),
    seeds: Sequence[int] = (0,),
    epochs: int = 10,
    lr: float = 0.05,
    momentum: float = 0.9,
    batch_size: int = 64,
    init: str | float = "he",
) -> Comparison:
    """Train the same MLP once per activation and seed, changing nothing else.

    Every run builds ``mlp([n_features, *hidden, n_classes], activation, init, seed=s)``
    and trains it as :func:`relu_lab.training.train` would (SGD with momentum,
    cross-entropy, minibatch order from the same seed ``s``). So for a given seed, all
    activations start from the same weights and see the same minibatches in the same
    order. The seeds of one activation train together, in one vectorised run of
    :func:`relu_lab.ensemble.train_seeds`.

    Parameters
    ----------
    activations : sequence of str
        Names from :data:`relu_lab.models.ACTIVATION_MODULES`, e.g. ``["relu", "gelu"]``.
    data : Dataset
        Training data.
    test_data : Dataset, optional
        If given, test accuracy is recorded after each epoch.
    hidden : sequence of int, default (64, 64)
        Widths of the hidden layers.
    seeds : sequence of int, default (0,)
        One run per seed and activation.
    epochs, lr, momentum, batch_size
        Passed to :func:`~relu_lab.ensemble.train_seeds`.
    init : str or float, default "he"
        Passed to :func:`~relu_lab.models.mlp`.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> c = compare_activations(["relu", "tanh"], xor(), hidden=[8], epochs=20, lr=0.2)
    >>> c.activations, c.seeds
    (('relu', 'tanh'), (0,))
    >>> {name: float(acc[0]) for name, acc in c.final("accuracy").items()}
    {'relu': 1.0, 'tanh': 1.0}
    """
    names = _check_names(activations)
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    if test_data is not None and not isinstance(test_data, Dataset):
        raise TypeError(f"test_data must be a relu_lab.data.Dataset or None, got {type(test_data).__name__}")
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a sequence of layer widths, got {type(hidden).__name__}")
    hidden = [check_positive_int(w, f"hidden[{i}]") for i, w in enumerate(hidden)]
    seed_list = _check_seeds(seeds)
    n_classes = data.n_classes if test_data is None else max(data.n_classes, test_data.n_classes)
    sizes = [data.n_features, *hidden, n_classes]

    histories: dict[str, tuple[History, ...]] = {}
    models: dict[str, tuple[nn.Module, ...]] = {}
    for name in names:
        runs = train_seeds(sizes, name, init, data=data, seeds=seed_list, epochs=epochs, lr=lr,
                           momentum=momentum, batch_size=batch_size, test_data=test_data, track_dead=False)
        histories[name], models[name] = runs.histories, runs.models
    return Comparison(histories, seed_list, models)


def activation_costs(
    activations: Sequence[str],
    n: int = 2**18,
    *,
    backward: bool = False,
    repeats: int = 11,
    number: int = 5,
    seed: int = 0,
) -> dict[str, Timing]:
    """Time each activation's PyTorch module on ``n`` standard-normal float32 numbers.

    Uses :func:`relu_lab.timing.time_call`, the harness of chapter 4 and ``make bench``.
    The times depend on the machine, its load and the thread count; compare them with
    each other, not across machines.

    Parameters
    ----------
    activations : sequence of str
        Names from :data:`relu_lab.models.ACTIVATION_MODULES`.
    n : int, default 2**18
        Number of inputs (262,144 float32 numbers, 1 MiB).
    backward : bool, default False
        If False, time the forward pass only, without autograd. If True, time a forward
        and a backward pass (the gradient with respect to the input, as in training).
    repeats, number : int
        Passed to :func:`~relu_lab.timing.time_call`.
    seed : int, default 0
        Seed of the inputs.

    Every activation is run a few times, untimed, before the first one is timed, so
    that the one-off costs of a process's first (autograd) passes are charged to none.

    Returns
    -------
    dict of str to Timing
        Seconds per call, in the order of ``activations``.

    Examples
    --------
    >>> costs = activation_costs(["relu", "sigmoid"], n=1000, repeats=3)
    >>> list(costs), all(t.median > 0 for t in costs.values())
    (['relu', 'sigmoid'], True)
    """
    names = _check_names(activations)
    n = check_positive_int(n, "n")
    if not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"backward must be True or False, got {type(backward).__name__}")
    seed = check_positive_int(seed, "seed", minimum=0)
    x = torch.randn(n, generator=torch.Generator().manual_seed(seed))
    x_grad = x.clone().requires_grad_(True)
    ones = torch.ones_like(x)
    calls: dict[str, Callable[[], None]] = {}
    for name in names:
        module = ACTIVATION_MODULES[name](1)

        def forward(module: nn.Module = module) -> None:
            with torch.no_grad():
                module(x)

        def forward_backward(module: nn.Module = module) -> None:
            torch.autograd.grad(module(x_grad), x_grad, ones)

        calls[name] = forward_backward if backward else forward
    # Warm up every activation before timing any: the first autograd pass of a
    # process allocates and initialises much more than the later ones, and would
    # otherwise be charged to whichever activation comes first.
    for fn in calls.values():
        for _ in range(3):
            fn()
    return {name: time_call(fn, repeats=repeats, number=number)
            for name, fn in calls.items()}


def training_step_costs(
    activations: Sequence[str],
    data: Dataset,
    *,
    hidden: Sequence[int] = (64, 64),
    batch_size: int = 64,
    repeats: int = 9,
    number: int = 3,
    warmup: int = 3,
    seed: int = 0,
) -> dict[str, Timing]:
    """Time one SGD step (forward, backward, update) of the whole MLP, per activation.

    The network is the one :func:`compare_activations` trains; the batch is the first
    ``batch_size`` examples of ``data``. Comparing these times with
    :func:`activation_costs` shows how much of a training step the activation is.

    The differences between activations are small here, so the measurement is built
    to resist a busy machine. After ``warmup`` untimed steps of every network, each of
    ``repeats`` rounds takes one sample per activation, interleaved, so that a slow
    moment hits every activation alike. A sample is the fastest of ``number`` steps,
    each timed on its own with :func:`relu_lab.timing.time_call`: a step interrupted
    by another program is slower, never faster, so the fastest one is the step's cost.

    Returns
    -------
    dict of str to Timing
        Seconds per step (median and quartiles of the samples over the rounds), in the
        order of ``activations``.

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> costs = training_step_costs(["relu", "tanh"], xor(), hidden=[8], repeats=3)
    >>> list(costs), all(t.median > 0 and t.repeats == 3 for t in costs.values())
    (['relu', 'tanh'], True)
    """
    names = _check_names(activations)
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a sequence of layer widths, got {type(hidden).__name__}")
    hidden = [check_positive_int(w, f"hidden[{i}]") for i, w in enumerate(hidden)]
    batch_size = check_positive_int(batch_size, "batch_size")
    repeats = check_positive_int(repeats, "repeats")
    number = check_positive_int(number, "number")
    warmup = check_positive_int(warmup, "warmup", minimum=0)
    seed = check_positive_int(seed, "seed", minimum=0)
    X, y = data.X[:batch_size], data.y[:batch_size]
    sizes = [data.n_features, *hidden, data.n_classes]

    def make_step(name: str) -> Callable[[], None]:
        net = mlp(sizes, activation=name, seed=seed)
        opt = SGD(net.parameters(), lr=1e-3)

        def step() -> None:
            opt.zero_grad()
            F.cross_entropy(net(X), y).backward()
            opt.step()

        return step

    steps = {name: make_step(name) for name in names}
    for step in steps.values():
        for _ in range(warmup):
            step()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):
        for name, step in steps.items():
            fastest = min(time_call(step, repeats=1, warmup=0).median for _ in range(number))
            samples[name].append(fastest)
    costs: dict[str, Timing] = {}
    for name, values in samples.items():
        q1, med, q3 = np.percentile(values, [25, 50, 75])
        costs[name] = Timing(float(med), float(q1), float(q3), repeats)
    return costs
