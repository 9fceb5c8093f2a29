"""The transformer's feed-forward block, with an elementwise activation or a gated unit.

Introduced in chapter 11, *ReLU in modern networks*: :func:`feed_forward` builds the
block that holds a transformer's activation (ReLU in Vaswani et al., 2017; GELU in BERT
and GPT-2; SwiGLU in PaLM and LLaMA), on a residual stream and with a linear read-out,
and :class:`GatedUnit` is the gate of GLU, GeGLU and SwiGLU (Dauphin et al., 2017;
Shazeer, 2020). :func:`relu_lab.ensemble.train_models` trains such blocks over seeds,
and :func:`sign_products` is a seeded task on which they can be compared: one that a
linear model cannot solve, so the block's activation has to do the work.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from relu_lab._validation import check_positive_int
from relu_lab.data import Dataset
from relu_lab.models import ACTIVATION_MODULES, Residual

__all__ = ["feed_forward", "GatedUnit", "GATED_UNITS", "sign_products"]


class GatedUnit(nn.Module):
    """A gated linear unit: split the last dimension into halves ``a, b``; ``a * gate(b)``.

    ``gate`` is ``"sigmoid"`` (GLU, Dauphin et al., 2017, as ``torch.nn.GLU``),
    ``"gelu"`` (GeGLU) or ``"silu"`` (SwiGLU, Shazeer, 2020), as in
    :mod:`relu_lab.modern`. The output has half as many features as the input.

    Examples
    --------
    >>> GatedUnit("silu")(torch.tensor([[3.0, 0.0]]))  # silu(0) = 0 closes the gate
    tensor([[0.]])
    """

    _GATES = {"sigmoid": torch.sigmoid, "gelu": nn.functional.gelu, "silu": nn.functional.silu}

    def __init__(self, gate: str = "sigmoid") -> None:
        super().__init__()
        if gate not in self._GATES:
            raise ValueError(f"gate must be one of {sorted(self._GATES)}, got {gate!r}")
        self.gate = gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 2:
            raise ValueError(f"the last dimension must be even (value and gate halves), got {x.shape[-1]}")
        a, b = x.chunk(2, dim=-1)
        return a * self._GATES[self.gate](b)

    def extra_repr(self) -> str:
        return f"gate={self.gate!r}"


#: Gated units accepted by :func:`feed_forward`, each mapped to its gate.
GATED_UNITS: dict[str, str] = {"glu": "sigmoid", "geglu": "gelu", "swiglu": "silu"}


def feed_forward(
    d_model: int,
    n_classes: int,
    activation: str = "relu",
    *,
    hidden: int | None = None,
    seed: int = 0,
) -> nn.Sequential:
    """A transformer's feed-forward block on a residual stream, and a linear read-out.

    ``h + down(act(up(norm(h))))``, then ``Linear(d_model, n_classes)``: the
    position-wise feed-forward block of a transformer (Vaswani et al., 2017), with
    layer normalisation first as in GPT-2 (Radford et al., 2019), and without biases in
    ``up`` and ``down``, as in Shazeer (2020). With a gated unit (``"glu"``, ``"geglu"``,
    ``"swiglu"``) the ``up`` layer has ``2 * hidden`` outputs, the value and gate
    halves of :class:`GatedUnit`, so the block has ``3 * d_model * hidden`` weights
    against ``2 * d_model * hidden`` for an elementwise activation: equal counts need
    a gated ``hidden`` of two thirds of the other (Shazeer, 2020).

    Parameters
    ----------
    d_model : int
        Width of the residual stream, equal to the number of input features.
    n_classes : int
        Outputs of the read-out layer.
    activation : str, default "relu"
        A name from :data:`relu_lab.models.ACTIVATION_MODULES` or :data:`GATED_UNITS`.
    hidden : int, optional
        Hidden width; by default ``4 * d_model``, or ``8 * d_model // 3`` when gated.
    seed : int, default 0
        Seed for the weights (PyTorch's default initialisation of each layer).

    Returns
    -------
    torch.nn.Sequential
        ``ffn`` (a :class:`relu_lab.models.Residual` whose branch holds ``norm, up, act, down``) and
        ``head``.

    Examples
    --------
    >>> relu_block = feed_forward(48, 10, "relu", hidden=192)
    >>> glu_block = feed_forward(48, 10, "swiglu", hidden=128)
    >>> count = lambda net: sum(p.numel() for p in net.ffn.parameters())
    >>> count(relu_block) == count(glu_block)  # 2 * 48 * 192 == 3 * 48 * 128, plus norm
    True
    >>> glu_block(torch.zeros(5, 48)).shape
    torch.Size([5, 10])
    """
    d_model = check_positive_int(d_model, "d_model")
    n_classes = check_positive_int(n_classes, "n_classes")
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a name, got {type(activation).__name__}")
    gated = activation in GATED_UNITS
    if not gated and activation not in ACTIVATION_MODULES:
        raise ValueError(f"activation must be one of {sorted(ACTIVATION_MODULES) + sorted(GATED_UNITS)}, "
                         f"got {activation!r}")
    hidden = (8 * d_model // 3 if gated else 4 * d_model) if hidden is None else check_positive_int(hidden, "hidden")
    seed = check_positive_int(seed, "seed", minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        act = GatedUnit(GATED_UNITS[activation]) if gated else ACTIVATION_MODULES[activation](hidden)
        branch = nn.Sequential(OrderedDict([
            ("norm", nn.LayerNorm(d_model)),
            ("up", nn.Linear(d_model, 2 * hidden if gated else hidden, bias=False)),
            ("act", act),
            ("down", nn.Linear(hidden, d_model, bias=False)),
        ]))
        head = nn.Linear(d_model, n_classes)
    return nn.Sequential(OrderedDict([("ffn", Residual(branch)), ("head", head)]))


def sign_products(n: int = 3000, d_model: int = 8, *, seed: int = 0) -> Dataset:
    """A seeded 4-class task that no linear model can solve: two XORs of signs.

    Inputs are standard normal in ``d_model`` dimensions. Four orthonormal directions
    ``u1..u4`` are drawn at random (so no single input feature carries the answer), and
    the class is ``2 [(x.u1)(x.u2) > 0] + [(x.u3)(x.u4) > 0]``. Each bit is the XOR of
    two signs: a linear read-out does no better than chance (a quarter) on it, so a
    network must build the products with its nonlinearity.

    Parameters
    ----------
    n : int, default 3000
        Examples.
    d_model : int, default 8
        Features, at least 4.
    seed : int, default 0
        Seed of the directions and the inputs.

    Returns
    -------
    relu_lab.data.Dataset
        ``X`` float32 of shape ``(n, d_model)``, labels 0 to 3.

    Examples
    --------
    >>> d = sign_products(1000, 8)
    >>> d.X.shape, d.n_classes
    (torch.Size([1000, 8]), 4)
    >>> [round(float((d.y == k).float().mean()), 2) for k in range(4)]  # balanced
    [0.24, 0.25, 0.25, 0.26]
    """
    n = check_positive_int(n, "n")
    d_model = check_positive_int(d_model, "d_model", minimum=4)
    seed = check_positive_int(seed, "seed", minimum=0)
    g = np.random.default_rng(seed)
    directions, _ = np.linalg.qr(g.standard_normal((d_model, d_model)))
    X = g.standard_normal((n, d_model))
    p = X @ directions[:, :4]
    y = 2 * (p[:, 0] * p[:, 1] > 0) + (p[:, 2] * p[:, 3] > 0)
    return Dataset(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64),
                   "sign products")
