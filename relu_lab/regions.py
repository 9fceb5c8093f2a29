"""Linear regions: where a ReLU network is one straight (affine) function.

Introduced in chapter 2 (*Why a network needs a bend*). A network made of linear layers
and ReLUs is :term:`piecewise linear`: each hidden unit is either *on* (positive output)
or *off* (zero), and wherever every unit keeps its on/off state the network computes a
single affine map ``x @ W.T + b``. The list of on/off states for one input is its
*activation pattern*. This module evaluates a network on a grid over a 2-D input space,
labels each grid point by its activation pattern, counts the patterns (the
:term:`linear regions <linear region>` that the grid sees), and draws them.

Counting on a grid gives a lower bound on the number of regions inside the window: a
region thinner than the grid spacing can be missed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from torch import nn

from relu_lab._validation import check_positive_int, check_real
from relu_lab.data import Dataset
from relu_lab.plotting import COLORS
from relu_lab.sparsity import capture_activations

__all__ = [
    "PIECEWISE_LINEAR_LAYERS",
    "Grid",
    "grid_2d",
    "activation_patterns",
    "pattern_labels",
    "RegionMap",
    "linear_regions",
    "local_affine_map",
    "max_regions_one_layer",
    "class_map",
    "plot_regions",
    "plot_boundary",
    "plot_decision",
]

#: Activation modules whose output is positive exactly where their input is, so that
#: "output > 0" is the unit's on/off state.
PIECEWISE_LINEAR_LAYERS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.LeakyReLU, nn.PReLU)


@dataclass(frozen=True)
class Grid:
    """A regular grid over a rectangle of the plane.

    Attributes
    ----------
    xs, ys : numpy.ndarray
        The grid's coordinates along the horizontal and vertical axes.
    points : torch.Tensor
        All grid points as a float32 tensor of shape ``(len(ys) * len(xs), 2)``, row by
        row: point ``i * len(xs) + j`` is ``(xs[j], ys[i])``.
    """

    xs: np.ndarray
    ys: np.ndarray
    points: torch.Tensor

    @property
    def shape(self) -> tuple[int, int]:
        """``(len(ys), len(xs))``: the shape of an image over the grid."""
        return (len(self.ys), len(self.xs))

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)``, as ``matplotlib.pyplot.imshow`` wants it."""
        return (float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1]))

    def image(self, values: Any) -> np.ndarray:
        """Reshape one value per grid point into a ``(len(ys), len(xs))`` array.

        Examples
        --------
        >>> g = grid_2d((0, 1), (0, 1), resolution=3)
        >>> g.image(g.points[:, 0]).tolist()[0]
        [0.0, 0.5, 1.0]
        """
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        arr = np.asarray(values)
        if arr.shape[:1] != (len(self.points),):
            raise ValueError(f"values must hold one entry per grid point ({len(self.points)}), got shape {arr.shape}")
        return arr.reshape(self.shape + arr.shape[1:])


def _check_limits(lim: Any, name: str) -> tuple[float, float]:
    if isinstance(lim, (str, bytes)) or not isinstance(lim, Sequence) or len(lim) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {lim!r}")
    low, high = check_real(lim[0], f"{name}[0]"), check_real(lim[1], f"{name}[1]")
    if not low < high:
        raise ValueError(f"{name} must have low < high, got {lim!r}")
    return low, high


def grid_2d(
    xlim: Sequence[float] = (-3.0, 3.0),
    ylim: Sequence[float] = (-3.0, 3.0),
    resolution: int = 300,
) -> Grid:
    """A ``resolution x resolution`` grid over the rectangle ``xlim x ylim``.

    Parameters
    ----------
    xlim, ylim : pair of float
        The rectangle's horizontal and vertical ranges (both ends included).
    resolution : int, default 300
        Points along each axis, at least 2.

    Returns
    -------
    Grid

    Examples
    --------
    >>> g = grid_2d((-1, 1), (0, 2), resolution=3)
    >>> g.xs.tolist(), g.ys.tolist(), tuple(g.points.shape)
    ([-1.0, 0.0, 1.0], [0.0, 1.0, 2.0], (9, 2))
    >>> g.points[:4].tolist()
    [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [-1.0, 1.0]]
    """
    x0, x1 = _check_limits(xlim, "xlim")
    y0, y1 = _check_limits(ylim, "ylim")
    resolution = check_positive_int(resolution, "resolution", minimum=2)
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    xx, yy = np.meshgrid(xs, ys)
    points = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=torch.float32)
    return Grid(xs, ys, points)


