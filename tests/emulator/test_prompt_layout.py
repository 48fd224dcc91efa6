"""The emulator finds what prompt/ writes only by the layout strings prompt/ exports.

Each test rewords those strings (and the text around them) through a real shell and the
emulator: the demo answers a user sees stay the same, so a prompt module's wording can change
without changing the example notebooks' outputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from routing_magics.prompt import frames, history
from tests.helpers import Harness, magic_harness

REWORDED_FRAME_TEXT = {
    "DATA_TITLE": "Table `{name}` —",
    "DATA_TITLE_UNNAMED": "Table —",
    "DATA_SHAPE": "{rows} records, {columns} fields",
    "COLUMNS_HEADING": "Fields:",
    "COLUMN_ENTRY": "{name}: {dtype}",
    "COLUMN_SEPARATOR": "; ",
    "CSV_OPEN": "~~~csv",
    "CSV_CLOSE": "~~~",
    "SHOWING_SOME": "The first {shown} of the {total} records follow.",
    "SHOWING_ALL": "All {total} records follow.",
}
REWORDED_HISTORY_TEXT = {
    "CELLS_HEADING": "Here are my notebook's {count} latest cells",
    "CELL_NAME": "In [{number}]",
    "FIX_CODE_HEADING": "The code:",
    "FIX_ERROR_HEADING": "What it raised:",
}
SALES = """import pandas as pd
sales = pd.DataFrame({
    "region": ["North", "South", "East", "West"] * 3,
    "units": [40 + (i * 37) % 61 for i in range(12)],
    "price": [9.5 + i * 0.25 for i in range(12)],
})"""
ASK = "%%route route/mistral-small-2503 --df sales --rows 5 -o answer\nWhat are the units like?"


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def sent(h: Harness) -> str:
    return h.chat_requests()[-1].body["messages"][-1]["content"]


def answer_text(h: Harness, cell: str) -> str:
    h.ok(cell)
    return str(h.shell.user_ns["answer"].text)


def test_table_facts_stay_when_the_frame_text_is_reworded(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.ok(SALES)
    before = answer_text(h, ASK)
    assert before.startswith("`sales` has 12 rows and 3 columns; 5 of them were shown")
    assert "| units | 40 | 90 | 65.2 |" in before
    for name, value in REWORDED_FRAME_TEXT.items():
        monkeypatch.setattr(frames, name, value)
    after = answer_text(h, ASK)
    text = sent(h)
    assert "Table `sales` — 12 records, 3 fields\nFields: region: " in text
    assert "; units: int64; price: float64\nThe first 5 of the 12 records follow.\n~~~csv" in text
    assert "rows ×" not in text and "```csv" not in text
    assert after == before


def test_cells_and_fix_answers_stay_when_their_requests_are_reworded(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in REWORDED_HISTORY_TEXT.items():
        monkeypatch.setattr(history, name, value)
    h.ok("rows = 3")
    h.run("total = 40 + rows\nprint(totl)")
    h.ok("%%route route/mistral-small-2503 --cells 2 -o answer\nWhy did it fail?")
    assert sent(h).startswith("Here are my notebook's 2 latest cells:\n\nIn [-2]:")
    assert "The notebook's last" not in sent(h) and "Cell [" not in sent(h)
    assert str(h.shell.user_ns["answer"].text) == (
        "I read 2 cells ([-2], [-1]). The failure is `NameError: name 'totl' is "
        "not defined`: Python stopped at the line the error names, so nothing after it ran. "
        "`%route fix` proposes a corrected cell."
    )
    h.ok("%route fix --apply")
    code = "total = 40 + rows\nprint(totl)"
    assert f"The code:\n```python\n{code}\n```\n\nWhat it raised:\n```\nNameError" in sent(h)
    assert h.shell.rl_next_input == "total = 40 + rows\nprint(total)"
