"""routing.run's streamed answers, pure (no I/O): SSE framing, then chunks → typed events.

We frame SSE ourselves rather than use httpx-sse, which drops a last event that lacks its blank
line and raises on a non-SSE content type before the body can be read.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from . import errors
from .events import ContentDelta, Event, ReasoningDelta, ToolCall, ToolCallDelta, Usage, UsageReport
from .wire import as_int, as_map, as_ms, as_text, excerpt, first_map, parse_usage

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


class StreamState:
    """What a stream has said so far; turns each chunk into events."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.provider: str | None = None
        self.latency_ms: int | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._tools: dict[int, list[str]] = {}  # index → [id, name, arguments]

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def tool_calls(self) -> list[ToolCall]:
        return [ToolCall(*self._tools[index]) for index in sorted(self._tools)]

    def events_for(self, message: SSEMessage, endpoint: str = "") -> list[Event]:
        """Events of one SSE message (not `[DONE]`); raises StreamError / ProtocolError."""
        chunk = self._decode(message.data, endpoint)
        if chunk.get("error") is not None or message.event == "error":
            raise self._stream_error(chunk.get("error", chunk), endpoint)
        self.model = as_text(chunk.get("model")) or self.model
        self.provider = as_text(chunk.get("provider")) or self.provider
        latency = as_ms(chunk.get("latency_ms"))
        self.latency_ms = self.latency_ms if latency is None else latency
        found = list(self._choice_events(first_map(chunk.get("choices"))))
        usage = parse_usage(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
            found.append(UsageReport(usage))
        return found

    def _choice_events(self, choice: Mapping[str, Any]) -> Iterator[Event]:
        self.finish_reason = as_text(choice.get("finish_reason")) or self.finish_reason
        delta = as_map(choice.get("delta"))
        reasoning = as_text(delta.get("reasoning_content")) or as_text(delta.get("reasoning"))
        if reasoning:
            self._reasoning.append(reasoning)
            yield ReasoningDelta(reasoning)
        content = as_text(delta.get("content"))
        if content:
            self._text.append(content)
            yield ContentDelta(content)
        calls = delta.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            yield self._tool_delta(position, as_map(call))

    def _tool_delta(self, position: int, call: Mapping[str, Any]) -> ToolCallDelta:
        function = as_map(call.get("function"))
        index = as_int(call.get("index", position))
        name, arguments = as_text(function.get("name")), as_text(function.get("arguments"))
        delta = ToolCallDelta(index, as_text(call.get("id")) or None, name or None, arguments)
        slot = self._tools.setdefault(index, ["", "", ""])
        slot[0], slot[1] = delta.id or slot[0], name or slot[1]
        slot[2] += arguments
        return delta

    def _decode(self, data: str, endpoint: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError:
            chunk = None
        if not isinstance(chunk, dict):
            raise errors.ProtocolError(
                f"the stream sent a chunk that is not a JSON object: {excerpt(data)!r}",
                partial_text=self.text,
                endpoint=endpoint,
            )
        return chunk

    def _stream_error(self, error: Any, endpoint: str) -> errors.StreamError:
        detail = as_map(error).get("message") if isinstance(error, Mapping) else error
        code = as_text(as_map(error).get("code")) or None
        return errors.StreamError(
            f"routing.run reported an error mid-answer: {excerpt(str(detail or 'no details'))}",
            code=code,
            partial_text=self.text,
            endpoint=endpoint,
        )