def _check_model(model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _as_points(inputs: Any, model: nn.Module) -> torch.Tensor:
    if isinstance(inputs, Grid):
        inputs = inputs.points
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor or a Grid, got {type(inputs).__name__}")
    if inputs.ndim != 2 or inputs.shape[0] == 0:
        raise ValueError(f"inputs must be 2-D (examples x features) and non-empty, got shape {tuple(inputs.shape)}")
    param = next(model.parameters(), None)
    if param is not None:
        inputs = inputs.to(device=param.device, dtype=param.dtype)
    return inputs


def activation_patterns(
    model: nn.Module,
    inputs: torch.Tensor | Grid,
    layers: Sequence[str] | None = None,
) -> np.ndarray:
    """Which hidden units are *on* (output > 0) for each input.

    Parameters
    ----------
    model : torch.nn.Module
        A network with ReLU (or Leaky ReLU, PReLU) layers, such as one built by
        :func:`relu_lab.models.mlp`.
    inputs : torch.Tensor or Grid
        A batch of inputs, one per row.
    layers : sequence of str, optional
        Names of the activation layers to include (e.g. ``["relu1"]`` for the first
        hidden layer only); default all of them, in the order they run.

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(len(inputs), units)``, the units of all included
        layers side by side.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> net = mlp([2, 3, 2, 1])
    >>> activation_patterns(net, torch.zeros(4, 2)).shape
    (4, 5)
    >>> activation_patterns(net, torch.zeros(1, 2), layers=["relu2"]).tolist()  # zero biases
    [[False, False]]
    """
    _check_model(model)
    points = _as_points(inputs, model)
    acts = capture_activations(model, points, layer_types=PIECEWISE_LINEAR_LAYERS)
    if layers is not None:
        if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or len(layers) == 0:
            raise TypeError(f"layers must be a non-empty sequence of layer names, got {layers!r}")
        unknown = [name for name in layers if name not in acts]
        if unknown:
            raise ValueError(f"layers {unknown} are not activation layers of model; it has {list(acts)}")
        acts = {name: acts[name] for name in layers}
    return np.concatenate([a.reshape(len(points), -1).cpu().numpy() > 0 for a in acts.values()], axis=1)


def pattern_labels(patterns: np.ndarray) -> tuple[np.ndarray, int]:
    """Number the distinct rows of ``patterns`` 0, 1, 2, ... in order of first appearance.

    Parameters
    ----------
    patterns : numpy.ndarray
        Boolean array ``(inputs, units)``, as returned by :func:`activation_patterns`.

    Returns
    -------
    labels : numpy.ndarray
        One integer label per input; equal labels mean equal patterns.
    n_patterns : int
        How many distinct patterns there are.

    Examples
    --------
    >>> p = np.array([[1, 0], [0, 0], [1, 0], [1, 1]], dtype=bool)
    >>> labels, n = pattern_labels(p)
    >>> labels.tolist(), n
    ([0, 1, 0, 2], 3)
    """
    arr = np.asarray(patterns)
    if arr.dtype != np.bool_:
        raise TypeError(f"patterns must be a boolean array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"patterns must be 2-D (inputs x units) with at least one row, got shape {arr.shape}")
    # One key per row: its bits packed into bytes. Sorting 64-bit integers (up to 64
    # units) is far faster than np.unique(arr, axis=0), which sorts whole rows.
    packed = np.packbits(arr, axis=1)
    if packed.shape[1] <= 8:
        wide = np.zeros((len(packed), 8), dtype=np.uint8)
        wide[:, :packed.shape[1]] = packed
        keys = wide.view(np.uint64).ravel()
    else:
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # rank of each unique row by first appearance
    return order[inverse.ravel()].astype(np.int64), int(len(first))


@dataclass(frozen=True)
class RegionMap:
    """The activation regions of a network over a grid, from :func:`linear_regions`.

    Attributes
    ----------
    grid : Grid
        Where the network was evaluated.
    labels : numpy.ndarray
        Integer region label per grid point, shape ``grid.shape``.
    n_regions : int
        Number of distinct activation patterns seen on the grid.
    layers : tuple of str
        The activation layers whose units define the patterns.
    patterns : numpy.ndarray
        Boolean array ``(n_regions, units)``: row ``k`` says which units are on in
        region ``k``.
    """

    grid: Grid
    labels: np.ndarray
    n_regions: int
    layers: tuple[str, ...]
    patterns: np.ndarray


def linear_regions(
    model: nn.Module,
    grid: Grid | None = None,
    *,
    layers: Sequence[str] | None = None,
) -> RegionMap:
    """Label every point of a 2-D grid by the activation pattern of ``model`` there.

    Points with the same pattern lie in the same linear region: there the network is
    one affine function (see :func:`local_affine_map`). Each pattern's set of inputs is
    convex, so one label is one connected piece of the plane.

    Parameters
    ----------
    model : torch.nn.Module
        A network with two inputs and ReLU-like activation layers.
    grid : Grid, optional
        Default ``grid_2d()``: 300 x 300 points over ``[-3, 3]^2``.
    layers : sequence of str, optional
        Restrict the patterns to these activation layers (default: all).

    Returns
    -------
    RegionMap

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> net = mlp([2, 1, 1])       # one hidden unit: one line cuts the plane in two
    >>> linear_regions(net, grid_2d(resolution=50)).n_regions
    2
    """
    _check_model(model)
    grid = grid_2d() if grid is None else grid
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a relu_lab.regions.Grid (see grid_2d), got {type(grid).__name__}")
    patterns = activation_patterns(model, grid, layers)
    labels, n = pattern_labels(patterns)
    if layers is None:
        layers = [name for name, m in model.named_modules() if isinstance(m, PIECEWISE_LINEAR_LAYERS)]
    _, first = np.unique(labels, return_index=True)  # a grid point of each region 0, 1, ...
    return RegionMap(grid, grid.image(labels), n, tuple(layers), patterns[first])


def local_affine_map(model: nn.Module, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """The affine map ``W, b`` that ``model`` computes near the input ``x``.

    For a piecewise-linear network, ``model(z) == z @ W.T + b`` for every ``z`` in the
    linear region of ``x``. ``W`` is the Jacobian at ``x`` and ``b = model(x) - W @ x``,
    computed in float64 on a copy of the model (the model itself is not changed).

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    x : array_like
        One input, a 1-D array of the network's input width.

    Returns
    -------
    W : numpy.ndarray
        Shape ``(outputs, inputs)``.
    b : numpy.ndarray
        Shape ``(outputs,)``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(2.0), net[0].bias.fill_(-1.0)
    >>> W, b = local_affine_map(net, [3.0])  # 2x - 1 where 2x - 1 > 0
    >>> W.tolist(), b.tolist()
    ([[2.0]], [-1.0])
    >>> local_affine_map(net, [0.0])[0].tolist()  # ReLU is off: the constant 0
    [[0.0]]
    """
    _check_model(model)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    point = np.asarray(x, dtype=np.float64)
    if point.ndim != 1 or point.size == 0:
        raise ValueError(f"x must be one input, a non-empty 1-D array, got shape {point.shape}")
    if not np.all(np.isfinite(point)):
        raise ValueError("x must be finite")
    net = copy.deepcopy(model).to(device="cpu", dtype=torch.float64).eval()
    xt = torch.from_numpy(point)
    with torch.no_grad():
        y = net(xt.unsqueeze(0))[0]
    jac = torch.autograd.functional.jacobian(lambda z: net(z.unsqueeze(0))[0], xt)
    W = jac.reshape(y.numel(), point.size).numpy()
    return W, y.reshape(-1).numpy() - W @ point


def max_regions_one_layer(n_inputs: int, n_units: int) -> int:
    """Most regions that ``n_units`` lines (hyperplanes) can cut ``n_inputs``-D space into.

    A hidden layer of ``n_units`` ReLUs switches each unit on one side of a hyperplane,
    so one layer has at most ``sum_{j=0}^{n_inputs} C(n_units, j)`` linear regions
    (Zaslavsky's count for hyperplanes in general position).

    Examples
    --------
    >>> max_regions_one_layer(2, 8)   # 1 + 8 + 28
    37
    >>> max_regions_one_layer(1, 3)   # three points cut a line into four pieces
    4
    """
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    n_units = check_positive_int(n_units, "n_units", minimum=0)
    return sum(math.comb(n_units, j) for j in range(n_inputs + 1))


def class_map(model: nn.Module, grid: Grid) -> np.ndarray:
    """The class ``model`` predicts at every grid point (argmax of its outputs).

    A model with a single output predicts class 1 where that output is positive.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> class_map(mlp([2, 4, 3]), grid_2d(resolution=5)).shape
    (5, 5)
    """
    out = _outputs(model, grid)
    pred = (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(dim=1)
    return grid.image(pred)


def _outputs(model: nn.Module, grid: Grid) -> torch.Tensor:
    _check_model(model)
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a relu_lab.regions.Grid (see grid_2d), got {type(grid).__name__}")
    with torch.no_grad():
        out = model(_as_points(grid, model)).detach().cpu()
    return out.reshape(len(out), -1)


def _region_colours(n: int, seed: int) -> ListedColormap:
    """``n`` light colours in a shuffled order, so that neighbouring labels differ."""
    base = plt.get_cmap("tab20")(np.arange(20))
    base[:, :3] = 0.45 * base[:, :3] + 0.55  # lighten, so edges and data stay readable
    order = np.random.default_rng(seed).permutation(max(n, 1))
    return ListedColormap(base[order % 20])


def _check_ax(ax: Any) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.0), layout="constrained")
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _describe_pattern(on: np.ndarray) -> str:
    units = [str(u + 1) for u in np.flatnonzero(on)]
    if not units:
        return "all units off"
    return f"unit {units[0]} on" if len(units) == 1 else f"units {', '.join(units)} on"


def plot_regions(
    regions: RegionMap,
    ax: Axes | None = None,
    *,
    edges: bool = True,
    annotate: bool = False,
    seed: int = 0,
) -> Axes:
    """Draw a :class:`RegionMap`: one colour per region, thin dark lines at the borders.

    Parameters
    ----------
    regions : RegionMap
        From :func:`linear_regions`.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    edges : bool, default True
        Draw the region borders.
    annotate : bool, default False
        Write in each region which units are on there ("unit 1 on", "all units
        off", ...), numbering the units from 1 across the included layers. Meant for
        small networks with a handful of regions.
    seed : int, default 0
        Shuffles the colours (neighbouring regions rarely share one).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> ax = plot_regions(linear_regions(mlp([2, 1, 1]), grid_2d(resolution=20)), annotate=True)
    >>> ax.get_xlabel(), sorted(t.get_text() for t in ax.texts)
    ('input $x_1$', ['all units off', 'unit 1 on'])
    >>> plt.close(ax.figure)
    """
    if not isinstance(regions, RegionMap):
        raise TypeError(f"regions must be a RegionMap (see linear_regions), got {type(regions).__name__}")
    ax = _check_ax(ax)
    seed = check_positive_int(seed, "seed", minimum=0)
    labels, grid = regions.labels, regions.grid
    ax.imshow(labels, origin="lower", extent=grid.extent, cmap=_region_colours(regions.n_regions, seed),
              vmin=-0.5, vmax=max(regions.n_regions, 1) - 0.5, interpolation="nearest", aspect="auto")
    if edges:
        border = np.zeros(labels.shape, dtype=bool)
        border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
        border[1:, :] |= labels[1:, :] != labels[:-1, :]
        ax.imshow(np.ma.masked_where(~border, border), origin="lower", extent=grid.extent,
                  cmap=ListedColormap(["0.25"]), interpolation="nearest", aspect="auto")
    if annotate:
        flat = labels.ravel()
        for k in range(regions.n_regions):
            cx, cy = grid.points[flat == k].mean(dim=0).tolist()  # regions are convex: inside
            ax.text(cx, cy, _describe_pattern(regions.patterns[k]), ha="center", va="center",
                    fontsize=9, bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))
    ax.set(xlabel="input $x_1$", ylabel="input $x_2$")
    ax.grid(False)
    return ax


def _draw_boundary(ax: Axes, grid: Grid, out: torch.Tensor, classes: np.ndarray, linewidth: float) -> None:
    if classes.min() == classes.max():
        return  # one class everywhere: no boundary in the window
    if out.shape[1] <= 2:  # two classes: the exact boundary is where the score crosses 0
        score = grid.image(out[:, 0] if out.shape[1] == 1 else out[:, 1] - out[:, 0])
        ax.contour(grid.xs, grid.ys, score, levels=[0.0], colors="black", linewidths=linewidth)
    else:
        levels = np.arange(1, int(classes.max()) + 1) - 0.5
        ax.contour(grid.xs, grid.ys, classes, levels=levels, colors="black", linewidths=linewidth)


def plot_boundary(model: nn.Module, grid: Grid, ax: Axes | None = None, *, linewidth: float = 2.0) -> Axes:
    """Draw only the decision boundary of ``model`` over ``grid``, as a black line.

    With one or two outputs the boundary is the zero level of the score (the output, or
    the difference of the two outputs), so its straight pieces are drawn exactly.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> net = mlp([2, 2], init=1.0, seed=1)
    >>> ax = plot_boundary(net, grid_2d(resolution=30))
    >>> len(ax.collections) + len(ax.lines) >= 1
    True
    >>> plt.close(ax.figure)
    """
    ax = _check_ax(ax)
    linewidth = check_real(linewidth, "linewidth")
    out = _outputs(model, grid)
    classes = grid.image((out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(dim=1))
    _draw_boundary(ax, grid, out, classes, linewidth)
    return ax


_CLASS_STYLE = ((COLORS["blue"], "o"), (COLORS["orange"], "s"), (COLORS["green"], "^"), (COLORS["purple"], "D"))


def plot_decision(model: nn.Module, data: Dataset, grid: Grid | None = None, ax: Axes | None = None) -> Axes:
    """Shade the class ``model`` predicts over ``grid`` and scatter ``data`` on top.

    Each class has its own colour and marker (blue circles, orange squares, ...), and
    the decision boundary is drawn as a black line.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier with two inputs.
    data : Dataset
        Points to show, coloured by their true class.
    grid : Grid, optional
        Default: 300 x 300 points over the data's range plus a margin of 0.5.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> from relu_lab.models import mlp
    >>> ax = plot_decision(mlp([2, 4, 2]), xor(20))
    >>> len(ax.collections) >= 2   # the shading and the data
    True
    >>> plt.close(ax.figure)
    """
    _check_model(model)
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    if data.n_features != 2:
        raise ValueError(f"data must have 2 features to be drawn in the plane, got {data.n_features}")
    X, y = data.X.numpy(), data.y.numpy()
    if grid is None:
        lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
        grid = grid_2d((lo[0], hi[0]), (lo[1], hi[1]))
    ax = _check_ax(ax)
    out = _outputs(model, grid)
    classes = grid.image((out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(dim=1))
    n_classes = max(int(classes.max()), int(y.max())) + 1
    if n_classes > len(_CLASS_STYLE):
        raise ValueError(f"plot_decision draws at most {len(_CLASS_STYLE)} classes, got {n_classes}")
    colours = [c for c, _ in _CLASS_STYLE[:n_classes]]
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(grid.xs, grid.ys, classes, levels=levels, colors=colours, alpha=0.18)
    _draw_boundary(ax, grid, out, classes, linewidth=1.2)
    for k in range(n_classes):
        colour, marker = _CLASS_STYLE[k]
        ax.scatter(X[y == k, 0], X[y == k, 1], s=14, c=colour, marker=marker, edgecolors="white",
                   linewidths=0.4, label=f"class {k}")
    ax.set(xlabel="input $x_1$", ylabel="input $x_2$", xlim=grid.extent[:2], ylim=grid.extent[2:])
    ax.grid(False)
    return ax
