"""The book's one plotting style, and a function plotted beside its derivative.

Introduced in chapter 3. The palette is Okabe & Ito's, which stays distinguishable
for the common forms of colour blindness; each activation keeps its colour across
the whole book.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["COLORS", "ACTIVATION_COLORS", "use_style", "plot_with_derivative"]

#: Okabe-Ito colour-blind-safe palette.
COLORS: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: One colour per activation, the same in every chapter. Activations that are often
#: drawn together get clearly different hues: sigmoid and tanh (orange, reddish
#: purple), and ReLU with its variants (blue, green, black).
ACTIVATION_COLORS: dict[str, str] = {
    "relu": COLORS["blue"],
    "leaky_relu": COLORS["green"],
    "prelu": COLORS["black"],
    "sigmoid": COLORS["orange"],
    "tanh": COLORS["purple"],
    "elu": COLORS["vermillion"],
    "gelu": COLORS["sky"],
    "silu": COLORS["yellow"],
}


def use_style() -> None:
    """Apply the book's matplotlib style (palette, sizes, grid, no top/right spines).

    Examples
    --------
    >>> use_style()
    >>> mpl.rcParams["axes.spines.top"]
    False
    """
    mpl.rcParams.update({
        "axes.prop_cycle": mpl.cycler(color=list(COLORS.values())),
        "figure.figsize": (7.0, 3.2),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.frameon": False,
        "lines.linewidth": 2.0,
        "font.size": 10,
    })


def plot_with_derivative(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x: Sequence[float] | np.ndarray | None = None,
    *,
    name: str = "f",
    color: str | None = None,
    axes: tuple[Axes, Axes] | None = None,
) -> tuple[Figure, tuple[Axes, Axes]]:
    """Plot ``f`` on the left and its derivative ``df`` on the right, over the same ``x``.

    Parameters
    ----------
    f, df : callable
        The function and its derivative, both elementwise on NumPy arrays.
    x : array_like, optional
        Points to evaluate at; default 401 points from -4 to 4.
    name : str
        Used in titles and labels, e.g. ``"ReLU"``.
    color : str, optional
        Line colour; default from :data:`ACTIVATION_COLORS` if ``name`` is there.
    axes : pair of Axes, optional
        Draw into these instead of a new figure (to overlay several functions).

    Examples
    --------
    >>> from relu_lab.activations import relu, relu_derivative
    >>> fig, (ax_f, ax_df) = plot_with_derivative(relu, relu_derivative, name="ReLU")
    >>> ax_df.get_title(), ax_df.get_lines()[0].get_label()
    ("ReLU'(x)", "ReLU'")
    >>> plt.close(fig)
    """
    if not callable(f) or not callable(df):
        raise TypeError("f and df must be callables taking and returning arrays")
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    x = np.linspace(-4, 4, 401) if x is None else np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"x must be a 1-D array of at least two points, got shape {x.shape}")
    if color is None:
        color = ACTIVATION_COLORS.get(name.lower().replace(" ", "_").replace("-", "_"), COLORS["blue"])
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.8), layout="constrained")
    else:
        fig = axes[0].figure
    ax_f, ax_df = axes
    ax_f.plot(x, f(x), color=color, label=name)
    # Where the derivative jumps (ReLU's at 0), break the line instead of drawing a
    # vertical segment that would suggest every value in between is taken.
    dy = np.asarray(df(x), dtype=float)
    jumps = np.flatnonzero(np.abs(np.diff(dy)) > 0.2) + 1
    ax_df.plot(np.insert(x, jumps, np.nan), np.insert(dy, jumps, np.nan), color=color, label=f"{name}'")
    ax_f.set(title=f"{name}(x)", xlabel="input x", ylabel="output")
    ax_df.set(title=f"{name}'(x)", xlabel="input x", ylabel="slope")
    for ax in axes:
        ax.axhline(0, color="0.6", lw=0.8, zorder=0)
        ax.axvline(0, color="0.6", lw=0.8, zorder=0)
    return fig, (ax_f, ax_df)
