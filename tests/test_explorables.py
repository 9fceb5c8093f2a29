"""relu_lab.explorables: the notebook output of an explorable (the page is tested in
tests/browser/test_explorables.py) and the book extension that renders it."""

from __future__ import annotations

import base64
import json
import re

import pytest

alt = pytest.importorskip("altair")
plt = pytest.importorskip("matplotlib.pyplot")

from relu_lab.explorables import FALLBACK_SLOT, MIME, explorable, fixed  # noqa: E402


def _chart():
    a = alt.param(name="a", value=1, bind=alt.binding_range(min=0, max=2, step=0.5, name="slope a"))
    rows = [{"x": 0, "v": "≈0.5"}, {"x": 1, "v": "≈1.25"}]
    return (alt.Chart(alt.Data(values=rows)).mark_line()
            .encode(x="x:Q", y="y:Q").transform_calculate(y="a * datum.x").add_params(a))


def _make(**kw):
    args = dict(name="demo", readout="'a = ' + format(a, '.1f')", expected=lambda a: f"a = {fixed(a, 1)}",
                caption="Move a </b> & see.", alt='A "line".', fallback=plt.figure(), checks=[{"a": 2}])
    args.update(kw)
    return explorable(_chart(), **args)


def _spec(html: str) -> dict:
    text = re.search(r'<script type="application/json" class="explorable-spec">(.*?)</script>', html).group(1)
    return json.loads(text)


def test_bundle_html_png_and_text():
    data, meta = _make()._repr_mimebundle_()
    assert set(data) == {MIME, "image/png", "text/plain"}
    assert base64.b64decode(data["image/png"])[:4] == b"\x89PNG"
    assert meta["image/png"]["alt"] == 'A "line".'
    html = data[MIME]
    assert html.startswith('<figure class="explorable" id="explorable-demo"') and FALLBACK_SLOT in html
    assert '<label for="explorable-demo-a">slope a</label>' in html
    assert 'role="status" aria-live="polite">a = 1.0<' in html  # the readout before any script
    assert "Move a &lt;/b&gt; &amp; see." in html and 'data-fallback-alt="A &quot;line&quot;."' in html


def test_spec_has_no_bindings_no_schema_url_and_a_readout_layer():
    spec = _spec(_make().html())
    text = json.dumps(spec, ensure_ascii=False)
    assert "bind" not in text and "http" not in text
    assert any(layer.get("name") == "readout" for layer in spec["layer"])
    assert spec["config"]["axis"]["labelColor"] == "currentColor"
    assert "≈1.25" in text  # measured values stay marked (masked off the pinned machine)


def test_checks_store_expected_readouts_and_output_is_deterministic():
    e = _make(checks=[{"a": 0}, {"a": 1.5}])
    assert e.checks == [{"settings": {"a": 0}, "readout": "a = 0.0"}, {"settings": {"a": 1.5}, "readout": "a = 1.5"}]
    assert _make().html() == _make().html()
    assert _make()._repr_mimebundle_()[0]["image/png"] == _make()._repr_mimebundle_()[0]["image/png"]


def test_json_cannot_close_its_script():
    e = _make(expected=lambda a: "</script><b>")
    assert "</script><b>" not in e.html().split('class="explorable-checks">')[1].split("</script>")[0]


@pytest.mark.parametrize("bad, message", [
    (dict(name="Bad Name"), "name"),
    (dict(caption=" "), "caption"),
    (dict(checks=[{"a": 0.3}]), "not a setting"),
    (dict(checks=[{"b": 1}]), "unknown"),
])
def test_invalid_arguments_name_the_argument(bad, message):
    with pytest.raises(ValueError, match=message):
        _make(**bad)


def test_a_chart_without_slider_is_refused():
    chart = alt.Chart(alt.Data(values=[{"x": 0}])).mark_point().encode(x="x:Q")
    with pytest.raises(ValueError, match="slider"):
        explorable(chart, name="x", readout="'x'", expected=lambda: "x", caption="c", alt="a",
                   fallback=plt.figure())


def test_fixed_matches_javascript_to_fixed():
    # toFixed rounds halves away from zero; d3-format writes U+2212 and drops the sign of 0.
    assert [fixed(v) for v in [0.125, -0.125, 0.5, -0.001, 2.0]] == ["0.13", "−0.13", "0.50", "0.00", "2.00"]
    assert fixed(-2 * 0.3) == "−0.60" and fixed(2.675, 2) == "2.67"  # 2.675 is 2.67499... in binary


def test_book_extension_uses_the_same_mime_type():
    module = _extension()
    assert module.MIME == MIME and module.FALLBACK_SLOT == FALLBACK_SLOT
    for js in module.VENDOR + ["explorables.js"]:
        assert (module.STATIC / js).is_file(), js


def _extension():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "book" / "_ext" / "explorables.py"
    spec = importlib.util.spec_from_file_location("explorables_ext", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("builder", ["html", "latex"])
def test_extension_puts_the_fallback_inside_the_explorable(builder):
    from types import SimpleNamespace

    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    ext = _extension()
    settings = get_default_settings(Parser)
    settings.env = SimpleNamespace(app=SimpleNamespace(builder=SimpleNamespace(format=builder)))
    doc = new_document("t", settings)
    bundle = nodes.container(nb_element="mime_bundle")
    html = _make().html()
    for mime, child in [(MIME, nodes.raw(text=html, format="html")),
                        ("image/png", nodes.image(uri="x.png")),
                        ("text/plain", nodes.literal_block(text="Explorable"))]:
        bundle += nodes.container("", child, mime_type=mime)
    doc += bundle
    ext.MergeFallback(doc).run()
    kinds = [c["mime_type"] for c in bundle.children]
    if builder == "latex":
        assert kinds == ["image/png", "text/plain"]  # print builders get the image
        return
    assert kinds == ["text/html"]
    parts = bundle.children[0].children
    assert [type(p) for p in parts] == [nodes.raw, nodes.image, nodes.raw]
    assert parts[1]["classes"] == ["explorable-fallback"] and parts[1]["alt"] == 'A "line".'
    assert parts[0].astext() + parts[2].astext() == html.replace(FALLBACK_SLOT, "")


def test_the_book_renders_the_explorable_html_through_the_entry_point():
    from importlib.metadata import entry_points

    from myst_nb.core.render import MimeData

    from relu_lab._book import Explorables

    declared = {e.name: e.value for e in entry_points(group="myst_nb.mime_renderers")}
    assert declared["relu_lab_explorables"] == "relu_lab._book:Explorables"  # pip install -e . declares it
    html = _make().html()
    (node,) = Explorables.handle_mime(None, MimeData(MIME, html), False)
    assert node.astext() == html and node["format"] == "html"
    assert Explorables.handle_mime(None, MimeData("image/png", "b64"), False) is None
