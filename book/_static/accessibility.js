// pydata-sphinx-theme gives a code block or output that overflows tabindex="0", so that a
// keyboard user can scroll it (axe: scrollable-region-focusable). It measures on load, on
// resize and when nodes are added, so code inside a collapsed solution or a hidden cell
// is measured while hidden, where it does not overflow, and stays out of the tab order
// when the reader opens it. Measure again, with the theme's rule, whenever one opens.
(() => {
  const SCROLLABLE = "pre, .nboutput > .output_area, .cell_output > .output, " +
    ".jp-RenderedHTMLCommon, .pst-scrollable-table-container";
  const measure = (root) => root.querySelectorAll(SCROLLABLE).forEach((e) => {
    e.tabIndex = e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight ? 0 : -1;
  });
  // <details>: myst-nb's hidden cells, sphinx-design dropdowns. "toggle" does not bubble.
  document.addEventListener("toggle", (event) => {
    if (event.target.open) measure(event.target);
  }, true);
  // sphinx-togglebutton's admonitions (the solutions) open on a click on their title.
  document.addEventListener("click", (event) => {
    const box = event.target.closest && event.target.closest(".admonition.toggle");
    if (box) requestAnimationFrame(() => measure(box));
  });
})();
