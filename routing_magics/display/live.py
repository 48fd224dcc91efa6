"""The streaming live view: reasoning, the answer and the footer, drawn as they arrive.

The outputs a cell keeps (every `show()`, with the content it had when shown) depend on the
answer text alone, never on chunk timing, so nbval can replay a streamed cell:

    [placeholder][reasoning, collapsed][placeholder][part 1][placeholder][part 2]…[notice][footer]

A live handle is shown as an empty placeholder, updated while its part streams (nbval ignores
updates), and reset to the identical placeholder when that part is shown for good below it. The
answer is cut into parts of at least `freeze_chars` (1,200 by default) at markdown block
boundaries (blocks.BlockSplitter; a huge code fence is cut at line starts and each piece is
rendered as its own code block), so each update re-sends one part, not the whole answer, and
the total bytes stay O(n).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from .blocks import BlockSplitter, Part
from .protocols import Bundle, DisplayHandle, DisplaySink, Draft, ToolCallInfo
from .render import (
    FooterInfo,
    bundle,
    footer_html,
    footer_text,
    markdown_to_html,
    notice_html,
    reasoning_html,
)
from .toolblock import ToolBlocks

PLACEHOLDER: Bundle = {"text/plain": "", "text/html": ""}


def _reasoning_preview(text: str, window: int) -> str:
    """The last `window` characters of a long reasoning, so live updates stay small."""
    if len(text) <= window:
        return text
    return f"… ({len(text) - window:,} earlier characters)\n" + text[-window:]


def _reasoning_plain(text: str, tokens: int) -> str:
    return f"Reasoning ({tokens:,} tokens):\n{text}"


class LiveView:
    """Draws one answer into a notebook through `sink`; see the module docstring."""

    def __init__(
        self,
        sink: DisplaySink,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_updates_per_second: float = 15.0,
        max_update_bytes_per_second: float = 200_000,
        freeze_chars: int = 1200,
        stale_after: float = 0.5,
        renderer: Callable[[str], str] | None = None,
        reasoning_window: int = 2000,
    ) -> None:
        self.sent_bytes = 0
        self._sink = sink
        self._clock = clock
        self._interval = 1.0 / max_updates_per_second
        self._byte_rate = max_update_bytes_per_second
        self._render = renderer or markdown_to_html
        # The live tail leaves a still-open code fence unhighlighted: each piece is highlighted
        # once, when it is shown for good, not again on every update of the tail.
        self._render_tail = renderer or partial(markdown_to_html, live=True)
        self._reasoning_window = reasoning_window
        self._splitter = BlockSplitter(freeze_chars)
        self._live: DisplayHandle | None = None
        self._live_dirty = False  # the live handle shows something other than the placeholder
        self._pending = False
        self._next_update: float | None = None  # None: the next update goes at once
        self._stale_after = stale_after
        self._last_update = 0.0
        self._last_tail = 0  # length of the answer tail at its last update
        self._draft: Draft | None = None
        self._folded = (0, 0)  # characters and tokens of reasoning folded when the answer began
        self._answering = False
        self._finished = False
        self._tools = ToolBlocks(self._show, self._update, PLACEHOLDER)

    def reasoning(self, delta: str, draft: Draft) -> None:
        """A reasoning delta: grows the open reasoning view until the answer begins."""
        self._draft = draft
        if not delta or self._finished or self._answering:
            return  # reasoning after the answer began is shown under it at the end
        self._tools.collapse()  # a new step has begun
        self._open_live()
        self._changed(self._clock())

    def content(self, delta: str, draft: Draft) -> None:
        """An answer delta: completed parts are shown for good, the tail updates live."""
        self._draft = draft
        if not delta or self._finished:
            return
        force = False
        self._tools.collapse()
        if not self._answering:
            self._answering = True
            force = self._freeze_reasoning()
            self._open_live()
        for part in self._splitter.feed(delta):
            self._freeze_part(part)
        self._changed(self._clock(), force=force)

    def finish(
        self,
        footer: FooterInfo,
        *,
        notice: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Show the last part, clear the live handle, then the notice and the footer. Idempotent."""
        if self._finished:
            return
        self._finished = True
        self._tools.collapse()
        self._end_step()
        if notice:
            self._show(*bundle(notice, notice_html(notice)))
        self._show(*bundle(footer_text(footer), footer_html(footer), metadata))

    def tool_call(self, call: ToolCallInfo) -> None:
        """A tool call's block, open below what its step showed (see display.toolblock)."""
        if self._finished:
            return
        self._end_step()
        self._tools.draw(call)

    def _end_step(self) -> None:
        """Show for good what this step left (reasoning, last part, late reasoning); reset."""
        try:
            if not self._answering:
                self._freeze_reasoning()
            rest = self._splitter.finish()
            if rest.strip():
                self._show(*bundle(rest, self._render(rest.opener + rest)))
        finally:
            self._reset_live()
        draft = self._draft
        late = draft.reasoning[self._folded[0] :] if draft is not None else ""
        if draft is not None and late:
            count = draft.reasoning_tokens - self._folded[1]
            self._show(*bundle(_reasoning_plain(late, count), reasoning_html(late, open=False)))
        self._draft, self._answering, self._folded = None, False, (0, 0)
        self._next_update = None

    def _freeze_reasoning(self) -> bool:
        """Show the reasoning collapsed, for good; True if there was any."""
        draft = self._draft
        text = draft.reasoning if draft is not None else ""
        self._folded = (len(text), draft.reasoning_tokens if draft is not None else 0)
        if draft is None or not text:
            return False
        count, seconds = draft.reasoning_tokens, draft.reasoning_seconds
        html = reasoning_html(text, open=False, tokens=count, seconds=seconds)
        self._show(*bundle(_reasoning_plain(text, count), html))
        self._reset_live()
        return True

    def _freeze_part(self, part: Part) -> None:
        """Show a finished part for good below the live handle, then continue in a new one."""
        self._show(*bundle(part, self._render(part.opener + part)))
        self._reset_live()
        self._open_live()

    def _changed(self, now: float, *, force: bool = False) -> None:
        """Note a change; draw it if the first, forced, or the throttle interval has passed."""
        self._pending = True
        if force or self._due(now):
            self._flush(now)

    def _due(self, now: float) -> bool:
        """Throttle, then (answer tail only) wait until it has doubled or gone stale.

        Doubling keeps the bytes of one part's updates under twice its size, so parts can be
        large — few displays a second — while the total stays O(n); the staleness bound keeps
        slow streams moving.
        """
        if self._next_update is None:
            return True
        if now < self._next_update:
            return False
        if not self._answering:
            return True
        grown = len(self._splitter.tail) >= 2 * self._last_tail
        return grown or now >= self._last_update + self._stale_after

    def _flush(self, now: float) -> None:
        if self._live is None or not self._pending:
            return
        self._pending = False
        data = self._live_data()
        # One huge block (a long code fence) is re-sent whole on every update: space those
        # updates out so the live view stays far below jupyter_server's iopub data rate limit.
        self._next_update = now + max(self._interval, _size(data) / self._byte_rate)
        self._last_update = now
        self._last_tail = len(self._splitter.tail) if self._answering else 0
        self._live_dirty = True  # before the call: an interrupt inside it must still reset
        self._update(self._live, data)

    def _live_data(self) -> Bundle:
        if self._answering or self._draft is None:
            tail = self._splitter.tail
            return {
                "text/plain": tail,
                "text/html": self._render_tail(self._splitter.tail_opener + tail),
            }
        text = _reasoning_preview(self._draft.reasoning, self._reasoning_window)
        count = self._draft.reasoning_tokens
        html = reasoning_html(text, open=True, tokens=count)
        return {"text/plain": _reasoning_plain(text, count), "text/html": html}

    def _open_live(self) -> None:
        if self._live is None:
            self._live = self._show(dict(PLACEHOLDER))
            self._live_dirty = False
            self._last_tail = 0

    def _reset_live(self) -> None:
        live, self._live = self._live, None
        if live is not None and self._live_dirty:
            self._live_dirty = False
            self._update(live, dict(PLACEHOLDER))

    def _show(self, data: Bundle, metadata: dict[str, Any] | None = None) -> DisplayHandle:
        self.sent_bytes += _size(data)
        return self._sink.show(data, metadata)

    def _update(self, handle: DisplayHandle, data: Bundle) -> None:
        self.sent_bytes += _size(data)
        handle.update(data)


def _size(data: Bundle) -> int:
    return sum(len(value.encode("utf-8")) for value in data.values())
