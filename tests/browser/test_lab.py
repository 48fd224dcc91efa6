"""What a person sees in JupyterLab 4: streamed answers, the reasoning view, the panel, no XSS.

The kernels answer from the bundled emulator (ROUTING_MAGICS_OFFLINE=1) at conftest.TOKEN_RATE
tokens a second, and `echo: X` makes it answer exactly X, so each test knows the answer's text.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from routing_magics.api.catalog import BUILTIN_ROUTES

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .conftest import NotebookUI

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]

LOAD = "%load_ext routing_magics"
EMULATOR_LINE = "offline emulator"
ANSWER, FOOTER = ".routing-magics-answer", ".routing-magics-footer"
REASONING = "details.routing-magics-reasoning"
LAST_SENTENCE = "That is the whole streamed answer."

# The answer text of one cell's outputs and whether its footer is there, read in one go.
READ_CELL_JS = """cell => ({
  answer: Array.from(cell.querySelectorAll('.routing-magics-answer'))
    .map(e => e.innerText).join('\\n'),
  footer: cell.querySelector('.routing-magics-footer') !== null,
})"""


TABLE_ROWS = (
    "| planet | moons | rings |",
    "|---|---|---|",
    "| Mercury | 0 | no |",
    "| Saturn | 146 | yes |",
)
GROWING_SENTENCE = "the emulator streams this sentence one word at a time so a reader sees it grow"


def route_cell(model: str, answer: str) -> str:
    """A `%%route` cell whose emulator answer is exactly `answer`."""
    return f"%%route {model}\necho: {answer}"


def long_markdown(paragraphs: int) -> str:
    """A GFM table, then `paragraphs` paragraphs of 40 words each, then LAST_SENTENCE."""
    table = "\n".join(TABLE_ROWS)
    words = GROWING_SENTENCE.split(" ")
    body = [
        f"Paragraph {n}: " + " ".join(words[(n + i) % len(words)] for i in range(40)) + "."
        for n in range(1, paragraphs + 1)
    ]
    return "\n\n".join([table, *body, LAST_SENTENCE])


def start_routing(notebook: NotebookUI, name: str, cells: list[str]) -> None:
    """Open a notebook whose first cell is `%load_ext routing_magics`, and run that cell."""
    notebook.open(name, [LOAD, *cells])
    notebook.run_and_wait(0, EMULATOR_LINE)
    notebook.wait_done(0)


def read_cell(page: Page, cell: Locator) -> dict[str, Any]:
    return dict(page.evaluate(READ_CELL_JS, cell.element_handle()))


def wait_cell(page: Page, cell: Locator, condition: str, timeout_ms: int = 60_000) -> None:
    """Wait until `condition` (JS over `s`, what READ_CELL_JS returns) holds for the cell."""
    page.wait_for_function(
        f"cell => {{ const s = ({READ_CELL_JS})(cell); return {condition}; }}",
        arg=cell.element_handle(),
        timeout=timeout_ms,
    )


# Records every selector that matched an element added under `root`, even one replaced at once.
WATCH_JS = """([root, selector]) => {
  window.__seen = window.__seen || new Set();
  new MutationObserver(records => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === 1 && (node.matches(selector) || node.querySelector(selector))) {
          window.__seen.add(selector);
        }
      }
    }
  }).observe(root, {subtree: true, childList: true});
}"""


def watch_for(page: Page, root: Locator, selector: str) -> None:
    """From now on, note whether an element matching `selector` ever appears under `root`."""
    page.evaluate(WATCH_JS, [root.element_handle(), selector])


def test_plain_cell_output_shows(notebook: NotebookUI, shot: Shot) -> None:
    notebook.open("hello", ['print("hello" + " world")'])
    outputs = notebook.run_and_wait(0, "hello world")
    shot("hello")
    assert outputs.first.inner_text().strip() == "hello world"


def test_answer_is_visible_while_it_streams_and_its_table_renders(
    notebook: NotebookUI, page: Page, shot: Shot
) -> None:
    text = long_markdown(paragraphs=9)  # ~400 tokens: ~10 s at 40 tokens/s
    start_routing(notebook, "streaming", [route_cell("route/mistral-small-2503", text)])
    cell = notebook.cell(1)
    notebook.run(1)

    # Part of the answer is on screen while the rest is still coming (no footer yet).
    wait_cell(page, cell, "s.answer.includes('Saturn') && !s.footer")
    partial = read_cell(page, cell)
    shot("streaming-partial")
    assert LAST_SENTENCE not in partial["answer"], "the whole answer arrived at once"

    wait_cell(page, cell, "s.footer")
    notebook.wait_done(1)
    shot("streaming-done")
    final = read_cell(page, cell)
    assert LAST_SENTENCE in final["answer"]
    assert len(final["answer"]) > len(partial["answer"])
    assert EMULATOR_LINE in cell.locator(FOOTER).inner_text()

    table = cell.locator(f"{ANSWER} table")
    assert table.count() == 1
    assert table.locator("th").all_inner_texts() == ["planet", "moons", "rings"]
    assert table.locator("tbody tr").first.locator("td").all_inner_texts() == ["Mercury", "0", "no"]
    assert "| planet |" not in final["answer"]  # rendered, not shown as raw markdown


def test_reasoning_collapses_when_the_answer_starts_and_stays_open_when_expanded(
    notebook: NotebookUI, page: Page, shot: Shot
) -> None:
    short = route_cell("route/kimi-k2.5", "The answer is **42**.")
    long = route_cell("route/kimi-k2.5", long_markdown(paragraphs=5))  # ~6 s of answer
    start_routing(notebook, "reasoning", [short, long])

    # While the model thinks, its reasoning is visible in an open <details>.
    cell = notebook.cell(1)
    watch_for(page, cell, f"{REASONING}[open]")
    notebook.run(1)
    page.wait_for_function("s => window.__seen.has(s)", arg=f"{REASONING}[open]")
    shot("reasoning-thinking")
    wait_cell(page, cell, "s.footer")
    notebook.wait_done(1)
    details = cell.locator(REASONING)
    assert details.count() == 1
    assert details.get_attribute("open") is None, "reasoning still expanded after the answer"
    summary = details.locator("summary").inner_text()
    assert summary.startswith("Reasoning · ") and "tokens" in summary and summary.endswith(" s")
    assert "42" in cell.locator(ANSWER).inner_text()

    details.locator("summary").click()
    assert details.get_attribute("open") is not None
    page.wait_for_timeout(1000)
    assert details.get_attribute("open") is not None, "expanded reasoning snapped shut"
    assert "repeated back exactly" in details.inner_text()
    shot("reasoning-expanded")

    # Expanded while the answer is still streaming, it stays open through the later updates.
    cell = notebook.cell(2)
    notebook.run(2)
    cell.locator(f"{REASONING}:not([open])").wait_for()
    assert not read_cell(page, cell)["footer"], "the answer finished before it could be clicked"
    details = cell.locator(REASONING)
    details.locator("summary").click()
    wait_cell(page, cell, "s.footer")
    notebook.wait_done(2)
    page.wait_for_timeout(500)
    shot("reasoning-expanded-during-stream")
    assert details.get_attribute("open") is not None, "reasoning snapped shut while streaming"


def _panel_import_error() -> str | None:
    try:
        importlib.import_module("routing_magics.ui.panel")
    except Exception as exc:  # any failure to import means: no panel to test yet
        return f"routing_magics.ui.panel does not import yet ({type(exc).__name__}: {exc})"
    return None


_PANEL_MISSING = _panel_import_error()
needs_panel = pytest.mark.skipif(_PANEL_MISSING is not None, reason=_PANEL_MISSING or "")


@needs_panel
def test_panel_picks_routes_streams_and_stops(notebook: NotebookUI, page: Page, shot: Shot) -> None:
    start_routing(notebook, "panel", ["%route panel"])
    notebook.run(1)
    panel = notebook.cell(1).locator(".routing-magics-panel")
    panel.wait_for()
    picker = panel.locator("select").first
    offered = picker.locator("option").all_inner_texts()
    assert len(offered) == len(BUILTIN_ROUTES) == 11
    for route in BUILTIN_ROUTES:
        assert any(route.id in label for label in offered), f"{route.id} not in the picker"
    picker.select_option(label=next(o for o in offered if "route/mistral-small-2503" in o))

    prompt = panel.locator("textarea").last
    send = panel.get_by_role("button", name="Send", exact=True)
    stop = panel.get_by_role("button", name="Stop", exact=True)
    assert stop.is_disabled()
    shot("panel")

    # Send: the answer grows in the panel, then its footer appears.
    prompt.fill("echo: " + long_markdown(paragraphs=3))
    send.click()
    wait_cell(page, panel, "s.answer.includes('Saturn') && !s.footer")
    assert stop.is_enabled()
    shot("panel-streaming")
    wait_cell(page, panel, "s.footer")
    answer = read_cell(page, panel)["answer"]
    assert LAST_SENTENCE in answer
    assert panel.locator(f"{ANSWER} table th").all_inner_texts() == ["planet", "moons", "rings"]
    assert EMULATOR_LINE in panel.locator(FOOTER).inner_text()
    shot("panel-answered")

    # Stop: the partial answer stays, marked stopped, and Send works again.
    prompt.fill("echo: " + long_markdown(paragraphs=9))
    send.click()
    wait_cell(page, panel, "s.answer.includes('Paragraph 1') && !s.footer")
    stop.click()
    wait_cell(page, panel, "s.footer")
    shot("panel-stopped")
    assert "stopped" in panel.inner_text()
    assert LAST_SENTENCE not in read_cell(page, panel)["answer"]
    page.wait_for_function("el => !el.disabled", arg=send.element_handle())
    assert stop.is_disabled()


XSS_ANSWER = (
    "Hello <script>alert(1)</script>\n\n"
    "<img src=x onerror=alert(2)>\n\n"
    "<svg onload=alert(3)>\n\n"
    "[click](javascript:alert(4))"
)
# A control: JupyterLab runs this onerror handler, so a missed alert would be seen.
CONTROL = "from IPython.display import HTML\nHTML('<img src=x onerror=\"alert(5)\">')"


def test_model_html_and_javascript_links_do_not_run(
    notebook: NotebookUI, page: Page, dialogs: list[str], shot: Shot
) -> None:
    start_routing(notebook, "xss", [route_cell("route/mistral-small-2503", XSS_ANSWER), CONTROL])
    cell = notebook.cell(1)
    notebook.run(1)
    wait_cell(page, cell, "s.footer")
    notebook.wait_done(1)
    for link in cell.locator(f"{ANSWER} a").all():
        link.click()
    page.wait_for_timeout(1000)
    shot("xss")

    assert dialogs == []
    outputs = notebook.outputs(1)
    assert outputs.locator("script").count() == 0
    assert outputs.locator("svg").count() == 0
    assert outputs.locator("img").count() == 0
    assert outputs.locator("a[href^='javascript' i]").count() == 0
    shown = cell.locator(ANSWER).inner_text()
    escaped = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<svg onload=alert(3)>")
    for text in escaped:
        assert text in shown, f"{text!r} is not shown as text"
    assert "click" in shown

    # The control proves that this page would have recorded an alert.
    notebook.run(2)
    notebook.wait_done(2)
    page.wait_for_timeout(1000)
    assert dialogs == ["alert: 5"]
