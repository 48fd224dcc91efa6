"""Several answers side by side in one output (`%%route route/a,route/b`): a column per model.

Each model streams on its own thread into its `ColumnView`, which only notes what arrived (under
the board's lock); the kernel's main thread draws (`ColumnBoard.tick`), so no display message
is sent from a worker thread. The outputs a cell keeps follow live.py's pattern:

    [placeholder][every column, finished][the figures table, shown by the caller]

The placeholder is one live display, updated while the answers stream and reset to itself at
the end, so nbval replays exactly what the notebook keeps. Live, each column shows its newest
part only (blocks.BlockSplitter cuts parts at markdown block boundaries), preceded by how many
characters came before it: every update is bounded in size whatever the answers' length, and
an update needs a new delta, so the bytes sent stay O(n) in the answers' length. The finished
grid renders each whole answer once. Columns sit side by side while each can be `MIN_WIDTH`
wide (CSS grid, auto-fit) and stack when the output is narrower.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from . import styles
from .blocks import BlockSplitter
from .live import PLACEHOLDER  # the same empty display a live view starts from
from .protocols import Bundle, DisplayHandle, DisplaySink, Draft, FooterInfo, ToolCallInfo
from .render import (
    escape,
    footer_html,
    footer_text,
    markdown_to_html,
    notice_html,
    reasoning_html,
)

#: The narrowest a column gets before the columns stack.
MIN_WIDTH = "17em"
GRID = (
    f"display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,{MIN_WIDTH}),1fr));"
    "gap:0.5em 1.5em;align-items:start"
)
#: A long word or URL wraps inside its column; a table keeps its words (it scrolls instead).
COLUMN = (
    "min-width:0;overflow-wrap:break-word;padding-top:0.25em;"
    "border-top:2px solid var(--jp-border-color2,rgba(127,127,127,0.35))"
)
HEADING = "font-weight:bold;margin-bottom:0.25em"
ERROR = "border-left:3px solid var(--jp-error-color1,#d32f2f);padding-left:0.5em;margin:0.25em 0"


class ColumnView:
    """One model's column: a `View` its thread draws on; it notes, the board draws."""

    def __init__(self, board: ColumnBoard, model: str, freeze_chars: int) -> None:
        self.model = model
        self._board = board
        self._splitter = BlockSplitter(freeze_chars)
        self.parts: list[str] = []  # the answer's finished parts, in order
        self.earlier = 0  # characters in `parts`
        self.draft: Draft | None = None
        self.ttft_ms: int | None = None
        self.footer: FooterInfo | None = None
        self.notice: str | None = None
        self.error: str | None = None

    @property
    def text(self) -> str:
        """Everything the answer streamed so far."""
        return "".join(self.parts) + self._splitter.tail

    @property
    def tail(self) -> tuple[str, str]:
        """The part still streaming and the fence line it continues."""
        return self._splitter.tail, self._splitter.tail_opener

    def reasoning(self, delta: str, draft: Draft) -> None:
        with self._board.lock:
            self._seen(draft)

    def content(self, delta: str, draft: Draft) -> None:
        with self._board.lock:
            self._seen(draft)
            for part in self._splitter.feed(delta):
                self.parts.append(part)
                self.earlier += len(part)

    def tool_call(self, call: ToolCallInfo) -> None:
        """Several models never run tools (ui/compare.py refuses --tools)."""

    def finish(
        self, footer: FooterInfo, *, notice: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Keep the footer without the notebook's totals: they depend on which model ended
        first, so the figures table says them once for all."""
        cost = footer.cost and replace(footer.cost, notebook_usd=None, notebook_partial=False)
        with self._board.lock:
            self.footer = replace(footer, notebook_total_tokens=None, cost=cost)
            self.notice = notice
            self._board.dirty = True

    def _seen(self, draft: Draft) -> None:
        self.draft = draft
        ttft = getattr(draft, "ttft_ms", None)
        self.ttft_ms = ttft if self.ttft_ms is None else self.ttft_ms
        self._board.dirty = True


class ColumnBoard:
    """The columns of one cell and the one live display they share (see the module docstring)."""

    def __init__(
        self,
        sink: DisplaySink,
        *,
        renderer: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_updates_per_second: float = 4.0,
        freeze_chars: int = 600,
        reasoning_window: int = 600,
    ) -> None:
        self.lock = threading.Lock()
        self.dirty = False
        self.sent_bytes = 0
        self.columns: list[ColumnView] = []
        self._sink, self._clock = sink, clock
        self._interval = 1.0 / max_updates_per_second
        self._render = renderer or markdown_to_html
        self._render_tail = renderer or (lambda text: markdown_to_html(text, live=True))
        self._freeze, self._window = freeze_chars, reasoning_window
        self._live: DisplayHandle | None = None
        self._next = 0.0

    def column(self, model: str) -> ColumnView:
        view = ColumnView(self, model, self._freeze)
        self.columns.append(view)
        return view

    def start(self) -> None:
        """Show the placeholder the columns stream into (main thread)."""
        self._live = self._show(dict(PLACEHOLDER))

    def tick(self) -> None:
        """Draw what arrived since the last update, at most `max_updates_per_second`."""
        now = self._clock()
        if self._live is None or now < self._next:
            return
        with self.lock:
            if not self.dirty:
                return
            self.dirty = False
            data = self._bundle(live=True)
        self._next = now + self._interval
        self._update(self._live, data)

    def close(self, failures: Mapping[str, str]) -> None:
        """Reset the placeholder and show every column, finished, for good; a failed model's
        column says why under what it answered."""
        for column in self.columns:
            column.error = failures.get(column.model)
        live, self._live = self._live, None
        try:
            if live is not None:
                self._update(live, dict(PLACEHOLDER))
        finally:
            with self.lock:
                data = self._bundle(live=False)
            self._show(data)

    def _bundle(self, *, live: bool) -> Bundle:
        cells = [self._column_html(c, live) for c in self.columns]
        html = "".join(f'<section class="routing-magics-column" style="{COLUMN}">{cell}</section>'
                       for cell in cells)  # fmt: skip
        text = "\n\n".join(_column_text(c, live) for c in self.columns)
        return {
            "text/plain": text,
            "text/html": f'<div class="routing-magics-compare" style="{GRID}">{html}</div>',
        }

    def _column_html(self, column: ColumnView, live: bool) -> str:
        parts = [
            f'<div class="routing-magics-model" style="{HEADING}">{escape(column.model)}</div>'
        ]
        draft = column.draft
        text = column.text
        if draft is not None and draft.reasoning and (not live or not text):
            parts.append(self._reasoning(draft, open_=live and not text))
        if live and text:
            tail, opener = column.tail
            if column.earlier:
                said = f"… {column.earlier:,} characters above, shown when all have finished"
                parts.append(f'<div style="{styles.FOOTER}">{escape(said)}</div>')
            parts.append(self._render_tail(opener + tail) if tail.strip() else "")
        elif text.strip():
            parts.append(self._render(text))
        elif live and draft is None:
            parts.append(f'<div style="{styles.FOOTER}">waiting for the first token…</div>')
        if column.notice and not live:
            parts.append(notice_html(column.notice))
        if column.error:
            parts.append(f'<div class="routing-magics-error" style="{ERROR}">'
                         f"{escape(column.error)}</div>")  # fmt: skip
        if column.footer is not None:
            parts.append(footer_html(column.footer))
        return "".join(parts)

    def _reasoning(self, draft: Draft, *, open_: bool) -> str:
        text, count = draft.reasoning, draft.reasoning_tokens
        if open_:
            if len(text) > self._window:
                text = (
                    f"… ({len(text) - self._window:,} earlier characters)\n" + text[-self._window :]
                )
            return reasoning_html(text, open=True, tokens=count)
        return reasoning_html(text, open=False, tokens=count, seconds=draft.reasoning_seconds)

    def _show(self, data: Bundle) -> DisplayHandle:
        self.sent_bytes += _size(data)
        return self._sink.show(data)

    def _update(self, handle: DisplayHandle, data: Bundle) -> None:
        self.sent_bytes += _size(data)
        handle.update(data)


def _column_text(column: ColumnView, live: bool) -> str:
    """A column as plain text: the model, the answer (live: its newest part), error, footer."""
    lines = [f"── {column.model} ──"]
    text = column.tail[0] if live else column.text
    lines += [text.strip()] if text.strip() else []
    lines += [line for line in (column.notice if not live else None, column.error) if line]
    if column.footer is not None:
        lines.append(footer_text(column.footer))
    return "\n".join(lines)


def _size(data: Bundle) -> int:
    return sum(len(value.encode("utf-8")) for value in data.values())
