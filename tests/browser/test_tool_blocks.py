"""Tool blocks in JupyterLab 4: each call its own collapsible block, escaped, readable, folded
once the next step starts, and a block the user opens stays open."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .test_lab import FOOTER, Shot, start_routing, wait_cell

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import NotebookUI

pytestmark = pytest.mark.browser

BLOCK = "details.routing-magics-tool"
# A tool whose result is HTML: it must show as text and never load an image or run a handler.
TOOL = '''def rows_where(city: str, min_amount: float = 0) -> str:
    """How many sales rows are in `city` with at least `min_amount`."""
    return f"<img src=x onerror=alert(7)> 17 rows in {city}"'''
ASK = "%%route --tools rows_where\nHow many sales over 50 were there in Oslo and in Lima?"


def test_tool_calls_show_as_escaped_collapsible_blocks(
    notebook: NotebookUI, page: Page, dialogs: list[str], shot: Shot
) -> None:
    start_routing(notebook, "tools", [TOOL, ASK])
    notebook.run(1)
    notebook.wait_done(1)
    cell = notebook.cell(2)
    notebook.run(2)
    cell.locator(FOOTER).wait_for(timeout=60_000)
    notebook.wait_done(2)
    blocks = cell.locator(BLOCK)
    assert blocks.count() == 2
    summaries = [blocks.nth(i).locator("summary").inner_text() for i in range(2)]
    assert summaries == [
        'rows_where(city="Oslo", min_amount=50) → <img src=x onerror=alert(7)> 17 rows in Oslo',
        'rows_where(city="Lima", min_amount=50) → <img src=x onerror=alert(7)> 17 rows in Lima',
    ]
    # Folded once the next step began; the result inside is hidden until opened.
    assert all(blocks.nth(i).get_attribute("open") is None for i in range(2))
    body = blocks.nth(0).locator("pre")
    assert not body.is_visible()
    blocks.nth(0).locator("summary").click()
    body.wait_for(state="visible")
    assert body.inner_text() == "<img src=x onerror=alert(7)> 17 rows in Oslo"
    page.wait_for_timeout(1000)  # a re-render would close it again
    assert blocks.nth(0).get_attribute("open") is not None
    shot("tool-blocks")
    assert cell.locator(".jp-OutputArea-output img").count() == 0
    assert dialogs == []
    assert "2 steps" in cell.locator(FOOTER).inner_text()
    wait_cell(page, cell, "s.footer")
