"""The book's one plotting style, a function beside its derivative, and a race.

Introduced in chapter 3 (:func:`plot_paired_race` in chapter 10). The palette is
Okabe & Ito's, which stays distinguishable for the common forms of colour blindness;
each activation keeps its colour across the whole book.

The book follows its reader's colour scheme. In a notebook, :func:`use_style` also
makes every figure carry a twin drawn for a dark page (:func:`dark_twin`): greys,
black and white are mirrored (white paper becomes the dark page, black ink becomes
light text) and the palette's colours stay as they are, all of which keep a contrast
of at least 3:1 on the dark page. The twin travels in the output's metadata, which
JupyterLab and nbval ignore; the book shows it when the reader's scheme is dark.
"""

from __future__ import annotations

import base64
import io
import os
import pickle
from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba, to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = ["COLORS", "ACTIVATION_COLORS", "DARK_PAGE", "DARK_INK", "use_style", "dark_twin",
           "plot_with_derivative", "plot_paired_race", "outline"]

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


#: The dark scheme's page colour (the book theme's dark background).
DARK_PAGE: str = "#14181e"
#: What black ink becomes on a dark page (light grey, about 14:1 on DARK_PAGE).
DARK_INK: str = "#e3e5e8"
#: Metadata key of an image/png output that holds its dark twin (base64 PNG).
DARK_TWIN_KEY = "relu_lab_dark_twin"
#: Set to "1" by the book build: :func:`use_style` then attaches dark twins.
DARK_TWINS_ENV = "RELU_LAB_DARK_TWINS"


def use_style() -> None:
    """Apply the book's matplotlib style (palette, sizes, grid, no top/right spines).

    Inside IPython (a notebook) during the book build, also attach a dark twin to every
    figure shown; see :func:`dark_twin`. The build says so with the environment variable
    ``RELU_LAB_DARK_TWINS`` (``book/_ext/dark_figures.py`` sets it for the kernels the
    build starts). Elsewhere (a learner's JupyterLab, nbval, ``make execute``) nobody
    shows the twin, and drawing each figure a second time would only cost time.

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
    if os.environ.get(DARK_TWINS_ENV) == "1":
        _attach_dark_twins()


def _dark_rgba(rgba: np.ndarray) -> np.ndarray:
    """Map colours (N x 4 RGBA) for a dark page: greys mirrored, colours kept."""
    rgba = np.array(rgba, dtype=float, ndmin=2)
    rgb = rgba[:, :3]
    grey = rgb.max(axis=1) - rgb.min(axis=1) < 0.12
    page, ink = to_rgba_array([DARK_PAGE, DARK_INK])[:, :3]
    darkness = 1.0 - rgb[grey].mean(axis=1, keepdims=True)   # 0 for white, 1 for black
    rgb[grey] = page + darkness * (ink - page)
    return rgba


def _recolour(fig: Figure) -> None:
    """Recolour every artist of ``fig`` in place with :func:`_dark_rgba`.

    Data-coded colours (images, colour-mapped collections) are left alone, and so is
    text drawn over an image, whose colour was chosen against that image.
    """
    def one(c):
        return tuple(_dark_rgba(to_rgba(c))[0])

    mapped = {id(a) for ax in fig.axes for a in ax.get_children()
              if isinstance(a, ScalarMappable) and a.get_array() is not None}
    over_image = {id(t) for ax in fig.axes if mapped & {id(a) for a in ax.get_children()}
                  for t in ax.texts}
    for artist in fig.findobj():
        if id(artist) in mapped or id(artist) in over_image:
            continue
        if isinstance(artist, Text):
            artist.set_color(one(artist.get_color()))
        elif isinstance(artist, Line2D):
            artist.set_color(one(artist.get_color()))
            artist.set_markerfacecolor(one(artist.get_markerfacecolor()))
            artist.set_markeredgecolor(one(artist.get_markeredgecolor()))
        elif isinstance(artist, Patch):
            artist.set_facecolor(one(artist.get_facecolor()))
            artist.set_edgecolor(one(artist.get_edgecolor()))
        elif isinstance(artist, Collection):
            for get, put in [(artist.get_facecolor, artist.set_facecolor),
                             (artist.get_edgecolor, artist.set_edgecolor)]:
                colours = get()
                if len(colours):
                    put(_dark_rgba(colours))
    for ax in fig.axes:  # ticks made later, when the axes are drawn, too
        ax.tick_params(which="both", colors=DARK_INK)
    fig.patch.set_facecolor(DARK_PAGE)


def dark_twin(fig: Figure, *, bbox_inches: str | Bbox | None = None, laid_out: bool = False,
              **savefig_kwargs) -> bytes | None:
    """``fig`` drawn for a dark page, as PNG bytes; None if it cannot be copied.

    The figure itself is not changed: a copy (by pickling) is recoloured. Greys,
    black and white are mirrored between :data:`DARK_PAGE` and :data:`DARK_INK`;
    colours keep their hue and lightness (Okabe & Ito's palette keeps a contrast of at
    least 3:1 on the dark page); colour-mapped data is left alone.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    bbox_inches : "tight", a Bbox in inches, or None
        The part of the figure to draw, as for ``savefig``. Pass the light image's box to
        get a twin of exactly the same size.
    laid_out : bool
        ``fig`` has just been drawn at ``fig.dpi``, so the positions its layout engine
        computed are current: the twin keeps them instead of running the layout again
        (recolouring moves nothing), which saves the layout pass (measured: about a tenth
        of a constrained-layout twin's cost; the rest is drawing).
    **savefig_kwargs
        Passed to ``savefig`` (``dpi`` defaults to ``fig.dpi``).

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1], color="black")
    >>> png = dark_twin(fig)
    >>> png[:4], ax.get_lines()[0].get_color()
    (b'\x89PNG', 'black')
    >>> plt.close(fig)
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(laid_out, bool):
        raise TypeError(f"laid_out must be a bool, got {type(laid_out).__name__}")
    try:
        twin = pickle.loads(pickle.dumps(fig))
    except (pickle.PicklingError, AttributeError, TypeError):
        return None  # e.g. a lambda formatter: the book shows the light figure
    if laid_out:
        try:
            twin.set_layout_engine("none")
        except RuntimeError:  # a colorbar made under constrained layout: lay out again
            pass
    _recolour(twin)
    buffer = io.BytesIO()
    savefig_kwargs = {"dpi": fig.dpi, **savefig_kwargs}
    twin.savefig(buffer, format="png", facecolor=DARK_PAGE, bbox_inches=bbox_inches, **savefig_kwargs)
    plt.close(twin)
    return buffer.getvalue()


