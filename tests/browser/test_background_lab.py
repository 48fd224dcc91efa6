"""`--background` in JupyterLab 4: a batch started in one cell keeps its progress bar and its
summary in that cell while two other cells run, and nothing of it lands in theirs.

The screenshots (while the batch runs, and after) go to tests/browser/artifacts/ (gitignored);
their paths are listed at the end of pytest's report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import saved
from .test_lab import start_routing

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import NotebookUI

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
ROWS = 12  # at the emulator's 100 requests a minute: about 7 s of batch
FRAME = (
    "import pandas as pd\n"
    f"reviews = pd.DataFrame({{'text': [f'review {{i}}' for i in range({ROWS})]}})"
)
BATCH = "%%route --each reviews --background -o labels --into label --concurrency 4\necho: {text}"
OTHER_ONE = "import time\ntime.sleep(2)\nprint('other work, one')"
OTHER_TWO = "print('other work, two')"
SUMMARY = f"{ROWS} rows: {ROWS} answered"

# Per cell: its outputs' text, and whether a widget (tqdm's bar is one) is among them.
CELLS_JS = """() => Array.from(
  document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')
).map(cell => ({
  text: Array.from(cell.querySelectorAll('.jp-OutputArea-output'))
    .map(o => o.innerText).join('\\n'),
  bar: cell.querySelector('.jp-OutputArea-output .jupyter-widgets') !== null,
}))"""


def cells_now(page: Page) -> list[dict[str, object]]:
    return list(page.evaluate(CELLS_JS))


def assert_nothing_of_the_batch_in(seen: list[dict[str, object]], cells: tuple[int, ...]) -> None:
    for index in cells:
        assert not seen[index]["bar"], f"cell {index} shows a widget"
        text = str(seen[index]["text"])
        assert "reviews:" not in text and "rows" not in text and "background" not in text, text


def test_a_background_batch_keeps_its_bar_and_summary_in_its_own_cell(
    page: Page, notebook: NotebookUI
) -> None:
    start_routing(notebook, "background", [FRAME, BATCH, OTHER_ONE, OTHER_TWO])
    notebook.run(1)
    notebook.wait_done(1)
    notebook.run_and_wait(2, "Job 1 runs in the background")
    notebook.wait_done(2, timeout_ms=5_000)  # it returned at once: the batch has just begun
    notebook.run(3)
    notebook.run(4)
    # While the batch runs, its bar moves in its own cell, and the cells that run meanwhile
    # get none of it.
    page.wait_for_function(f"() => ({CELLS_JS})()[2].bar", timeout=20_000)
    notebook.wait_done(4)
    during = cells_now(page)
    assert SUMMARY not in str(during[2]["text"]), "the batch ended before the other cells ran"
    assert_nothing_of_the_batch_in(during, (0, 1, 3, 4))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "background-batch-running.png"), full_page=True)
    saved(ARTIFACTS / "background-batch-running.png")
    notebook.outputs(2).filter(has_text=SUMMARY).first.wait_for(timeout=60_000)
    notebook.outputs(2).filter(has_text="ran in the background as job 1").first.wait_for()
    after = cells_now(page)
    assert [str(after[i]["text"]).strip() for i in (3, 4)] == ["other work, one", "other work, two"]
    assert_nothing_of_the_batch_in(after, (0, 1, 3, 4))
    page.screenshot(path=str(ARTIFACTS / "background-batch.png"), full_page=True)
    saved(ARTIFACTS / "background-batch.png")
