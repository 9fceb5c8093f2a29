"""Many seeds at once: one network trained from several seeds in a single run.

A conclusion about training rests on several seeds (the book's house style asks for the
median and the range). Training ``K`` seeds one after the other costs ``K`` times one
run, yet training the book's small networks one seed at a time leaves the CPU mostly
busy with Python and PyTorch's per-call overhead rather than arithmetic.
:func:`train_seeds` stacks the ``K`` networks' weights into one tensor per layer and
trains them together with batched matrix products (``torch.baddbmm``): the same number
of calls as one run, each on ``K`` times the numbers. The chapters that train networks
report their results over seeds with it, and
:func:`relu_lab.compare.compare_activations` trains each activation's seeds this way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from relu_lab._validation import check_positive_int, check_real
from relu_lab.data import Dataset
from relu_lab.models import Activation, Residual, mlp
from relu_lab.sparsity import ACTIVATION_LAYERS
from relu_lab.training import History, _check_recipe, _device, make_optimizer

__all__ = ["SeedRuns", "train_seeds", "train_models"]

#: Quantities that :meth:`SeedRuns.curves` and :meth:`SeedRuns.final` can return.
METRICS = ("loss", "accuracy", "dead_fraction", "test_accuracy")


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a sequence of integers, got {type(seeds).__name__}")
    if len(seeds) == 0:
        raise ValueError("seeds must hold at least one seed")
    return tuple(check_positive_int(s, f"seeds[{i}]", minimum=0) for i, s in enumerate(seeds))


@dataclass(frozen=True)
class SeedRuns:
    """The same network trained from several seeds: one history and one model per seed.

    Attributes
    ----------
    seeds : tuple of int
        The seeds; seed ``s`` fixes both the initial weights and the minibatch order.
    histories : tuple of History
        One :class:`~relu_lab.training.History` per seed, in the order of ``seeds``.
    models : tuple of torch.nn.Sequential
        The trained networks, one per seed, each built by :func:`relu_lab.models.mlp`
        and holding that seed's trained weights, in evaluation mode.
    """

    seeds: tuple[int, ...]
    histories: tuple[History, ...]
    models: tuple[nn.Sequential, ...]

    def curves(self, metric: str) -> np.ndarray:
        """``metric`` after each epoch, shape ``(len(seeds), epochs + 1)``; column 0 is the start.

        ``metric`` is one of ``"loss"``, ``"accuracy"`` (both on the training data),
        ``"dead_fraction"`` and ``"test_accuracy"``.
        """
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        if not getattr(self.histories[0], metric):
            why = {"test_accuracy": "a run with test_data",
                   "dead_fraction": "a run with track_dead=True of a network with activation layers"}
            raise ValueError(f"metric {metric!r} was not recorded: it needs {why[metric]}")
        return np.array([getattr(h, metric) for h in self.histories], dtype=np.float64)

    def final(self, metric: str) -> np.ndarray:
        """``metric`` after the last epoch, one value per seed (see :meth:`curves`)."""
        return self.curves(metric)[:, -1]

    def epochs_to_reach(self, threshold: float, metric: str = "accuracy") -> np.ndarray:
        """Per seed, the first epoch whose ``metric`` is at least ``threshold``.

        ``metric`` is ``"accuracy"`` (training data, as
        :meth:`relu_lab.training.History.epochs_to_reach`) or ``"test_accuracy"``.
        A seed that never reaches it gets NaN, so ``np.median`` of the result says so.
        """
        threshold = check_real(threshold, "threshold")
        if metric not in ("accuracy", "test_accuracy"):
            raise ValueError(f"metric must be 'accuracy' or 'test_accuracy', got {metric!r}")
        reached = self.curves(metric) >= threshold
        return np.where(reached.any(axis=1), reached.argmax(axis=1), np.nan)


class _Stacked:
    """``K`` copies of one MLP as stacked tensors, in the shapes the forward pass needs.

    Leaf ``j`` stacks parameter ``j`` of every model (in ``model.parameters()`` order):
    linear weights transposed, ``(K, in, out)``, so that a layer is one
    ``torch.baddbmm``; biases ``(K, 1, out)``; PReLU slopes ``(K, 1, 1)`` or
    ``(K, 1, width)``. All leaves are views of one flat tensor, ``flat``, and their
    gradients views of one flat ``flat.grad``: the optimiser then updates every
    parameter of every seed in a handful of elementwise operations, however deep the
    network (its arithmetic is elementwise, so this changes no result).
    """

    def __init__(self, models: Sequence[nn.Sequential]) -> None:
        self.models = models
        template = list(models[0].parameters())
        per_model = [list(m.parameters()) for m in models]
        transposed = {id(m.weight) for m in models[0].modules() if isinstance(m, nn.Linear)}
        shapes = []
        for p in template:
            if id(p) in transposed:
                shapes.append((len(models), p.shape[1], p.shape[0]))
            else:
                shapes.append((len(models), 1, p.numel()))
        sizes = [int(np.prod(shape)) for shape in shapes]
        data = torch.empty(sum(sizes), dtype=template[0].dtype, device=template[0].device)
        grad = torch.zeros_like(data)
        self.params: list[torch.Tensor] = []
        self._transposed: list[bool] = []
        offset = 0
        for j, (p, shape, size) in enumerate(zip(template, shapes, sizes)):
            leaf = data[offset:offset + size].view(shape)
            is_weight = id(p) in transposed
            with torch.no_grad():
                leaf.copy_(torch.stack([ps[j].t() if is_weight else ps[j].reshape(shape[1:]) for ps in per_model]))
            leaf.requires_grad_(True)
            leaf.grad = grad[offset:offset + size].view(shape)  # backward adds into it, in place
            self.params.append(leaf)
            self._transposed.append(is_weight)
            offset += size
        #: every parameter of every seed, one flat tensor (storage shared with the leaves)
        self.flat = data.detach().requires_grad_(True)
        self.flat.grad = grad
        #: batch normalisation's running statistics, per seed: (index, mean, var, count)
        self.buffers: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        leaves = iter(self.params)
        self.plan = self._plan(models[0], leaves)

    def _plan(self, sequence: nn.Module, leaves) -> list[tuple[str, object]]:
        """The forward pass as a list of steps, with the stacked parameters of each."""
        plan: list[tuple[str, object]] = []
        for module in sequence.children():
            if isinstance(module, nn.Linear):
                w = next(leaves)
                plan.append(("linear", (w, next(leaves) if module.bias is not None else None)))
            elif isinstance(module, nn.PReLU):
                plan.append(("prelu", next(leaves)))
            elif type(module) is nn.ReLU:
                plan.append(("relu", module))
            elif isinstance(module, nn.LayerNorm):
                plan.append(("layernorm", (module, next(leaves), next(leaves))))
            elif isinstance(module, nn.BatchNorm1d):
                index = len(self.buffers)
                mods = [[m for m in model.modules() if isinstance(m, nn.BatchNorm1d)][index] for model in self.models]
                stats = (torch.stack([m.running_mean for m in mods]).unsqueeze(1),
                         torch.stack([m.running_var for m in mods]).unsqueeze(1))
                self.buffers.append((index, *stats, torch.zeros((), dtype=torch.long)))
                plan.append(("batchnorm", (module, next(leaves), next(leaves), stats[0], stats[1], index)))
            elif isinstance(module, Residual):
                plan.append(("residual", self._plan(module.branch, leaves)))
            else:
                plan.append(("module", module))
        return plan

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Outputs ``(K, B, classes)`` for inputs ``(K, B, features)``: seed ``k`` on batch ``k``."""
        return self._run(self.plan, h, in_place=True)

    def _run(self, plan: list[tuple[str, object]], h: torch.Tensor, in_place: bool) -> torch.Tensor:
        for kind, item in plan:
            if kind == "linear":
                w, b = item
                h = torch.bmm(h, w) if b is None else torch.baddbmm(b, h, w)
            elif kind == "relu":  # in place, except on a residual block's input, which the skip needs
                h = torch.relu_(h) if in_place else torch.relu(h)
            elif kind == "prelu":  # as PyTorch's PReLU, including the gradient at 0 (slope side)
                h = torch.where(h > 0, h, item * h)
            elif kind == "layernorm":  # per example: as nn.LayerNorm, with each seed's scale and shift
                module, w, b = item
                h = torch.addcmul(b, F.layer_norm(h, module.normalized_shape, eps=module.eps), w)
            elif kind == "batchnorm":  # per seed, over its own minibatch (training mode)
                module, w, b, running_mean, running_var, index = item
                var, mean = torch.var_mean(h, dim=1, keepdim=True, correction=0)
                with torch.no_grad():  # running statistics, as nn.BatchNorm1d keeps them
                    n = h.shape[1]
                    running_mean.lerp_(mean, module.momentum)
                    running_var.mul_(1 - module.momentum).add_(var * (n / max(n - 1, 1)), alpha=module.momentum)
                    self.buffers[index][3].add_(1)
                h = torch.addcmul(b, (h - mean) * torch.rsqrt(var + module.eps), w)
            elif kind == "residual":
                h = h + self._run(item, h, in_place=False)
            else:
                h = item(h)
            in_place = True
        return h

    @torch.no_grad()
    def copy_to_models(self) -> None:
        for k, model in enumerate(self.models):
            for p, leaf, is_weight in zip(model.parameters(), self.params, self._transposed):
                p.copy_(leaf[k].t() if is_weight else leaf[k].reshape(p.shape))
            norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
            for index, running_mean, running_var, count in self.buffers:
                norms[index].running_mean.copy_(running_mean[k, 0])
                norms[index].running_var.copy_(running_var[k, 0])
                norms[index].num_batches_tracked.copy_(count)


