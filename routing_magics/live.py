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

import re
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from .blocks import BlockSplitter, Part
from .prompt import estimate_tokens
from .render import (
    FooterInfo,
    bundle,
    footer_html,
    footer_text,
    markdown_to_html,
    notice_html,
    reasoning_html,
)

PLACEHOLDER: dict[str, str] = {"text/plain": "", "text/html": ""}

# Terminal control sequences in model text could repaint the user's terminal: drop them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class DisplayHandle(Protocol):
    def update(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> None: ...


class DisplaySink(Protocol):
    def show(
        self, data: dict[str, str], metadata: dict[str, Any] | None = None
    ) -> DisplayHandle: ...


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
        self._reasoning_window = reasoning_window
        self._splitter = BlockSplitter(freeze_chars)
        self._live: DisplayHandle | None = None
        self._live_dirty = False  # the live handle shows something other than the placeholder
        self._pending = False
        self._next_update: float | None = None  # None: the next update goes at once
        self._stale_after = stale_after
        self._last_update = 0.0
        self._last_tail = 0  # length of the answer tail at its last update
        self._reasoning: list[str] = []
        self._reasoning_span = (0.0, 0.0)  # clock at the first and the last reasoning delta
        self._late_reasoning: list[str] = []  # reasoning that came after the answer began
        self._answering = False
        self._finished = False

    def reasoning(self, text: str) -> None:
        """A reasoning delta: grows the open reasoning view until the answer begins."""
        if not text or self._finished:
            return
        if self._answering:
            self._late_reasoning.append(text)
            return
        now = self._clock()
        first = self._reasoning_span[0] if self._reasoning else now
        self._reasoning_span = (first, now)
        self._reasoning.append(text)
        self._open_live()
        self._changed(now)

    def content(self, text: str) -> None:
        """An answer delta: completed parts are shown for good, the tail updates live."""
        if not text or self._finished:
            return
        force = False
        if not self._answering:
            self._answering = True
            force = self._freeze_reasoning()
            self._open_live()
        for part in self._splitter.feed(text):
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
        try:
            if not self._answering:
                self._freeze_reasoning()
            rest = self._splitter.finish()
            if rest.strip():
                self._show(*bundle(rest, self._render(rest.opener + rest)))
        finally:
            self._reset_live()
        if self._late_reasoning:
            late = "".join(self._late_reasoning)
            count = len(self._late_reasoning)
            self._show(*bundle(_reasoning_plain(late, count), reasoning_html(late, open=False)))
        if notice:
            self._show(*bundle(notice, notice_html(notice)))
        self._show(*bundle(footer_text(footer), footer_html(footer), metadata))

    def _freeze_reasoning(self) -> bool:
        """Show the reasoning collapsed, for good; True if there was any."""
        if not self._reasoning:
            return False
        text = "".join(self._reasoning)
        count = len(self._reasoning)
        seconds: float | None = self._reasoning_span[1] - self._reasoning_span[0]
        if count == 1:  # one block (--no-stream): estimate its tokens, no thinking time to tell
            count, seconds = estimate_tokens(text), None
        html = reasoning_html(text, open=False, tokens=count, seconds=seconds)
        self._show(*bundle(_reasoning_plain(text, count), html))
        self._reasoning.clear()
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

    def _live_data(self) -> dict[str, str]:
        if self._answering:
            tail = self._splitter.tail
            return {
                "text/plain": tail,
                "text/html": self._render(self._splitter.tail_opener + tail),
            }
        text = _reasoning_preview("".join(self._reasoning), self._reasoning_window)
        count = len(self._reasoning)
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

    def _show(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> DisplayHandle:
        self.sent_bytes += _size(data)
        return self._sink.show(data, metadata)

    def _update(self, handle: DisplayHandle, data: dict[str, str]) -> None:
        self.sent_bytes += _size(data)
        handle.update(data)


def _size(data: dict[str, str]) -> int:
    return sum(len(value.encode("utf-8")) for value in data.values())


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)  # looked up per call: IPython swaps sys.stdout
    sys.stdout.flush()


class TextView:
    """The terminal view: prints deltas as they arrive, then the notice and the footer line."""

    def __init__(
        self, write: Callable[[str], Any] | None = None, *, show_reasoning: bool = True
    ) -> None:
        self._write = write or _write_stdout
        self._show_reasoning = show_reasoning
        self._state = "idle"  # idle → reasoning → answer → finished
        self._last_char = "\n"

    def reasoning(self, text: str) -> None:
        if not text or self._state in ("answer", "finished") or not self._show_reasoning:
            return
        if self._state == "idle":
            self._emit("Reasoning:\n")
        self._state = "reasoning"
        self._emit(text)

    def content(self, text: str) -> None:
        if not text or self._state == "finished":
            return
        if self._state == "reasoning":
            self._emit(("\n" if self._last_char != "\n" else "") + "\nAnswer:\n")
        self._state = "answer"
        self._emit(text)

    def finish(
        self,
        footer: FooterInfo,
        *,
        notice: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if self._state == "finished":
            return
        self._state = "finished"
        if self._last_char != "\n":
            self._emit("\n")
        if notice:
            self._emit(f"{notice}\n")
        self._emit(f"[{footer_text(footer)}]\n")

    def _emit(self, text: str) -> None:
        text = _CONTROL.sub("", text)
        if text:
            self._last_char = text[-1]
            self._write(text)
