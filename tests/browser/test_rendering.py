"""How an answer looks in JupyterLab 4: coloured code, typeset math beside untouched money, and
text readable in JupyterLab Light and Dark (contrast computed from the rendered colours).

Screenshots of the answer in both themes are kept in tests/browser/artifacts/ (gitignored); the
paths are listed at the end of pytest's report.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import saved
from .test_lab import ANSWER, FOOTER, REASONING, route_cell, start_routing, wait_cell

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import Lab, NotebookUI

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
THEMES_SETTINGS = "lab/api/settings/@jupyterlab/apputils-extension:themes"
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
WIDE_COLUMNS = 24

CODE = "def area(radius):\n    return 3.14159 * radius ** 2  # a circle"
RICH_ANSWER = "\n\n".join(
    [
        "Here is some code, some math and a table.",
        f"```python\n{CODE}\n```",
        "The area is $A = \\pi r^2$, and in general $$\\sum_{i=1}^n i = \\frac{n(n+1)}{2}$$",
        "It costs $5 and $10 today.",
        "| planet | moons | rings |\n|---|---|---|\n| Mercury | 0 | no |\n| Saturn | 146 | yes |",
        "| " + " | ".join(f"column_number_{i}" for i in range(WIDE_COLUMNS)) + " |\n"
        + "|---" * WIDE_COLUMNS + "|\n"
        + "| " + " | ".join(f"value_{i}" for i in range(WIDE_COLUMNS)) + " |",
        "That is all.",
    ]
)  # fmt: skip

# The colour an element's text is drawn in and the background under it, both as opaque RGB:
# translucent colours and ancestors' opacity are composited as the browser paints them.
COLOURS_JS = """el => {
  const parse = c => {
    const p = c.match(/[\\d.]+/g).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const chain = [];
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) chain.unshift(n);
  let background = [255, 255, 255, 1];
  let opacity = 1;
  for (const n of chain) {
    const style = getComputedStyle(n);
    background = over(parse(style.backgroundColor), background);
    opacity *= parseFloat(style.opacity);
  }
  const text = parse(getComputedStyle(el).color);
  text[3] *= opacity;
  return {text: over(text, background).slice(0, 3), background: background.slice(0, 3)};
}"""


def luminance(rgb: list[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0–255 channels)."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(page: Page, element: Locator) -> float:
    colours = page.evaluate(COLOURS_JS, element.element_handle())
    light, dark = sorted((luminance(colours["text"]), luminance(colours["background"])))
    return (dark + 0.05) / (light + 0.05)


def set_theme(lab: Lab, theme: str) -> None:
    """Store the theme in the user's settings, as the Settings › Theme menu does."""
    body = json.dumps({"raw": json.dumps({"theme": theme})}).encode()
    request = urllib.request.Request(lab.url(THEMES_SETTINGS), data=body, method="PUT")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture
def light_again(lab: Lab) -> Iterator[None]:
    """Whatever the test does to the theme, the next test starts in JupyterLab Light."""
    yield
    set_theme(lab, LIGHT)


def choose_theme(page: Page, theme: str) -> None:
    """Settings › Theme › `theme`, then wait until JupyterLab has applied it."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text=theme).first.click()
    page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme)
    page.wait_for_timeout(500)  # the theme's stylesheet settles


def screenshot(cell: Locator, name: str) -> Path:
    """The cell's outputs as an image in ARTIFACTS; its path is listed at the end of the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    cell.locator(".jp-Cell-outputWrapper").screenshot(path=str(path))
    return saved(path)


def run_rich_answer(notebook: NotebookUI, page: Page, name: str) -> Locator:
    start_routing(notebook, name, [route_cell("route/kimi-k2.5", RICH_ANSWER)])
    cell = notebook.cell(1)
    notebook.run(1)
    wait_cell(page, cell, "s.footer")
    notebook.wait_done(1)
    cell.locator(f"{ANSWER} mjx-container").first.wait_for()  # MathJax typesets lazily
    return cell


def keyword_colour(page: Page, cell: Locator) -> str:
    keyword = cell.locator(f"{ANSWER} .routing-magics-code .k").first
    return str(page.evaluate("el => getComputedStyle(el).color", keyword.element_handle()))


def test_code_is_coloured_math_typeset_and_money_left_as_typed(
    notebook: NotebookUI, page: Page
) -> None:
    cell = run_rich_answer(notebook, page, "rendering")
    answer = cell.locator(ANSWER)

    code = answer.locator("pre.routing-magics-code")
    assert code.inner_text().rstrip("\n") == CODE
    tokens = code.locator("span")
    colours = {
        page.evaluate("el => getComputedStyle(el).color", token.element_handle())
        for token in tokens.all()
    }
    base = page.evaluate("el => getComputedStyle(el).color", code.element_handle())
    assert len(colours - {base}) >= 4, colours  # keyword, def, number, operator, comment…
    assert keyword_colour(page, cell) == "rgb(0, 128, 0)"  # --jp-mirror-editor-keyword-color
    box = page.evaluate(
        "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.overflowX]; }",
        code.element_handle(),
    )
    assert box == ["rgb(245, 245, 245)", "auto"]  # --jp-cell-editor-background, scrolls

    # Both formulas are typeset by JupyterLab's MathJax; the money paragraph is untouched.
    assert answer.locator("mjx-container").count() == 2
    money = answer.locator("p", has_text="It costs")
    assert money.inner_text() == "It costs $5 and $10 today."
    assert money.locator("mjx-container").count() == 0
    assert "$A = " not in answer.inner_text()

    # The wide table scrolls inside its own box; the output itself is not widened.
    wide = answer.locator(".routing-magics-table").nth(1)
    sizes = page.evaluate(
        "el => [el.scrollWidth, el.clientWidth, el.closest('.jp-OutputArea-output').scrollWidth,"
        " el.closest('.jp-OutputArea-output').clientWidth]",
        wide.element_handle(),
    )
    assert sizes[0] > sizes[1], "the wide table does not overflow its box"
    assert sizes[2] <= sizes[3] + 1, "the wide table widened the output"


def test_answer_reasoning_and_footer_are_readable_in_light_and_dark(
    notebook: NotebookUI, page: Page, lab: Lab, light_again: None
) -> None:
    page.set_viewport_size({"width": 1280, "height": 1800})  # the whole answer in one shot
    cell = run_rich_answer(notebook, page, "themes")
    cell.locator(f"{REASONING} summary").click()  # open, so the screenshot shows it
    parts = {
        "answer text": cell.locator(f"{ANSWER} p").first,
        "reasoning text": cell.locator(f"{REASONING} > div"),
        "footer": cell.locator(FOOTER),
    }
    screenshot(cell, "answer-light")
    light = {name: contrast(page, part) for name, part in parts.items()}

    choose_theme(page, DARK)
    screenshot(cell, "answer-dark")
    dark = {name: contrast(page, part) for name, part in parts.items()}
    print(f"contrast ratios, Light: {light}; Dark: {dark}")

    for name in parts:
        assert light[name] >= 4.5, f"{name} in Light: {light[name]:.2f}:1"
        assert dark[name] >= 4.5, f"{name} in Dark: {dark[name]:.2f}:1"
    # The code follows the theme too: Dark's keyword colour, not Light's.
    assert keyword_colour(page, cell) == "rgb(76, 175, 80)"
    assert cell.locator(f"{ANSWER} mjx-container").count() == 2