def _attach_dark_twins() -> None:
    """In IPython, show figures as PNG with their dark twin in the output's metadata."""
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    # Let pyplot load its backend now: the inline backend registers its own PNG
    # formatter when it loads, which would replace ours.
    plt.switch_backend(mpl.get_backend())

    def png_with_twin(fig: Figure):
        light = print_figure(fig, "png", base64=True, bbox_inches="tight")
        if light is None:  # an empty figure
            return None
        # The light image was just drawn at fig.dpi: its layout is current, and its box
        # is the tight box of the figure as it stands (padded as savefig pads it).
        box = fig.get_tightbbox().padded(mpl.rcParams["savefig.pad_inches"])
        twin = dark_twin(fig, bbox_inches=box, laid_out=True)
        if twin is None:
            return light
        return light, {DARK_TWIN_KEY: base64.b64encode(twin).decode("ascii")}

    shell.display_formatter.formatters["image/png"].for_type(Figure, png_with_twin)


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


def outline(color: str) -> list:
    """Path effects for a line of ``color``: a dark edge for the palette's yellow, which
    is faint on a white page, and none for the other colours.

    Examples
    --------
    >>> plt.plot([0, 1], color=ACTIVATION_COLORS["silu"],  # doctest: +SKIP
    ...          path_effects=outline(ACTIVATION_COLORS["silu"]))
    >>> outline(COLORS["blue"])
    []
    """
    if color != COLORS["yellow"]:
        return []
    return [patheffects.withStroke(linewidth=4, foreground="0.35")]


