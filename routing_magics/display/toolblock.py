"""A tool call's block: `rows_where(city="Oslo") → 17` in a `<details>`, escaped.

While its step lasts a block sits on a live handle, open, and is updated as the call runs;
once the next step starts the handle goes back to the empty placeholder and the block is shown
again, collapsed, as a display of its own (what nbval replays and the notebook keeps).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from .protocols import Bundle, DisplayHandle, ToolCallInfo

SUMMARY_CHARS = 80

_VERB = {"running": "running…", "done": "→", "failed": "raised", "declined": "not run:"}


def short(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first line of `text`, cut to `limit` characters."""
    first = text.strip().split("\n", 1)[0]
    cut = first if len(first) <= limit else first[: limit - 1] + "…"
    return cut + (" …" if cut == first and first != text.strip() else "")


def tool_plain(call: ToolCallInfo) -> str:
    if call.state == "running":
        return f"{call.label} {_VERB['running']}"
    return f"{call.label} {_VERB[call.state]} {call.result}"


def tool_html(call: ToolCallInfo, *, open: bool) -> str:
    """The block as escaped HTML: the call and a short result in the summary, all of it inside."""
    head = f"<code>{escape(call.label)}</code> {escape(_VERB[call.state])}"
    if call.state != "running":
        head += f" <code>{escape(short(call.result))}</code>"
    body = escape(call.result) if call.state != "running" else ""
    color = "color:var(--jp-error-color1,#c00);" if call.state == "failed" else ""
    return (
        f'<details class="routing-magics-tool routing-magics-tool-{call.state}"'
        f"{' open' if open else ''}><summary>{head}</summary>"
        f'<pre style="white-space:pre-wrap;{color}font-size:0.9em">{body}</pre></details>'
    )


def tool_bundle(call: ToolCallInfo, *, open: bool) -> Bundle:
    return {"text/plain": tool_plain(call), "text/html": tool_html(call, open=open)}


class ToolBlocks:
    """The open blocks of one step, drawn through the live view's show/update."""

    def __init__(
        self,
        show: Callable[[Bundle], DisplayHandle],
        update: Callable[[DisplayHandle, Bundle], None],
        placeholder: Bundle,
    ) -> None:
        self._show = show
        self._update = update
        self._placeholder = placeholder
        self._open: dict[int, tuple[DisplayHandle, ToolCallInfo]] = {}

    def draw(self, call: ToolCallInfo) -> None:
        """Show the call open (first time) or update its block; an earlier step's close."""
        if any(shown.step != call.step for _, shown in self._open.values()):
            self.collapse()
        if call.index not in self._open:
            handle = self._show(dict(self._placeholder))
            self._open[call.index] = (handle, call)
        handle = self._open[call.index][0]
        self._open[call.index] = (handle, call)
        self._update(handle, tool_bundle(call, open=True))

    def collapse(self) -> None:
        """Each open block back to the placeholder, then shown collapsed for good."""
        opened, self._open = self._open, {}
        for handle, _ in opened.values():
            self._update(handle, dict(self._placeholder))
        for _, call in opened.values():
            self._show(tool_bundle(call, open=False))
