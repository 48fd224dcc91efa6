"""Server-sent events framing, pure (no I/O, no meaning): bytes in any split → messages.

We frame SSE ourselves rather than use httpx-sse, which drops a last event that lacks its blank
line and raises on a non-SSE content type before the body can be read. What a message means is
wire.StreamState's job.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

DONE = "[DONE]"
_LINE_END = re.compile(r"\r\n|\r|\n")


class SSEMessage(NamedTuple):
    event: str
    data: str


class SSEDecoder:
    """Incremental SSE framing: bytes in any split → complete messages (CRLF/CR/LF, comments)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._event = ""
        self._data: list[str] = []
        self._at_start = True

    def feed(self, chunk: bytes) -> list[SSEMessage]:
        self._pending += self._decoder.decode(chunk)
        if self._at_start and self._pending:
            self._pending = self._pending.removeprefix("\ufeff")
            self._at_start = False
        return self._drain(final=False)

    def flush(self) -> list[SSEMessage]:
        """End of body: dispatch a last message even without its blank line."""
        self._pending += self._decoder.decode(b"", final=True)
        messages = self._drain(final=True)
        if self._pending:
            self._take_line(self._pending, messages)
            self._pending = ""
        self._take_line("", messages)
        return messages

    def _drain(self, *, final: bool) -> list[SSEMessage]:
        messages: list[SSEMessage] = []
        pending, start = self._pending, 0
        for match in _LINE_END.finditer(pending):
            # A CR at the very end may be the first half of a CRLF split across reads.
            if not final and match.group() == "\r" and match.end() == len(pending):
                break
            self._take_line(pending[start : match.start()], messages)
            start = match.end()
        self._pending = pending[start:]
        return messages

    def _take_line(self, line: str, messages: list[SSEMessage]) -> None:
        if not line:
            if self._data:
                messages.append(SSEMessage(self._event or "message", "\n".join(self._data)))
            self._event, self._data = "", []
            return
        if line.startswith(":"):
            return  # comment, e.g. ": keep-alive"
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