def _check_stackable(module: nn.Module, width: int) -> None:
    """A callable activation must act on each row of a batch on its own and learn nothing."""
    n_params = sum(p.numel() for p in module.parameters())
    if n_params:
        raise ValueError(
            f"activation: train_seeds learns only the slopes of 'prelu' and 'prelu_channelwise'; "
            f"a callable must return a module without parameters, got {type(module).__name__} "
            f"with {n_params}")
    x = torch.randn(3, 5, width, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        together = module(x)
        apart = torch.stack([module(x[i]) for i in range(len(x))])
    if together.shape != x.shape or not torch.allclose(together, apart, rtol=1e-5, atol=1e-6, equal_nan=True):
        raise ValueError(
            f"activation: {type(module).__name__} does not act on each example on its own "
            f"(its output on a stack of batches differs from its output on each batch)")


def train_seeds(
    sizes: Sequence[int],
    activation: Activation = "relu",
    init: str | float = "he",
    *,
    data: Dataset,
    seeds: Sequence[int] = range(5),
    bias: float | None = None,
    norm: str | None = None,
    residual: bool = False,
    branch_scale: float | None = None,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    device: str | torch.device = "cpu",
    test_data: Dataset | None = None,
    track_dead: bool = True,
    score_epochs: bool | str = True,
    on_epoch: Callable[[tuple[nn.Sequential, ...]], object] | None = None,
) -> SeedRuns:
    """Train ``mlp(sizes, activation, init, bias=bias, seed=s)`` for every seed ``s`` at once.

    Seed ``s`` gets exactly the initial weights of ``mlp(..., seed=s)`` and the
    minibatch order of :func:`relu_lab.training.train` with ``seed=s``, and the same
    optimiser (:class:`~relu_lab.training.SGD` or :class:`~relu_lab.training.Adam`).
    The loss is the sum over seeds of each seed's mean cross-entropy, so each seed's
    gradient is that of its own run. Its history is therefore that of
    ``train(mlp(..., seed=s), data, ..., seed=s)``, up to the order in which the
    batched matrix products add up their terms: a last-bit difference, which training
    can grow over many epochs (as it grows any last-bit difference, see the README).

    The seeds train in one vectorised run: every layer's weights are stacked into one
    tensor and multiplied with ``torch.baddbmm``, so a training step for ``K`` seeds
    makes as many PyTorch calls as one for a single seed. On chapter 4's network five
    seeds cost about twice one seed; on a network of 31 layers, where the matrix
    products themselves take most of the time, about 2.4 times
    (``make bench BENCH_ARGS="--only seeds"``).

    Parameters
    ----------
    sizes, activation, init, bias, norm, residual, branch_scale
        As for :func:`relu_lab.models.mlp` (chapter 11 adds ``norm``, ``residual`` and
        ``branch_scale``; batch normalisation then uses each seed's own minibatch
        statistics, and keeps each seed's running statistics, as in ``train``). A callable ``activation`` must return a
        module without parameters that acts on each number on its own (such as
        ``lambda: nn.LeakyReLU(0.2)``); the learned slopes of ``"prelu"`` (one per
        layer) and ``"prelu_channelwise"`` (one per unit) are trained per seed.
    data : Dataset
        Training data, with ``sizes[0]`` features and labels below ``sizes[-1]``. The
        networks compute in the dtype of ``data.X``: float32 as in the chapters, or
        float64, where the runs agree with ``train`` on ``mlp(...).double()`` to about
        1e-12 (the tests use this).
    seeds : sequence of int, default range(5)
        One network per seed, in this order.
    epochs, lr, batch_size, optimizer, momentum, device, test_data, track_dead
        As for :func:`relu_lab.training.train`; ``track_dead`` records, per seed, the
        fraction of hidden units that are zero on every training example (the
        definition of :func:`relu_lab.sparsity.dead_fraction`).
    score_epochs : True, False or "test", default True
        Score every seed's network on the whole training data (and ``test_data``) after
        every epoch, as ``train`` does. With False they are scored only before and after
        training, and the epochs in between hold NaN in the histories (and in
        :meth:`SeedRuns.curves`); :meth:`SeedRuns.final` is unchanged. With ``"test"``,
        ``test_data`` is scored after every epoch and the training data only before and
        after training (for test-accuracy curves). On the book's networks the scoring is
        a fifth to a third of a run: skip what is not used. The training is the same
        whatever is scored.
    on_epoch : callable, optional
        Called with the tuple of per-seed networks (``nn.Sequential`` built by ``mlp``,
        in evaluation mode, holding the current weights) once before training and after
        every epoch. They are the same objects each time, those of ``SeedRuns.models``;
        changing them does not change the training. What it returns is ignored.

    Returns
    -------
    SeedRuns

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> runs = train_seeds([2, 8, 2], data=xor(), seeds=[0, 1, 2], epochs=30, lr=0.5)
    >>> runs.seeds, len(runs.histories), runs.histories[0].epochs
    ((0, 1, 2), 3, 30)
    >>> runs.final("accuracy").tolist()          # one value per seed
    [1.0, 1.0, 1.0]
    >>> runs.epochs_to_reach(1.0).tolist()       # first epoch at 100%, per seed
    [2.0, 2.0, 1.0]
    >>> runs.curves("loss").shape                # seeds x (epochs + 1)
    (3, 31)
    >>> type(runs.models[0]).__name__, runs.models[0][0].weight.shape
    ('Sequential', torch.Size([8, 2]))
    """
    def build(seed: int) -> nn.Sequential:
        return mlp(sizes, activation, init, bias=bias, seed=seed, norm=norm, residual=residual,
                   branch_scale=branch_scale)

    seed_list = _check_seeds(seeds)
    template = build(seed_list[0])  # validates the network's arguments
    linears = [m for m in template.modules() if isinstance(m, nn.Linear)]
    widths = [m.in_features for m in linears] + [linears[-1].out_features]
    for name, d in (("data", data), ("test_data", test_data)):
        if isinstance(d, Dataset) and d.n_features != widths[0]:
            raise ValueError(f"{name} has {d.n_features} features but sizes[0] is {widths[0]}")
        if isinstance(d, Dataset) and int(d.y.max()) >= widths[-1]:
            raise ValueError(f"{name} has label {int(d.y.max())} but sizes[-1] is {widths[-1]} (classes 0 to "
                             f"{widths[-1] - 1})")
    activations = _activation_modules(template)
    if not isinstance(activation, str) and activations:
        _check_stackable(activations[0], widths[1])
    return train_models(build, data=data, seeds=seed_list, epochs=epochs, lr=lr, batch_size=batch_size,
                        optimizer=optimizer, momentum=momentum, device=device, test_data=test_data,
                        track_dead=track_dead, score_epochs=score_epochs, on_epoch=on_epoch)


def _activation_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` that are neither layers with weights nor containers."""
    skip = (nn.Linear, nn.LayerNorm, nn.BatchNorm1d, Residual, nn.Sequential)
    return [m for m in model.modules() if not isinstance(m, skip)]


def train_models(
    build: Callable[[int], nn.Sequential],
    *,
    data: Dataset,
    seeds: Sequence[int] = range(5),
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    device: str | torch.device = "cpu",
    test_data: Dataset | None = None,
    track_dead: bool = True,
    score_epochs: bool | str = True,
    on_epoch: Callable[[tuple[nn.Sequential, ...]], object] | None = None,
) -> SeedRuns:
    """Train ``build(s)`` for every seed ``s`` at once, as :func:`train_seeds` trains an mlp.

    ``build(seed)`` returns the seed's network, an ``nn.Sequential`` built from
    ``nn.Linear`` (with or without bias), ``nn.LayerNorm``, ``nn.BatchNorm1d``,
    ``nn.PReLU``, :class:`relu_lab.models.Residual` blocks (whose branch is such a
    sequence) and modules without parameters that act on each example on its own,
    along its last dimension (activations, :class:`relu_lab.transformer.GatedUnit`). Every
    seed's network must have the same structure. :func:`relu_lab.models.mlp` and
    :func:`relu_lab.transformer.feed_forward` build such networks.

    Seed ``s`` trains as ``train(build(s), data, seed=s, ...)`` would, up to the
    order of the sums in the batched matrix products (see :func:`train_seeds`).

    Parameters
    ----------
    build : callable
        ``build(seed)`` returns a fresh network for that seed.
    data, seeds, epochs, lr, batch_size, optimizer, momentum, device, test_data, track_dead, score_epochs, on_epoch
        As for :func:`train_seeds`.

    Returns
    -------
    SeedRuns

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> from relu_lab.transformer import feed_forward
    >>> runs = train_models(lambda s: feed_forward(2, 2, "swiglu", hidden=8, seed=s),
    ...                     data=xor(), seeds=[0, 1], epochs=3)
    >>> runs.seeds, runs.curves("loss").shape
    ((0, 1), (2, 4))
    >>> runs.models[1].ffn.branch.act
    GatedUnit(gate='silu')
    """
    if not callable(build):
        raise TypeError(f"build must be a callable taking a seed and returning a network, got {type(build).__name__}")
    seed_list = _check_seeds(seeds)
    epochs, batch_size, lr, momentum = _check_recipe(data, test_data, epochs, batch_size, lr, momentum)
    if not data.X.is_floating_point():
        raise TypeError(f"data.X must hold floating-point numbers, got dtype {data.X.dtype}")
    if test_data is not None and test_data.X.dtype != data.X.dtype:
        raise TypeError(f"test_data.X must have the dtype of data.X ({data.X.dtype}), got {test_data.X.dtype}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if not isinstance(score_epochs, bool) and score_epochs != "test":
        raise ValueError(f"score_epochs must be True, False or 'test', got {score_epochs!r}")
    if score_epochs == "test" and test_data is None:
        raise ValueError("score_epochs='test' scores test_data after every epoch: pass test_data")
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be a callable taking the tuple of models, got {type(on_epoch).__name__}")
    dev = _device(device)
    models = tuple(build(s) for s in seed_list)
    for s, m in zip(seed_list, models):
        if not isinstance(m, nn.Sequential):
            raise TypeError(f"build({s}) must return a torch.nn.Sequential, got {type(m).__name__}")
        if [type(x) for x in m.modules()] != [type(x) for x in models[0].modules()]:
            raise ValueError(f"build({s}) returned a network of another structure than build({seed_list[0]})")
    act_layers = [m for m in models[0].modules() if isinstance(m, ACTIVATION_LAYERS)]
    track_dead = bool(track_dead) and bool(act_layers)

    for m in models:
        m.to(device=dev, dtype=data.X.dtype).eval()
    net = _Stacked(models)
    opt = make_optimizer(optimizer, [net.flat], lr=lr, momentum=momentum)
    X, y = data.X.to(dev), data.y.to(dev)
    X_test = None if test_data is None else test_data.X.to(dev)
    y_test = None if test_data is None else test_data.y.to(dev)
    n, K = len(data), len(seed_list)
    generators = [torch.Generator().manual_seed(s) for s in seed_list]
    histories = tuple(History() for _ in seed_list)

    def record(on_train: bool = True, on_test: bool = True) -> None:
        # Each seed's network, materialised, on the whole data: the numbers train records,
        # computed the way train computes them, one seed at a time (one seed's
        # activations stay in cache; a Python loop once per epoch costs nothing). What
        # is not scored this epoch (score_epochs) gets NaN.
        on_test = on_test and test_data is not None
        if on_train or on_test or on_epoch is not None:
            net.copy_to_models()
        nan = float("nan")
        with torch.no_grad():
            largest: list[torch.Tensor] = []  # per seed and layer, each unit's largest |output|
            for model, history in zip(models, histories):
                if on_train:
                    hooks = [m.register_forward_hook(lambda _m, _i, out: largest.append(out.abs().amax(dim=0)))
                             for m in model.modules() if track_dead and isinstance(m, ACTIVATION_LAYERS)]
                    try:
                        out = model(X)
                    finally:
                        for hook in hooks:
                            hook.remove()
                    history.loss.append(float(F.cross_entropy(out, y)))
                    history.accuracy.append(float((out.argmax(dim=1) == y).float().mean()))
                else:
                    history.loss.append(nan)
                    history.accuracy.append(nan)
                if test_data is not None:
                    history.test_accuracy.append(
                        float((model(X_test).argmax(dim=1) == y_test).float().mean()) if on_test else nan)
            if track_dead:  # dead: 0 on every example (as sparsity.dead_fraction), all seeds at once
                fractions = [nan] * K
                if on_train:
                    units = torch.cat(largest).view(K, -1)
                    fractions = [count / units.shape[1] for count in (units == 0).sum(dim=1).tolist()]
                for history, fraction in zip(histories, fractions):
                    history.dead_fraction.append(fraction)
        if on_epoch is not None:
            on_epoch(models)

    record()
    for epoch in range(1, epochs + 1):
        order = torch.cat([torch.randperm(n, generator=g) for g in generators]).to(dev)
        # each seed's training data in its own order for this epoch, gathered at once:
        # seed k's minibatch is then the view X_epoch[k, start:start + batch_size]
        X_epoch, y_epoch = X.index_select(0, order).view(K, n, -1), y.index_select(0, order).view(K, n)
        for start in range(0, n, batch_size):
            out = net.forward(X_epoch[:, start:start + batch_size])
            y_batch = y_epoch[:, start:start + batch_size]
            net.flat.grad.zero_()  # (not opt.zero_grad(): the leaves' gradients are views of it)
            # sum over seeds of each seed's mean: seed k's gradient is that of its own run
            loss = F.cross_entropy(out.flatten(0, 1), y_batch.flatten(), reduction="sum") / y_batch.shape[1]
            loss.backward()
            opt.step()
        last = epoch == epochs
        record(on_train=score_epochs is True or last, on_test=score_epochs is not False or last)
    net.copy_to_models()
    return SeedRuns(seed_list, histories, models)
