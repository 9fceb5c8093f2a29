"""Figures' dark twins: relu_lab.plotting.dark_twin and the book's myst-nb plugin."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from relu_lab._book import DarkTwins  # noqa: E402
from relu_lab.plotting import COLORS, DARK_INK, DARK_PAGE, DARK_TWIN_KEY, _dark_rgba, dark_twin  # noqa: E402


def pixels(png: bytes) -> np.ndarray:
    return plt.imread(io.BytesIO(png))[..., :3]


def close_to(colour: str, rgb: np.ndarray) -> bool:
    return bool(np.abs(rgb - np.array(to_rgba(colour)[:3])).max() < 0.02)


def test_greys_are_mirrored_and_colours_kept():
    out = _dark_rgba([to_rgba("white"), to_rgba("black"), to_rgba(COLORS["blue"], 0.5)])
    assert close_to(DARK_PAGE, out[0, :3]) and close_to(DARK_INK, out[1, :3])
    np.testing.assert_allclose(out[2], to_rgba(COLORS["blue"], 0.5))
    grey = _dark_rgba([to_rgba("0.5")])[0, :3]
    assert grey.min() > np.array(to_rgba(DARK_PAGE)[:3]).max()  # mid grey stays mid


def test_the_twin_is_dark_and_the_figure_is_untouched():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1], color="black", lw=8)
    ax.plot([0, 1], [1, 0], color=COLORS["orange"], lw=8)
    ax.set_title("t")
    png = dark_twin(fig)
    assert ax.get_lines()[0].get_color() == "black" and fig.get_facecolor()[:3] == (1, 1, 1)
    rgb = pixels(png)
    assert close_to(DARK_PAGE, rgb[1, 1])                 # the corner: the dark page
    colours = {tuple(np.round(p, 2)) for p in rgb.reshape(-1, 3)}
    assert any(close_to(COLORS["orange"], np.array(c)) for c in colours)
    assert any(close_to(DARK_INK, np.array(c)) for c in colours)
    assert not any(close_to("black", np.array(c)) for c in colours)
    plt.close(fig)


def test_colour_mapped_data_keeps_its_colours():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.zeros((4, 4)), cmap="gray", vmin=0, vmax=1)   # black: data, not ink
    ax.set_axis_off()
    rgb = pixels(dark_twin(fig))
    assert close_to("black", rgb[rgb.shape[0] // 2, rgb.shape[1] // 2])
    plt.close(fig)


def test_a_figure_that_cannot_be_copied_has_no_twin():
    fig, ax = plt.subplots()
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    assert dark_twin(fig) is None
    plt.close(fig)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        dark_twin("figure")


class FakeRenderer:
    def render_image(self, data):
        return [{"classes": ["output"], "content": data.content}]


def mime(mime_type="image/png", metadata=None):
    from myst_nb.core.render import MimeData
    return MimeData(mime_type, "light-b64", output_metadata=metadata or {})


def test_the_book_renders_both_images_when_there_is_a_twin():
    twin = base64.b64encode(b"dark").decode()
    light, dark = DarkTwins.handle_mime(FakeRenderer(), mime(metadata={"image/png": {DARK_TWIN_KEY: twin}}), False)
    assert light == {"classes": ["output", "figure-light"], "content": "light-b64"}
    assert dark == {"classes": ["output", "figure-dark", "dark-light"], "content": twin}


def test_the_book_leaves_other_outputs_to_myst_nb():
    assert DarkTwins.handle_mime(FakeRenderer(), mime(), False) is None
    assert DarkTwins.handle_mime(FakeRenderer(), mime("text/plain"), False) is None


@pytest.fixture
def shell():
    """An IPython shell that shows figures as the notebooks' inline backend does."""
    from IPython.core.interactiveshell import InteractiveShell
    sh = InteractiveShell.instance()
    yield sh
    sh.display_formatter.formatters["image/png"].pop(matplotlib.figure.Figure, None)
    InteractiveShell.clear_instance()


def constrained_figure():
    fig, axes = plt.subplots(1, 2, figsize=(6, 2.5), layout="constrained")
    for ax in axes:
        ax.plot([0, 1], [0, 1], color="black", label="a line")
        ax.set(xlabel="x", title="a title")
        ax.legend()
    return fig


@pytest.mark.parametrize("env, twinned", [("1", True), (None, False)])
def test_twins_are_drawn_only_for_the_book_build(shell, monkeypatch, env, twinned):
    from relu_lab.plotting import DARK_TWINS_ENV, use_style
    if env is None:
        monkeypatch.delenv(DARK_TWINS_ENV, raising=False)
    else:
        monkeypatch.setenv(DARK_TWINS_ENV, env)
    use_style()
    fig = constrained_figure()
    out = shell.display_formatter.formatters["image/png"](fig)
    plt.close(fig)
    if not twinned:  # a learner's Lab, nbval, make execute: the light image only
        assert out is None or isinstance(out, (str, bytes))
        return
    light, metadata = out
    light_png, dark_png = (base64.b64decode(x) for x in (light, metadata[DARK_TWIN_KEY]))
    # the twin keeps the light image's layout and box: the same size, pixel for pixel
    assert pixels(light_png).shape == pixels(dark_png).shape
    assert close_to(DARK_PAGE, pixels(dark_png)[2, 2]) and close_to("white", pixels(light_png)[2, 2])
