"""A small, deterministic training loop that records what the chapters plot.

Introduced in chapter 2 (XOR); chapters 4 to 10 train on the digits data set with it.
Given the same model, data and seed it gives the same numbers, run after run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from relu_lab._validation import check_positive_int, check_real
from relu_lab.data import Dataset
from relu_lab.sparsity import ACTIVATION_LAYERS, dead_fraction

__all__ = ["History", "train", "accuracy", "SGD", "Adam", "make_optimizer"]


class SGD:
    """Stochastic gradient descent with momentum, step for step ``torch.optim.SGD``.

    The update of every parameter ``p`` with gradient ``g`` is::

        buf = g                      (first step)
        buf = momentum * buf + g     (later steps)
        p   = p - lr * buf

    (with ``momentum=0`` simply ``p = p - lr * g``). It performs the same tensor
    operations in the same order as PyTorch's single-tensor SGD, so results are bit for
    bit those of ``torch.optim.SGD(params, lr, momentum)``; the tests check this. It is
    written out here because it is four lines, and because creating any ``torch.optim``
    optimiser imports the ``torch.compile`` machinery, a second or more per chapter.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.momentum = float(lr), float(momentum)
        self._buffers: list[torch.Tensor | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        """Forget the gradients of the last step (set them to None, as PyTorch does)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Move every parameter that has a gradient one step against it."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.momentum != 0:
                buf = self._buffers[i]
                if buf is None:
                    buf = self._buffers[i] = torch.clone(g).detach()
                else:
                    buf.mul_(self.momentum).add_(g)
                g = buf
            p.add_(g, alpha=-self.lr)


class Adam:
    """Adam (Kingma & Ba, 2015), step for step ``torch.optim.Adam`` with its defaults.

    Keeps running averages of the gradient ``m`` and of its square ``v`` (betas 0.9 and
    0.999), corrects their bias towards zero, and moves each parameter by
    ``lr * m_hat / (sqrt(v_hat) + 1e-8)``. Same operations, same order and same results
    as PyTorch's single-tensor Adam; the tests check this.
    """

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = float(lr), betas, float(eps)
        self._state: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        """Forget the gradients of the last step (set them to None, as PyTorch does)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Move every parameter that has a gradient one Adam step."""
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self._state[i] is None:
                self._state[i] = (torch.tensor(0.0), torch.zeros_like(p), torch.zeros_like(p))
            step_t, m, v = self._state[i]
            step_t += 1
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            step = step_t.item()
            step_size = self.lr / (1 - beta1 ** step)
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-step_size)


def make_optimizer(name: str, params, lr: float, momentum: float = 0.0) -> SGD | Adam:
    """The optimiser ``train`` uses: ``"sgd"`` (with ``momentum``) or ``"adam"``.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> make_optimizer("sgd", mlp([2, 2]).parameters(), lr=0.1).lr
    0.1
    """
    if name == "sgd":
        return SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return Adam(params, lr=lr)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {name!r}")


@dataclass
class History:
    """Per-epoch records of a training run; index 0 is the untrained model.

    Attributes
    ----------
    loss, accuracy : list of float
        Mean cross-entropy and accuracy on the whole training set after each epoch.
    dead_fraction : list of float
        Fraction of activation units that are zero on every training example
        (empty when the model has no activation layer or tracking was off).
    test_accuracy : list of float
        Accuracy on ``test_data`` if it was given.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    dead_fraction: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of training epochs recorded (not counting the initial state)."""
        return len(self.loss) - 1

    def epochs_to_reach(self, accuracy: float) -> int | None:
        """First epoch whose training accuracy is at least ``accuracy``, or None."""
        return next((i for i, a in enumerate(self.accuracy) if a >= accuracy), None)


def accuracy(model: nn.Module, data: Dataset) -> float:
    """Fraction of ``data`` that ``model`` classifies correctly (argmax of its output).

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> from relu_lab.models import mlp
    >>> 0.0 <= accuracy(mlp([2, 2]), xor()) <= 1.0
    True
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    device = next(model.parameters()).device
    with torch.no_grad():
        pred = model(data.X.to(device)).argmax(dim=1)
    return float((pred == data.y.to(device)).float().mean())


def _device(device: str | torch.device) -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda', got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device {device!r} is not a valid torch device ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but this machine has no CUDA GPU; use 'cpu'")
    return dev


def _check_recipe(data: object, test_data: object, epochs: object, batch_size: object, lr: object,
                  momentum: object) -> tuple[int, int, float, float]:
    """Validate what :func:`train` and :func:`relu_lab.ensemble.train_seeds` share: the data
    and the training recipe. Returns ``(epochs, batch_size, lr, momentum)`` as numbers."""
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    if test_data is not None and not isinstance(test_data, Dataset):
        raise TypeError(f"test_data must be a relu_lab.data.Dataset or None, got {type(test_data).__name__}")
    epochs = check_positive_int(epochs, "epochs", minimum=0)
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_real(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    momentum = check_real(momentum, "momentum")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    return epochs, batch_size, lr, momentum


def train(
    model: nn.Module,
    data: Dataset,
    *,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
    test_data: Dataset | None = None,
    track_dead: bool = True,
    on_epoch: Callable[[nn.Module], object] | None = None,
) -> History:
    """Train ``model`` on ``data`` with minibatch SGD or Adam and cross-entropy loss.

    The model is trained in place. Minibatches are drawn from a generator seeded with
    ``seed``, so a run is repeatable; the global random state is not touched.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier whose output has one column per class.
    data : Dataset
        Training data.
    epochs : int, default 10
        Passes over the training data.
    lr : float, default 0.1
        Learning rate, positive and finite.
    batch_size : int, default 64
        Examples per step (the last batch of an epoch may be smaller).
    optimizer : {"sgd", "adam"}, default "sgd"
        :class:`SGD` (with ``momentum``) or :class:`Adam`, which compute exactly what
        ``torch.optim.SGD`` and ``torch.optim.Adam`` compute.
    momentum : float, default 0.0
        SGD momentum in [0, 1).
    seed : int, default 0
        Seed of the minibatch order.
    device : str or torch.device, default "cpu"
        Where to train; ``"cuda"`` needs a GPU.
    test_data : Dataset, optional
        Also record test accuracy after each epoch.
    track_dead : bool, default True
        Record the dead-unit fraction after each epoch (needs an activation layer).
    on_epoch : callable, optional
        Called with the model, in evaluation mode, whenever an epoch is recorded: once
        before training and after every epoch. It should not change the model; what it
        returns is ignored (:func:`relu_lab.dying.train_recording` collects it).

    Returns
    -------
    History

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> from relu_lab.models import mlp
    >>> h = train(mlp([2, 8, 2]), xor(), epochs=30, lr=0.5)
    >>> h.epochs, h.accuracy[-1]
    (30, 1.0)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs, batch_size, lr, momentum = _check_recipe(data, test_data, epochs, batch_size, lr, momentum)
    seed = check_positive_int(seed, "seed", minimum=0)
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be a callable taking the model, got {type(on_epoch).__name__}")
    dev = _device(device)
    opt = make_optimizer(optimizer, model.parameters(), lr=lr, momentum=momentum)
    track_dead = bool(track_dead) and any(isinstance(m, ACTIVATION_LAYERS) for m in model.modules())

    model.to(dev)
    X, y = data.X.to(dev), data.y.to(dev)
    generator = torch.Generator().manual_seed(seed)
    history = History()

    def record() -> None:
        model.eval()
        with torch.no_grad():
            out = model(X)
            history.loss.append(float(F.cross_entropy(out, y)))
            history.accuracy.append(float((out.argmax(dim=1) == y).float().mean()))
        if track_dead:
            history.dead_fraction.append(dead_fraction(model, X))
        if test_data is not None:
            history.test_accuracy.append(accuracy(model, test_data))
        if on_epoch is not None:
            on_epoch(model)
        model.train()

    record()
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=generator).to(dev)
        for start in range(0, len(data), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
        record()
    return history
