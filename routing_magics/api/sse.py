"""Server-sent events framing, pure (no I/O, no meaning): bytes in any split → messages.

We frame SSE ourselves rather than use httpx-sse, which drops a last event that lacks its blank
line and raises on a non-SSE content type before the body can be read. What a message means is
wire.StreamState's job.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from . import errors

DONE = "[DONE]"
_LINE_END = re.compile(r"\r\n|\r|\n")
#: The longest line or message we accept, in characters: real chunks are a few KB, so this only
#: stops a server that sends megabytes without a line break.
MAX_LINE_CHARS = 4 * 1024 * 1024


class SSEMessage(NamedTuple):
    event: str
    data: str


class SSEDecoder:
    """Incremental SSE framing: bytes in any split → complete messages (CRLF/CR/LF, comments).

    Linear in the bytes fed: each piece of text is scanned for line ends once, and an unfinished
    line is kept as a list of pieces, joined once when its end arrives. A line or a message longer
    than `max_chars` raises errors.ProtocolError.
    """

    def __init__(self, max_chars: int = MAX_LINE_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max = max_chars
        self._partial: list[str] = []  # the unfinished line, in pieces
        self._partial_len = 0
        self._event = ""
        self._data: list[str] = []
        self._data_len = 0
        self._at_start = True

    def feed(self, chunk: bytes) -> list[SSEMessage]:
        text = self._decoder.decode(chunk)
        if self._at_start and text:
            text = text.removeprefix("\ufeff")
            self._at_start = False
        return self._drain(text, final=False)

    def flush(self) -> list[SSEMessage]:
        """End of body: dispatch a last message even without its blank line."""
        messages = self._drain(self._decoder.decode(b"", final=True), final=True)
        if self._partial:
            self._take_line(self._joined(""), messages)
        self._take_line("", messages)
        return messages

    def _drain(self, text: str, *, final: bool) -> list[SSEMessage]:
        messages: list[SSEMessage] = []
        if not text:
            return messages
        if self._partial and self._partial[-1].endswith("\r") and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across reads: the line already ended
        start = 0
        for match in _LINE_END.finditer(text):
            # A CR at the very end may be the first half of a CRLF split across reads.
            if not final and match.group() == "\r" and match.end() == len(text):
                self._take_line(self._joined(text[start : match.start()]), messages)
                self._partial, self._partial_len = ["\r"], 0  # marks "a line just ended"
                return messages
            self._take_line(self._joined(text[start : match.start()]), messages)
            start = match.end()
        if self._partial == ["\r"]:
            self._partial = []
        rest = text[start:]
        if rest:
            self._partial.append(rest)
            self._partial_len += len(rest)
            self._check(self._partial_len, "line")
        return messages

    def _joined(self, tail: str) -> str:
        """The unfinished line so far plus `tail`; the line is then finished."""
        parts = [p for p in self._partial if p != "\r"]
        self._partial, self._partial_len = [], 0
        return "".join(parts) + tail if parts else tail

    def _check(self, length: int, what: str) -> None:
        if length > self._max:
            raise errors.ProtocolError(
                f"the stream sent a {what} of more than {self._max:,} characters without "
                "ending it; stopped reading"
            )

    def _take_line(self, line: str, messages: list[SSEMessage]) -> None:
        self._check(len(line), "line")
        if not line:
            if self._data:
                messages.append(SSEMessage(self._event or "message", "\n".join(self._data)))
            self._event, self._data, self._data_len = "", [], 0
            return
        if line.startswith(":"):
            return  # comment, e.g. ": keep-alive"
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
            self._data_len += len(value) + 1
            self._check(self._data_len, "message")
        elif name == "event":
            self._event = value
