"""Explorables: interactive figures that work in the static HTML book, offline.

A chapter declares the chart in Altair (Vega-Lite), with its controls as slider-bound
parameters (``alt.param(bind=alt.binding_range(...))``), and hands it to
:func:`explorable` with a readout, a caption and a static fallback figure. The result is
one notebook output, a bundle of three representations:

- ``text/vnd.relu-lab.explorable+html`` (:data:`MIME`): the explorable itself, a
  ``<figure class="explorable">`` holding labelled controls, a live text readout, an
  empty chart area, a caption, and the chart's Vega-Lite specification with its data
  inline as JSON. The book's extension ``book/_ext/explorables.py`` renders it, puts the
  fallback image into it and loads the shared scripts once per page
  (``book/_static/explorables.js`` and the vendored Vega, Vega-Lite and vega-embed);
  nothing is fetched, so the page works from ``file://``.
- ``image/png``: the static fallback, for print, the PDF and readers without
  JavaScript; JupyterLab, which knows no renderer for the first type, shows it too.
- ``text/plain``: the caption.

The readout is computed *in the page*, by the chart: a Vega expression over the
parameters, or a small chart whose data end in one row with a ``readout`` field (an
aggregate over a grid, a lookup in precomputed data). It is added to the chart as an
invisible layer named ``readout``, whose text the page copies into a live region.
``expected`` computes the same readout in Python with ``relu_lab``; it fills the readout
before any script runs, and for each of ``checks`` it stores the setting and its
expected readout in the page, which the browser tests drive with the keyboard.

Numbers that come out of training are stored in the data as the book prints them,
``"≈0.423"`` (:func:`relu_lab.report.measured`): the page reads them as numbers, and the
notebook tests mask their digits off the pinned machine, as everywhere else.

Introduced with the explorables (chapters 1, 3, 7, 8 and 9).
"""

from __future__ import annotations

import base64
import decimal
import html
import io
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MIME", "FALLBACK_SLOT", "Control", "Explorable", "explorable", "fixed", "readout_layer"]

#: The mime type of an explorable's HTML (the book's extension renders it).
MIME = "text/vnd.relu-lab.explorable+html"
#: Where the book's extension puts the fallback image inside the explorable's HTML.
FALLBACK_SLOT = "<!--explorable-fallback-->"
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: Chart colours that follow the page (light or dark scheme): text and axes in the
#: page's ink (``currentColor``), no background of its own.
THEME = {
    "background": "transparent",
    "font": "sans-serif",
    "axis": {"labelColor": "currentColor", "titleColor": "currentColor", "domainColor": "currentColor",
             "tickColor": "currentColor", "gridColor": "currentColor", "gridOpacity": 0.15,
             "labelFontSize": 12, "titleFontSize": 13},
    "title": {"color": "currentColor", "subtitleColor": "currentColor", "fontSize": 14},
    "legend": {"labelColor": "currentColor", "titleColor": "currentColor", "labelFontSize": 12},
    "text": {"color": "currentColor"},
    "view": {"stroke": None},
}


def fixed(value: float, decimals: int = 2) -> str:
    """``value`` with ``decimals`` decimals, as the page's Vega ``format(v, '.Nf')`` writes it.

    The minus sign is U+2212, like d3-format's; a value that rounds to zero has no sign;
    a value halfway between two results goes away from zero, as JavaScript's
    ``toFixed`` does (Python's ``format`` would go to the even one).

    Examples
    --------
    >>> fixed(-0.6), fixed(0.25, 1), fixed(-0.001), fixed(0.125)
    ('−0.60', '0.3', '0.00', '0.13')
    """
    exact = decimal.Decimal(float(value))  # JavaScript's toFixed: halves away from zero
    text = f"{exact.quantize(decimal.Decimal(1).scaleb(-int(decimals)), decimal.ROUND_HALF_UP):f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "−")


