"""`%route fix [--apply]`: the last failed cell and its compact error → the cause and a fix.

The answer streams like any other; `--apply` (or `--format code`) puts the corrected code into
a new cell below, never running it and never replacing the failed cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from IPython.core.error import UsageError

from ..prompt.history import fix_request
from ..run.options import RunOptions

if TYPE_CHECKING:
    from ..display.protocols import Format
    from .cells import CellLog


class FixingMagics(Protocol):
    """What `%route fix` uses of ui.magics.RouteMagics (named here to keep imports one-way)."""

    cells: CellLog
    max_tokens: int | None

    def ask(self, prompt: str, options: RunOptions, *, fmt: Format = ...) -> None: ...


FIX_SYSTEM = (
    "You help a Jupyter notebook user whose cell failed. First say in two or three sentences "
    "what caused the error. Then give the corrected cell, whole, as one ```python code block, "
    "changing only what the fix needs."
)
_APPLY = ({"--apply"}, {"--format", "code"})


def fix(magics: FixingMagics, rest: str) -> None:
    """Ask about the last failed cell, as a cell would (streamed, recorded, --format code)."""
    flags = set(rest.split())
    if flags and flags not in _APPLY:
        raise UsageError(f"%route fix: unknown option {rest.strip()}; use --apply or nothing")
    failed = magics.cells.last_failure
    if failed is None:
        raise UsageError("%route fix: no cell has failed since routing_magics was loaded")
    options = RunOptions(system=FIX_SYSTEM, max_tokens=magics.max_tokens)
    request = fix_request(failed.number, failed.code, failed.error or "")
    magics.ask(request, options, fmt="code" if flags else "markdown")
