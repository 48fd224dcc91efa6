"""`%route usage` and the cost footer in JupyterLab Light and Dark: the chart reads well, and
dollar amounts stay text (MathJax, which typesets `$…$` in HTML outputs, leaves them alone).

Screenshots go to artifacts/ at the repository root (gitignored); their paths are listed at the
end of pytest's report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import saved
from .test_lab import FOOTER, start_routing

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import Lab, NotebookUI

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# Text of the chart that the browser draws outside the <svg>'s box (and so cuts off).
CLIPPED_JS = """svg => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].filter(t => {
    const r = t.getBoundingClientRect();
    return r.left < box.left - 0.5 || r.right > box.right + 0.5;
  }).map(t => t.textContent);
}"""
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
# The same kind of text without the ignore classes: MathJax must typeset this one.
CONTROL = (
    "from IPython.display import HTML\n"
    "HTML('<div class=\"control\">≈ $0.0004 · notebook ≈ $0.031</div>')"
)

# WCAG contrast of each chart text and series colour against what is behind the chart.
CONTRAST_JS = """svg => {
  const rgba = s => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return m.length > 3 ? m : [...m, 1];
  };
  let node = svg, bg = null;
  while (node && node.nodeType === 1) {
    const c = rgba(getComputedStyle(node).backgroundColor);
    if (c[3] > 0) { bg = c; break; }
    node = node.parentElement;
  }
  bg = bg || [255, 255, 255, 1];
  const over = c => [0, 1, 2].map(i => c[i] * c[3] + bg[i] * (1 - c[3]));
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = c => { const a = lum(over(rgba(c))), b = lum(bg.slice(0, 3));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  return {
    background: bg,
    text: Array.from(svg.querySelectorAll('text')).map(t => ratio(getComputedStyle(t).fill)),
    series: Array.from(svg.querySelectorAll('g.series')).map(g => ratio(getComputedStyle(g).fill)),
  };
}"""


@pytest.fixture
def theme(lab: Lab, request: pytest.FixtureRequest) -> Iterator[str]:
    """JupyterLab's theme for this test, set through the user settings it reads on load."""
    name = THEMES[request.param]
    settings = lab.root.parent / "config" / "lab" / "user-settings" / "@jupyterlab"
    path = settings / "apputils-extension" / "themes.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"theme": name}))
    try:
        yield request.param
    finally:
        path.unlink()


@pytest.mark.parametrize("theme", list(THEMES), indirect=True)
def test_usage_chart_and_cost_footer_read_well_in_light_and_dark(
    notebook: NotebookUI, page: Page, theme: str
) -> None:
    cells = ["%%route route/kimi-k2.5\necho: Two words.", "%route usage", CONTROL]
    start_routing(notebook, f"usage-{theme}", cells)
    assert page.evaluate("document.body.dataset.jpThemeName") == THEMES[theme]

    outputs = notebook.run_and_wait(1, "notebook ≈ $")
    notebook.wait_done(1)
    footer = outputs.locator(FOOTER)
    text = footer.inner_text()
    typed = re.search(r"≈ \$0\.\d+ · notebook ≈ \$0\.\d+", text)
    assert typed, f"the footer's amounts did not render as typed: {text!r}"
    assert footer.locator("mjx-container, .MathJax, math").count() == 0

    usage = notebook.run_and_wait(2, "Tokens per day")
    notebook.wait_done(2)
    svg = usage.locator(".routing-magics-chart svg")
    svg.wait_for()
    table = usage.locator(".routing-magics-usage")
    assert "≈ cost" in table.inner_text() and "$0." in table.inner_text()
    assert table.locator("mjx-container").count() == 0
    contrast = page.evaluate(CONTRAST_JS, svg.element_handle())
    assert contrast["text"] and min(contrast["text"]) >= 4.5, contrast
    assert len(contrast["series"]) == 1 and min(contrast["series"]) >= 3.0, contrast
    clipped = page.evaluate(CLIPPED_JS, svg.element_handle())
    assert clipped == [], f"labels drawn past the chart's edge: {clipped}"  # not `2026-12-`

    ARTIFACTS.mkdir(exist_ok=True)
    notebook.cell(2).screenshot(path=str(ARTIFACTS / f"usage-{theme}.png"))
    saved(ARTIFACTS / f"usage-{theme}.png")

    # The control proves MathJax is on in this page: the same text, unprotected, is typeset.
    control = notebook.outputs(3)
    notebook.run(3)
    notebook.wait_done(3)
    control.locator("mjx-container").first.wait_for(timeout=30_000)
