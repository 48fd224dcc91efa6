"""The flows a guarantee is checked over, as a notebook user runs them: one cell, the answers
cache (twice, so the second is a hit), a batch over a frame, a tool loop, a structured
answer (`--schema`, asked through the forced tool), two models compared in one cell, and a
cell and a batch run as background jobs (each followed by `%route wait`, which shows what the
job drew while it waited).

`SETUP` is the notebook's own code (a frame, a tool); `run_flow` runs a flow's cells and
`answers` reads what its `-o out` bound, as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from routing_magics.emulator import Emulator
from tests.helpers import Cell, Harness

MODEL = "route/mistral-small-2503"
OTHER = "route/glm-5"  # the second model of a comparison
FLOWS = (
    "single", "cache", "each", "tools", "schema", "compare", "compare-each", "background",
    "background-each",
)  # fmt: skip

SETUP = '''
import pandas as pd
frame = pd.DataFrame({"text": ["alpha", "beta", "gamma"]}, index=[1, 2, 3])

def weather(city: str) -> str:
    """The weather in `city`."""
    return f"sunny in {city}"
'''

#: Each flow's cells; the cache flow runs its cell twice, so the second answers from the cache.
CELLS: dict[str, list[str]] = {
    "single": [f"%%route {MODEL} -o out\necho: the single answer"],
    "cache": [f"%%route {MODEL} --cache -o out\necho: the cached answer"] * 2,
    "each": [f"%%route {MODEL} --each frame -o out\necho: row {{text}}"],
    "tools": [f"%%route {MODEL} --tools weather -o out\nWhat is the weather in Oslo?"],
    "schema": [f'%%route {MODEL} --schema "answer str" -o out\necho: the structured answer'],
    "compare": [f"%%route {MODEL},{OTHER} -o out\necho: the compared answer"],
    "compare-each": [f"%%route {MODEL},{OTHER} --each frame -o out\necho: row {{text}}"],
    "background": [
        f"%%route {MODEL} --background -o out\necho: the background answer",
        "%route wait",
    ],
    "background-each": [
        f"%%route {MODEL} --background --each frame -o out\necho: row {{text}}",
        "%route wait",
    ],
}
#: A piece of each flow's answer, as `answers` reads it.
EXPECTED = {
    "single": "the single answer",
    "cache": "the cached answer",
    "each": "row alpha\nrow beta\nrow gamma",
    "tools": "sunny in Oslo",
    "schema": "the structured answer",
    "compare": "the compared answer\nthe compared answer",
    "compare-each": "row alpha\nrow beta\nrow gamma\nrow alpha\nrow beta\nrow gamma",
    "background": "the background answer",
    "background-each": "row alpha\nrow beta\nrow gamma",
}
#: Words the line about a ledger that cannot be written starts with (the single cell's wording).
UNRECORDED = "usage could not be recorded"


def setup(h: Harness) -> Harness:
    h.emu.per_minute_limit = 6000
    h.ok(SETUP)
    return h


def run_flow(h: Harness, flow: str) -> list[Cell]:
    """Run the flow's cells (failures are the caller's to check)."""
    return [h.run(source) for source in CELLS[flow]]


def answers(h: Harness, name: str = "out") -> str:
    """What `-o name` bound, as text: a result's str, or a batch's answers one per line."""
    value: Any = h.shell.user_ns[name]
    if getattr(value, "data", None) is not None:  # a structured answer: its object
        return str(value.data)
    if hasattr(value, "columns"):  # every row to every model: a column each, one after another
        return "\n".join("" if v is None else str(v) for c in value.columns for v in value[c])
    if isinstance(value, Mapping):  # a comparison: each model's answer
        return "\n".join(str(v) for v in value.values())
    if hasattr(value, "tolist"):
        return "\n".join("" if v is None else str(v) for v in value.tolist())
    return str(value)


def visible(cell: Cell) -> str:
    """Everything a notebook keeps of a cell, as text: outputs, stdout, stderr."""
    return "\n".join((cell.final_plain(), cell.stdout, cell.stderr))


def lines_saying(cells: list[Cell], words: str) -> list[str]:
    return [line for cell in cells for line in visible(cell).splitlines() if words in line]


def assert_no_traceback(cells: list[Cell]) -> None:
    for cell in cells:
        assert cell.error is None, f"{type(cell.error).__name__}: {cell.error}\n{cell.stderr}"
        assert "Traceback" not in visible(cell), visible(cell)


def chats(emu: Emulator) -> list[Any]:
    """The chat requests `emu` received."""
    return [r for r in emu.requests if r.path == "/v1/chat/completions"]


def chat_count(h: Harness) -> int:
    return len(chats(h.emu))


def ledger_files(db: Path) -> list[Path]:
    """The ledger's file and SQLite's companions beside it, those that exist."""
    names = [db.name + suffix for suffix in ("", "-wal", "-shm", "-journal")]
    return [db.with_name(name) for name in names if db.with_name(name).is_file()]