def plot_paired_race(
    curves: Mapping[str, np.ndarray],
    differences: Mapping[str, np.ndarray],
    *,
    baseline: str = "relu",
    clip: float = -10.0,
    thin: Sequence[str] = ("sigmoid",),
) -> tuple[Figure, tuple[Axes, Axes]]:
    """A race of activations: median learning curves, and each seed's gap to a baseline.

    Introduced in chapter 10. The left panel draws, per activation, the median over the
    seeds of its training accuracy after every epoch. The right panel gives every
    activation but ``baseline`` a row with one dot per seed: its test accuracy minus
    the baseline's on the same seed, in percentage points. Gaps below ``clip`` are
    drawn at the left edge, as arrowheads when every seed of a row lies there.

    Parameters
    ----------
    curves : dict of str to array_like
        Activation name to training accuracies (fractions), one row per seed and one
        column per epoch. The dict's order is the order of the legend and of the rows.
    differences : dict of str to array_like
        Activation name to its test accuracy minus the baseline's, one value per seed
        (fractions); needed for every activation of ``curves`` but ``baseline``.
    baseline : str
        The activation the others are compared with; it has no row on the right.
    clip : float
        The right panel's left edge, in percentage points (negative).
    thin : sequence of str
        Activations drawn as thin solid lines, unlike the dashed styles of the others.

    Returns
    -------
    fig, (ax_curves, ax_gaps)

    Examples
    --------
    >>> curves = {"relu": [[0.5, 0.9], [0.6, 0.9]], "tanh": [[0.4, 0.8], [0.5, 0.9]]}
    >>> fig, (ax_c, ax_d) = plot_paired_race(curves, {"tanh": [-0.01, 0.02]})
    >>> [line.get_label() for line in ax_c.get_lines()], ax_c.get_lines()[1].get_ydata()
    (['relu', 'tanh'], array([45., 85.]))
    >>> plt.close(fig)
    """
    if not isinstance(curves, Mapping) or not isinstance(differences, Mapping):
        raise TypeError("curves and differences must be dicts from activation name to values")
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip < 0:
        raise ValueError(f"clip must be a negative number of points, got {clip!r}")
    rows = [name for name in curves if name != baseline]
    missing = [name for name in rows if name not in differences]
    if missing:
        raise ValueError(f"differences needs one value per seed for {missing}")
    fig, (ax_c, ax_d) = plt.subplots(1, 2, figsize=(8.5, 3.6), layout="constrained")
    gaps = {name: 100 * np.asarray(differences[name], dtype=float) for name in rows}
    for i, name in enumerate(curves):
        color = ACTIVATION_COLORS.get(name, COLORS["black"])
        look = dict(color=color, path_effects=outline(color))
        seeds = np.asarray(curves[name], dtype=float)
        ax_c.plot(100 * np.median(seeds, axis=0), lw=1 if name in thin else 2,
                  ls="-" if name in thin else ["-", "--", "-.", ":"][i % 4], label=name, **look)
        if name == baseline:
            continue
        d, row = gaps[name], rows.index(name)
        below = d.max() < clip
        ax_d.plot(np.maximum(d, clip + 0.4), row + np.linspace(-0.2, 0.2, d.size),
                  "<" if below else "o", mec="0.2", ms=7, ls="none", **look)
        if below:
            ax_d.annotate(f"all {d.size} seeds below {clip:g}".replace("-", "\u2212"),
                          (clip + 1, row), va="center", fontsize=8)
    name = "ReLU" if baseline == "relu" else baseline
    right = max(5.0, np.ceil(max(d.max() for d in gaps.values()))) + 0.5 if gaps else 5.5
    ax_c.set(xlabel="epoch", ylabel="training accuracy (%)", ylim=(0, 102),
             title=f"Learning curves (median of {seeds.shape[0]} seeds)")
    ax_c.legend(loc="lower right", fontsize=8, ncol=2)
    ax_d.axvline(0, color="0.5", lw=1)
    ax_d.set(yticks=range(len(rows)), yticklabels=rows, xlim=(clip, right),
             xticks=np.arange(clip, right, 5),
             xlabel=f"test accuracy minus {name}'s, same seed (points)",
             title=f"Paired with {name}: one dot per seed")
    ax_d.invert_yaxis()
    return fig, (ax_c, ax_d)
