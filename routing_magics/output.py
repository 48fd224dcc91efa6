"""Where answers go in IPython: the display sink for the live view, and --format follow-ups."""

from __future__ import annotations

import json
from typing import Any

from . import errors
from .events import Completion


class IPythonHandle:
    """A display that can be replaced in place (update_display_data)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def update(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> None:
        self._handle.update(data, raw=True, metadata=metadata or {})


class IPythonSink:
    """live.DisplaySink over IPython.display: every show() is a new display_data."""

    def show(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> IPythonHandle:
        from IPython.display import display

        return IPythonHandle(display(data, raw=True, metadata=metadata or {}, display_id=True))


def is_rich(shell: Any, mode: str) -> bool:
    """HTML when a Jupyter frontend is attached (a kernel), text in terminal IPython."""
    if mode != "auto":
        return mode == "rich"
    return getattr(shell, "kernel", None) is not None


def make_view(shell: Any, mode: str, fmt: str = "markdown") -> Any:
    """The live view for one answer: HTML in a notebook, printed text in a terminal."""
    from .live import LiveView, TextView

    if not is_rich(shell, mode):
        return TextView()
    if fmt in ("text", "json"):
        return LiveView(IPythonSink(), renderer=_preformatted)
    return LiveView(IPythonSink())


def _preformatted(text: str) -> str:
    from .render import escape

    return f'<pre class="routing-magics-text">{escape(text)}</pre>'


def extract_code(text: str) -> str:
    """The fenced code blocks of an answer, joined; the whole answer if it has none."""
    from .render import code_blocks

    blocks = [block.rstrip("\n") for block in code_blocks(text)]
    return "\n\n".join(blocks) if blocks else text.strip()


def apply_format(shell: Any, done: Completion, fmt: str) -> None:
    """--format code: the code goes into a new cell below; json: the answer must parse."""
    if fmt == "code" and done.text.strip():
        shell.set_next_input(extract_code(done.text), replace=False)
    elif fmt == "json":
        try:
            json.loads(extract_code(done.text))
        except ValueError as exc:
            raise errors.ProtocolError(
                f"the answer is not valid JSON ({exc})",
                hint="ask for JSON only in the prompt, or use --format text",
                code="NOT_JSON",
            ) from None
