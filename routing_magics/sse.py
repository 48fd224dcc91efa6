"""routing.run's wire format, pure (no I/O): request bodies, SSE framing, chunks → events,
whole completions, and error bodies → errors.

We frame SSE ourselves rather than use httpx-sse, which drops a last event that lacks its blank
line and raises on a non-SSE content type before the body can be read.
"""

from __future__ import annotations

import codecs
import email.utils
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

from . import errors
from .catalog import Catalog
from .events import (
    Completion,
    ContentDelta,
    Event,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageReport,
)

DONE = "[DONE]"
_LINE_END = re.compile(r"\r\n|\r|\n")
EXCERPT_CHARS = 200


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


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    prompt, completion = _int(raw.get("prompt_tokens")), _int(raw.get("completion_tokens"))
    return Usage(prompt, completion, _int(raw.get("total_tokens")) or prompt + completion)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _ms(value: Any) -> int | None:
    return _int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(value: Any) -> Mapping[str, Any]:
    return _map(value[0]) if isinstance(value, list) and value else {}


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
        self.model = _text(chunk.get("model")) or self.model
        self.provider = _text(chunk.get("provider")) or self.provider
        latency = _ms(chunk.get("latency_ms"))
        self.latency_ms = self.latency_ms if latency is None else latency
        found = list(self._choice_events(_first(chunk.get("choices"))))
        usage = parse_usage(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
            found.append(UsageReport(usage))
        return found

    def _choice_events(self, choice: Mapping[str, Any]) -> Iterator[Event]:
        self.finish_reason = _text(choice.get("finish_reason")) or self.finish_reason
        delta = _map(choice.get("delta"))
        reasoning = _text(delta.get("reasoning_content")) or _text(delta.get("reasoning"))
        if reasoning:
            self._reasoning.append(reasoning)
            yield ReasoningDelta(reasoning)
        content = _text(delta.get("content"))
        if content:
            self._text.append(content)
            yield ContentDelta(content)
        calls = delta.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            yield self._tool_delta(position, _map(call))

    def _tool_delta(self, position: int, call: Mapping[str, Any]) -> ToolCallDelta:
        function = _map(call.get("function"))
        index = _int(call.get("index", position))
        name, arguments = _text(function.get("name")), _text(function.get("arguments"))
        delta = ToolCallDelta(index, _text(call.get("id")) or None, name or None, arguments)
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
        detail = _map(error).get("message") if isinstance(error, Mapping) else error
        code = _text(_map(error).get("code")) or None
        return errors.StreamError(
            f"routing.run reported an error mid-answer: {excerpt(str(detail or 'no details'))}",
            code=code,
            partial_text=self.text,
            endpoint=endpoint,
        )


def completion_from_json(data: Mapping[str, Any], model: str, endpoint: str) -> Completion:
    """A non-streamed chat.completion object → Completion (latency_ms None if absent)."""
    choice = _first(data.get("choices"))
    message = _map(choice.get("message"))
    calls = message.get("tool_calls")
    return Completion(
        text=_text(message.get("content")),
        reasoning=_text(message.get("reasoning_content")) or _text(message.get("reasoning")),
        model=_text(data.get("model")) or model,
        provider=_text(data.get("provider")) or None,
        finish_reason=_text(choice.get("finish_reason")) or None,
        usage=parse_usage(data.get("usage")) or Usage(),
        latency_ms=_ms(data.get("latency_ms")),
        endpoint=endpoint,
        tool_calls=[_tool_call(_map(c)) for c in (calls if isinstance(calls, list) else [])],
        raw=dict(data),
    )


def _tool_call(call: Mapping[str, Any]) -> ToolCall:
    function = _map(call.get("function"))
    name, arguments = _text(function.get("name")), _text(function.get("arguments"))
    return ToolCall(_text(call.get("id")), name, arguments)


def build_body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    stream: bool,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON body of POST /chat/completions; `system` becomes a leading system message."""
    sent = [{"role": "system", "content": system}] if system else []
    body: dict[str, Any] = {"model": model, "messages": sent + [dict(m) for m in messages]}
    optional = {"temperature": temperature, "max_tokens": max_tokens, "tools": tools}
    body.update({name: value for name, value in optional.items() if value is not None})
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(extra)
    return body


def api_error(
    status: int, code: str | None, body: str, model: str | None, endpoint: str
) -> errors.APIError:
    """An HTTP error answer → its error: routing.run's words, plus what to do when we know."""
    detail = excerpt(json_error_message(body) or body, 300)
    said = f"routing.run said: {detail}" if detail else f"routing.run answered HTTP {status}"
    cls = errors.error_class_for(status, code)
    advice = _advice(cls, model) if model else ""
    message = f"{advice} ({said})" if advice else said
    code = code or (f"HTTP_{status}" if cls is errors.APIError else None)
    return cls(message, code=code, status=status, endpoint=endpoint)


def _advice(cls: type[errors.APIError], model: str) -> str:
    """The actionable first half of a 400 / 403 message, from the built-in catalog."""
    catalog = Catalog()
    if cls is errors.InvalidModel:
        matches = catalog.suggest(model)
        maybe = f"; did you mean {' or '.join(matches)}?" if matches else ""
        return f"routing.run has no model {model!r}{maybe}"
    if cls is not errors.ModelNotAllowed:
        return ""
    route = catalog.get(model)
    if route is None:
        return f"your plan cannot call {model}"
    family = _family(model)
    siblings = [r for r in catalog if _family(r.id) == family]
    same_tier = len(siblings) > 1 and all(r.tier == route.tier for r in siblings)
    who = f"{family.capitalize()} routes need" if same_tier else "it needs"
    return f"your plan cannot call {model}; {who} {route.plans_allowed()}"


def _family(model: str) -> str:
    return model.rsplit("/", 1)[-1].split("-", 1)[0]


def json_error_message(body: str) -> str:
    """The message of a JSON error body (`{"error": {"message": …}}` or `{"error": "…"}`)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, Mapping):
        error = error.get("message")
    return error if isinstance(error, str) else ""


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