@dataclass(frozen=True)
class Control:
    """A slider of an explorable, bound to the chart's parameter ``param``."""

    param: str
    label: str
    min: float
    max: float
    step: float
    value: float
    typed: bool = False

    def steps_to(self, value: float) -> int:
        """How many ``step``\\ s above ``min`` lies ``value`` (it must be on the grid)."""
        k = (value - self.min) / self.step
        if not (self.min <= value <= self.max) or abs(k - round(k)) > 1e-9:
            raise ValueError(f"{self.param}={value} is not a setting of its slider")
        return round(k)

    def html(self, base: str) -> str:
        ident = f"{base}-{self.param}"
        attrs = f'min="{self.min:g}" max="{self.max:g}" step="{self.step:g}" value="{self.value:g}"'
        parts = [f'<label for="{ident}">{html.escape(self.label)}</label>',
                 f'<input type="range" id="{ident}" data-param="{self.param}" {attrs}>']
        if self.typed:
            parts.append(f'<input type="number" id="{ident}-typed" data-param="{self.param}" {attrs}'
                         f' aria-label="{html.escape(self.label)}, typed">')
        else:
            parts.append(f'<output for="{ident}" class="explorable-value">{self.value:g}</output>')
        return '<div class="explorable-control">' + "".join(parts) + "</div>"


def readout_layer(readout: Any) -> Any:
    """The invisible text layer named ``readout`` whose one row carries the readout text.

    ``readout`` is a Vega expression over the chart's parameters (a string), or an Altair
    chart whose transforms end in one row with a ``readout`` field.
    """
    import altair as alt

    if isinstance(readout, str):
        readout = alt.Chart(alt.Data(values=[{}])).transform_calculate(readout=readout)
    return readout.mark_text(opacity=0, aria=False).encode(text="readout:N").properties(name="readout")


def _with_readout(chart: Any, readout: Any) -> Any:
    import altair as alt

    key = {alt.HConcatChart: "hconcat", alt.VConcatChart: "vconcat"}.get(type(chart))
    if key:
        chart = chart.copy()
        parts = list(getattr(chart, key))
        parts[0] = _with_readout(parts[0], readout)
        setattr(chart, key, parts)
        return chart
    return alt.layer(chart, readout_layer(readout))


def _controls(spec: Any, labels: Mapping[str, str], typed: Sequence[str]) -> list[Control]:
    """Take every slider binding out of ``spec`` (the page draws its own controls)."""
    found: list[Control] = []
    if isinstance(spec, dict):
        for p in spec.get("params", []):
            bind = p.pop("bind", None) if isinstance(p, dict) else None
            if bind is None:
                continue
            if bind.get("input") != "range":
                raise ValueError(f"parameter {p.get('name')!r}: only range bindings are supported")
            name = p["name"]
            found.append(Control(name, labels.get(name, bind.get("name", name)), float(bind["min"]),
                                 float(bind["max"]), float(bind["step"]), float(p["value"]), name in typed))
        children = [v for k, v in spec.items() if k != "params"]
    elif isinstance(spec, list):
        children = spec
    else:
        return found
    for child in children:
        found.extend(_controls(child, labels, typed))
    return found


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/")


