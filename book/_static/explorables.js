// Explorables: interactive figures declared in the chapters with Altair (Vega-Lite) and
// written into the page by relu_lab.explorables. Loaded once per page that holds one
// (book/_ext/explorables.py), after the vendored Vega, Vega-Lite and vega-embed.
//
// Each <figure class="explorable"> holds its controls (labelled range inputs, maybe a
// number box), a live readout (role="status"), an empty chart area, the fallback image,
// a caption and the chart's specification as inline JSON (nothing is fetched: the page
// works from file://). This script draws the chart (SVG), wires each control to the
// chart's parameter of the same name, and after every change copies the text of the
// chart's invisible "readout" layer into the readout. Until it has drawn, or when it
// cannot, the figure shows its fallback image.
(() => {
  "use strict";
  const MEASURED = /^≈[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

  // Numbers that come out of training are stored as the book prints them, "≈0.423":
  // every inline data set of the specification gets them back as numbers.
  const parseMeasured = (node) => {
    if (Array.isArray(node)) {
      for (const row of node) {
        if (row && typeof row === "object" && !Array.isArray(row)) {
          for (const [key, value] of Object.entries(row)) {
            if (typeof value === "string" && MEASURED.test(value)) row[key] = +value.slice(1);
          }
        }
        parseMeasured(row);
      }
    } else if (node && typeof node === "object") {
      Object.values(node).forEach(parseMeasured);
    }
  };

  // The readout layer is named "readout"; Vega-Lite may number it ("readout_0_marks").
  const READOUT = /^readout(_\d+)?_marks$/;
  const findMark = (mark) => {
    if (!mark) return null;
    if (READOUT.test(mark.name || "")) return mark;
    for (const item of mark.items || []) {
      for (const child of item.items || []) {
        const found = findMark(child);
        if (found) return found;
      }
    }
    return null;
  };

  const readoutText = (view) => {
    const mark = findMark(view.scenegraph().root);
    const item = mark && mark.items && mark.items[0];
    return item ? String(item.text) : null;
  };

  async function start(figure) {
    const spec = JSON.parse(figure.querySelector("script.explorable-spec").textContent);
    parseMeasured(spec);
    const readout = figure.querySelector(".explorable-readout");
    const result = await vegaEmbed(figure.querySelector(".explorable-chart"), spec, {
      mode: "vega-lite", renderer: "svg", actions: false, tooltip: false,
    });
    const view = result.view;
    // The chart is one image whose text alternative is its description (the alt text);
    // its marks and axes stay out of the accessibility tree, and the readout says the
    // numbers.
    const chart = figure.querySelector(".explorable-chart");
    chart.setAttribute("role", "img");
    chart.setAttribute("aria-label", spec.description || "");
    chart.querySelectorAll("svg").forEach((svg) => svg.setAttribute("aria-hidden", "true"));
    const show = () => {
      const text = readoutText(view);
      if (text !== null && readout.textContent !== text) readout.textContent = text;
    };
    const inputs = [...figure.querySelectorAll("input[data-param]")];
    for (const input of inputs) {
      const update = async () => {
        let value = +input.value;
        if (input.value === "" || !Number.isFinite(value)) return;  // a half-typed number
        value = Math.min(+input.max, Math.max(+input.min, value));
        const param = input.dataset.param;
        for (const other of inputs) {
          if (other !== input && other.dataset.param === param) other.value = input.value;
        }
        const shown = figure.querySelector(`output[for="${input.id}"]`);
        if (shown) shown.textContent = input.value;
        view.signal(param, value);
        await view.runAsync();
        show();
      };
      input.addEventListener("input", update);
      input.addEventListener("change", update);
    }
    show();
    figure.classList.add("explorable-live");
  }

  const startAll = () => document.querySelectorAll("figure.explorable").forEach((figure) => {
    start(figure).catch((error) => console.error(`explorable ${figure.id}:`, error));
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
