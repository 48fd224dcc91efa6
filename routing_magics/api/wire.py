"""routing.run's JSON wire format (pure): request bodies, whole completions, chunks → events."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from . import errors
from .errors import excerpt
from .models import (
    Completion,
    CompletionBuilder,
    ContentDelta,
    Event,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from .sse import SSEMessage

#: The largest count we take off the wire (2**53: exact as a float, fits SQLite's INTEGER).
MAX_COUNT = 2**53


# Field readers: a sparse or odd answer reads as empty values instead of raising.
def as_count(value: Any) -> int | None:
    """A token count, index or duration: a finite number in 0..MAX_COUNT, else None (missing).
    1e309 (inf), NaN, 10**23, negatives and booleans all read as missing."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 <= value <= MAX_COUNT:  # also False for NaN
        return None
    return int(value)


def as_int(value: Any) -> int:
    count = as_count(value)
    return 0 if count is None else count


def as_ms(value: Any) -> int | None:
    return as_count(value)


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def first_map(value: Any) -> Mapping[str, Any]:
    """The first item of a list as a mapping (e.g. `choices[0]`), else empty."""
    return as_map(value[0]) if isinstance(value, list) and value else {}


def parse_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    prompt, completion = as_int(raw.get("prompt_tokens")), as_int(raw.get("completion_tokens"))
    return Usage(prompt, completion, as_int(raw.get("total_tokens")) or prompt + completion)


def completion_from_json(data: Mapping[str, Any], model: str, endpoint: str) -> Completion:
    """A non-streamed chat.completion object → Completion (latency_ms None if absent)."""
    choice = first_map(data.get("choices"))
    message = as_map(choice.get("message"))
    calls = message.get("tool_calls")
    return Completion(
        text=as_text(message.get("content")),
        reasoning=as_text(message.get("reasoning_content")) or as_text(message.get("reasoning")),
        model=as_text(data.get("model")) or model,
        provider=as_text(data.get("provider")) or None,
        finish_reason=as_text(choice.get("finish_reason")) or None,
        usage=parse_usage(data.get("usage")) or Usage(),
        latency_ms=as_ms(data.get("latency_ms")),
        endpoint=endpoint,
        tool_calls=[_tool_call(as_map(c)) for c in (calls if isinstance(calls, list) else [])],
        raw=dict(data),
    )


def _tool_call(call: Mapping[str, Any]) -> ToolCall:
    function = as_map(call.get("function"))
    name, arguments = as_text(function.get("name")), as_text(function.get("arguments"))
    return ToolCall(as_text(call.get("id")), name, arguments)


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


class StreamState:
    """What a stream has said so far; turns each SSE message's chunk into events."""

    def __init__(self, model: str, answer: CompletionBuilder | None = None) -> None:
        """`answer`: the builder to add events to (the caller's, so an answer is built once)."""
        self.answer = answer or CompletionBuilder(model)

    def events_for(self, message: SSEMessage, endpoint: str = "") -> list[Event]:
        """Events of one SSE message (not `[DONE]`); raises StreamError / ProtocolError."""
        chunk = self._decode(message.data, endpoint)
        if chunk.get("error") is not None or message.event == "error":
            raise self._stream_error(chunk.get("error", chunk), endpoint)
        answer = self.answer
        answer.model = as_text(chunk.get("model")) or answer.model
        answer.provider = as_text(chunk.get("provider")) or answer.provider
        latency = as_ms(chunk.get("latency_ms"))
        answer.latency_ms = answer.latency_ms if latency is None else latency
        found = list(self._choice_events(first_map(chunk.get("choices"))))
        usage = parse_usage(chunk.get("usage"))
        if usage is not None:
            found.append(UsageReport(usage))
        for event in found:
            answer.add(event)
        return found

    def _choice_events(self, choice: Mapping[str, Any]) -> Iterator[Event]:
        reason = as_text(choice.get("finish_reason"))
        self.answer.finish_reason = reason or self.answer.finish_reason
        delta = as_map(choice.get("delta"))
        reasoning = as_text(delta.get("reasoning_content")) or as_text(delta.get("reasoning"))
        if reasoning:
            yield ReasoningDelta(reasoning)
        content = as_text(delta.get("content"))
        if content:
            yield ContentDelta(content)
        calls = delta.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            yield _tool_delta(position, as_map(call))

    def _decode(self, data: str, endpoint: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            chunk = None
        if not isinstance(chunk, dict):
            raise errors.ProtocolError(
                f"the stream sent a chunk that is not a JSON object: {excerpt(data)!r}",
                partial_text=self.answer.text,
                endpoint=endpoint,
            )
        return chunk

    def _stream_error(self, error: Any, endpoint: str) -> errors.StreamError:
        detail = as_map(error).get("message") if isinstance(error, Mapping) else error
        code = as_text(as_map(error).get("code")) or None
        return errors.StreamError(
            f"routing.run reported an error mid-answer: {excerpt(str(detail or 'no details'))}",
            code=code,
            partial_text=self.answer.text,
            endpoint=endpoint,
        )


def _tool_delta(position: int, call: Mapping[str, Any]) -> ToolCallDelta:
    function = as_map(call.get("function"))
    index = as_int(call.get("index", position))
    name, arguments = as_text(function.get("name")), as_text(function.get("arguments"))
    return ToolCallDelta(index, as_text(call.get("id")) or None, name or None, arguments)
