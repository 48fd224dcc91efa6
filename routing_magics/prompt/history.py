"""Notebook history in a prompt (pure): `{In[n]}`, `{Out[n]}`, `{Err[n]}`, `--cells N` and the
failed cell that `%route fix` sends.

The shell (ui/cells.py) knows the notebook; this module only receives what it found: a lookup
for `{In[n]}`-style placeholders (filled in prepare.interpolate's single pass) and the last
cells as text, fitted here to a character budget, newest first when it must cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

#: Which history a placeholder reads: a cell's code, its result, or its error.
HistoryKind = Literal["In", "Out", "Err"]
#: `{In[3]}` → the text to put there, or None to leave the placeholder as written.
HistoryLookup = Callable[[HistoryKind, int], str | None]

CELL_CHARS = 6_000  # one cell's code or output beyond this is cut, with a note

# The layout of `--cells` context and of `%route fix`'s request, written once here: the
# emulator's answers (emulator/fixes.py) find both by these very strings.
#: Opens the `--cells` context; a note on cells left out, then a colon, may follow.
CELLS_HEADING = "The notebook's last {count} cells, oldest first"
#: Names a numbered cell: before its code (with a colon) and in the fix request.
CELL_NAME = "Cell [{number}]"
#: The fix request's headings, each followed by a fenced block: the code, then the error.
FIX_CODE_HEADING = "Code:"
FIX_ERROR_HEADING = "Error:"


@dataclass(frozen=True)
class CellText:
    """One earlier cell: its number, code, and text outputs (stdout, result, error, named
    images and widgets), as the shell recorded them."""

    number: int | None
    code: str
    output: str = ""


@dataclass(frozen=True)
class NotebookContext:
    """What a prompt may use from the notebook: the placeholder lookup and `--cells` cells."""

    lookup: HistoryLookup | None = None
    cells: tuple[CellText, ...] = ()


def _cut(text: str, limit: int = CELL_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… (cut: {len(text):,} characters in all)"


def _fenced(text: str, info: str = "") -> str:
    """`text` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def cell_block(cell: CellText) -> str:
    """One cell as the model reads it: its code fenced, then what it printed or raised."""
    name = CELL_NAME.format(number=cell.number) if cell.number is not None else "Cell"
    block = f"{name}:\n{_fenced(_cut(cell.code.strip()), 'python')}"
    output = cell.output.strip()
    return block + (f"\nOutput:\n{_fenced(_cut(output))}" if output else "\n(no output)")


def cells_context(cells: Sequence[CellText], max_chars: int) -> str:
    """The cells, oldest first, as many of the newest as fit `max_chars`; '' for none."""
    blocks: list[str] = []
    used = 0
    for cell in reversed(cells):
        block = cell_block(cell)
        if used + len(block) + 2 > max_chars:
            break
        blocks.insert(0, block)
        used += len(block) + 2
    if not blocks:
        return ""
    left_out = len(cells) - len(blocks)
    head = CELLS_HEADING.format(count=len(blocks))
    if left_out:
        head += f" ({left_out} older left out to fit the context)"
    return head + ":\n\n" + "\n\n".join(blocks)


def fix_request(number: int | None, code: str, error: str) -> str:
    """`%route fix`'s request: the failed cell's code and its compact error, each fenced."""
    name = CELL_NAME.format(number=number) if number is not None else "This cell"
    return (
        f"{name} of my notebook failed.\n\n{FIX_CODE_HEADING}\n```python\n{code.strip()}\n```\n\n"
        f"{FIX_ERROR_HEADING}\n```\n{error}\n```\n\n"
        "What caused it, and what is the corrected cell?"
    )