class Explorable:
    """An interactive figure; displayed in a notebook, it is one output bundle (see module)."""

    def __init__(self, name: str, spec: dict, controls: list[Control], readout: str, caption: str,
                 alt: str, fallback_png: bytes, checks: list[dict], large: bool = False):
        self.name, self.spec, self.controls = name, spec, controls
        self.readout, self.caption, self.alt = readout, caption, alt
        self.fallback_png, self.checks, self.large = fallback_png, checks, large

    def html(self) -> str:
        """The explorable's HTML, with :data:`FALLBACK_SLOT` where the fallback image goes."""
        base = f"explorable-{self.name}"
        controls = "".join(c.html(base) for c in self.controls)
        return (
            f'<figure class="explorable{" explorable-large" if self.large else ""}" id="{base}"'
            f' data-fallback-alt="{html.escape(self.alt)}">'
            f'<div class="explorable-controls">{controls}</div>'
            f'<p class="explorable-readout" role="status" aria-live="polite">{html.escape(self.readout)}</p>'
            f'<div class="explorable-chart"></div>'
            f"{FALLBACK_SLOT}"
            f'<figcaption class="explorable-caption">{html.escape(self.caption)}</figcaption>'
            f'<script type="application/json" class="explorable-spec">{_json(self.spec)}</script>'
            f'<script type="application/json" class="explorable-checks">{_json(self.checks)}</script>'
            "</figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {MIME: self.html(), "image/png": base64.b64encode(self.fallback_png).decode("ascii"),
                "text/plain": f"Explorable: {self.caption}"}
        return data, {"image/png": {"alt": self.alt}}


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def explorable(
    chart: Any,
    *,
    name: str,
    readout: Any,
    expected: Callable[..., str],
    caption: str,
    alt: str,
    fallback: Any,
    checks: Sequence[Mapping[str, float]] = (),
    labels: Mapping[str, str] | None = None,
    typed: Sequence[str] = (),
    large: bool = False,
) -> Explorable:
    """An explorable figure made of an Altair chart with slider-bound parameters.

    Parameters
    ----------
    chart : altair chart
        The chart; each ``alt.param(..., bind=alt.binding_range(min, max, step))`` becomes
        a keyboard-operable slider of the page.
    name : str
        Lower-case words joined by hyphens, unique in the book (the element's ``id``).
    readout : str or altair.Chart
        The live text readout, computed in the page (see :func:`readout_layer`).
    expected : callable
        The same readout computed in Python: ``expected(**setting)`` with one keyword per
        parameter.
    caption : str
        What the figure shows and what to try.
    alt : str
        Alternative text of the chart and of its fallback image.
    fallback : matplotlib.figure.Figure
        The static figure for print, PDF and readers without JavaScript (it is closed).
    checks : sequence of dict
        Settings at which the browser tests compare the page's readout with ``expected``.
    labels : dict, optional
        Accessible labels of the controls, by parameter (default: the binding's name).
    typed : sequence of str
        Parameters that also get a box to type a number in.
    large : bool
        Larger controls and readout (for the youngest readers).

    Examples
    --------
    >>> import altair as alt, matplotlib.pyplot as plt
    >>> a = alt.param(name="a", value=1, bind=alt.binding_range(min=0, max=2, step=1))
    >>> chart = alt.Chart(alt.Data(values=[{"x": 0}, {"x": 1}])).mark_line().encode(
    ...     x="x:Q", y=alt.Y("y:Q")).transform_calculate(y="a * datum.x").add_params(a)
    >>> e = explorable(chart, name="demo", readout="'slope ' + a",
    ...                expected=lambda a: f"slope {a:g}", caption="Move a.", alt="A line.",
    ...                fallback=plt.figure(), checks=[{"a": 2}])
    >>> [c.param for c in e.controls], e.readout, e.checks
    (['a'], 'slope 1', [{'settings': {'a': 2}, 'readout': 'slope 2'}])
    >>> sorted(e._repr_mimebundle_()[0])
    ['image/png', 'text/plain', 'text/vnd.relu-lab.explorable+html']
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be lower-case words joined by hyphens, got {name!r}")
    for arg, value in [("caption", caption), ("alt", alt)]:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{arg} must be a non-empty string")
    spec = _with_readout(chart, readout).to_dict()
    spec.pop("$schema", None)  # a URL: the page says mode "vega-lite" instead
    spec.setdefault("description", alt)
    spec["config"] = {**THEME, **{k: v for k, v in spec.get("config", {}).items() if k != "view"}}
    controls = _controls(spec, dict(labels or {}), typed)
    if not controls:
        raise ValueError("chart has no slider: bind a parameter with alt.binding_range")
    default = {c.param: c.value for c in controls}
    stored = []
    for setting in checks:
        unknown = set(setting) - set(default)
        if unknown:
            raise ValueError(f"checks: unknown parameters {sorted(unknown)}")
        for c in controls:
            c.steps_to(setting.get(c.param, c.value))
        full = {**default, **setting}
        stored.append({"settings": dict(setting), "readout": expected(**full)})
    for c in controls:
        if not math.isfinite(c.value):
            raise ValueError(f"parameter {c.param!r} needs a finite starting value")
    return Explorable(name, spec, controls, expected(**default), caption, alt, _png(fallback), stored,
                      large)
