"""routing.run's JSON wire format (pure): request bodies, whole completions, error answers."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from . import errors
from .catalog import Catalog
from .events import Completion, ToolCall, Usage

EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# Field readers: a sparse or odd answer reads as empty values instead of raising (sse.py's
# stream chunks are read with them too).
def as_int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def as_ms(value: Any) -> int | None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return int(value) if is_number else None


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
