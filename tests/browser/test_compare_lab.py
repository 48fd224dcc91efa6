"""Three models side by side in JupyterLab Light and Dark (`%%route route/a,route/b,route/c`):
columns beside each other in a wide window and stacked in a narrow one, every text readable
(WCAG contrast against what is behind it), and the figures table under them.

Screenshots go to artifacts/ at the repository root (gitignored); their paths are listed at the
end of pytest's report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .conftest import saved
from .test_lab import start_routing
from .test_usage_lab import ARTIFACTS, THEMES, theme  # noqa: F401  (the theme fixture)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import NotebookUI

pytestmark = pytest.mark.browser

MODELS = ("route/mistral-small-2503", "route/deepseek-v3.2", "route/kimi-k2.6")
CELL = f"%%route {','.join(MODELS)} -o cmp\nExplain the CAP theorem in three sentences."

# Each column's box, and the WCAG contrast of its texts against the first opaque background
# behind them (the answer's paragraphs, the heading, the footer, the reasoning's summary).
COLUMNS_JS = """grid => {
  const rgba = s => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return m.length > 3 ? m : [...m, 1];
  };
  const background = el => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const contrast = el => {
    const bg = background(el), fg = rgba(getComputedStyle(el).color);
    const mixed = [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const a = lum(mixed), b = lum(bg);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  return [...grid.querySelectorAll('.routing-magics-column')].map(col => {
    const box = col.getBoundingClientRect();
    const texts = col.querySelectorAll('.routing-magics-model, .routing-magics-answer p, '
      + '.routing-magics-answer li, .routing-magics-footer, .routing-magics-reasoning summary');
    return { left: box.left, top: box.top, width: box.width, height: box.height,
             model: col.querySelector('.routing-magics-model').textContent,
             contrast: [...texts].map(contrast), texts: texts.length };
  });
}"""


def columns(page: Page, grid: Locator) -> list[dict[str, Any]]:
    return list(page.evaluate(COLUMNS_JS, grid.element_handle()))


@pytest.mark.parametrize("theme", list(THEMES), indirect=True)
def test_three_models_side_by_side_readable_in_light_and_dark(
    notebook: NotebookUI,
    page: Page,
    theme: str,  # noqa: F811  (the imported fixture)
) -> None:
    start_routing(notebook, f"compare-{theme}", [CELL])
    assert page.evaluate("document.body.dataset.jpThemeName") == THEMES[theme]
    outputs = notebook.run_and_wait(1, "cheapest", timeout_ms=120_000)
    notebook.wait_done(1)
    grid = outputs.locator(".routing-magics-compare")
    wide = columns(page, grid)
    assert [c["model"] for c in wide] == list(MODELS)
    assert len({round(c["top"]) for c in wide}) == 1, wide  # one row: side by side
    assert wide[0]["left"] < wide[1]["left"] < wide[2]["left"]
    for column in wide:
        assert column["texts"] >= 4 and min(column["contrast"]) >= 4.5, column
    figures = outputs.locator(".routing-magics-figures")
    rows = figures.locator("tr")
    assert rows.count() == 1 + len(MODELS)
    assert "fastest" in figures.inner_text() and "cheapest" in figures.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 2000})  # the whole cell, figures too
    notebook.cell(1).screenshot(path=str(ARTIFACTS / f"compare-{theme}.png"))
    saved(ARTIFACTS / f"compare-{theme}.png")

    page.set_viewport_size({"width": 760, "height": 1000})  # a half-screen window
    page.wait_for_function(
        "grid => { const c = grid.querySelectorAll('.routing-magics-column');"
        " return c[0].getBoundingClientRect().top < c[1].getBoundingClientRect().top; }",
        arg=grid.element_handle(),
    )
    narrow = columns(page, grid)
    assert narrow[0]["top"] < narrow[1]["top"] < narrow[2]["top"], narrow  # stacked
    assert len({round(c["left"]) for c in narrow}) == 1, narrow
    assert min(c["width"] for c in narrow) > 0.8 * max(c["width"] for c in narrow)
    page.evaluate(
        "grid => grid.querySelectorAll('.routing-magics-column')[1]"
        ".scrollIntoView({block: 'center', inline: 'nearest'})",
        grid.element_handle(),
    )
    page.wait_for_timeout(300)  # the notebook redraws what scrolled in
    page.screenshot(path=str(ARTIFACTS / f"compare-{theme}-narrow.png"))
    saved(ARTIFACTS / f"compare-{theme}-narrow.png")
