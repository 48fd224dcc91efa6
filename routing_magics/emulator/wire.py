"""routing.run's JSON shapes: chat requests in; completions, chunks, models and usage out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api.catalog import BUILTIN_ROUTES, Route
from .emission import Emission

#: A fixed `created` for routes, so /v1/models answers the same every time.
ROUTES_CREATED = 1744701234
ROUTES = {route.id: route for route in BUILTIN_ROUTES}
MISSING_KEY = "Missing API key: send X-API-Key: rk_… or Authorization: Bearer rk_…"
INVALID_KEY = "Invalid API key: routing.run keys start with rk_"
OWNER = "routing.run"
#: Requests per hour by plan (Lite has no hourly cap; the API reports 0), and per minute for all.
HOURLY_LIMITS = {"free": 50, "lite": 0, "premium": 500, "max": 1000, "ultra": 1500}
PER_MINUTE_LIMIT = 100


class RequestError(Exception):
    """A request the emulator refuses with 400 and `code` as X-Error-Code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    tools: list[Any] = field(default_factory=list)
    tool_choice: Any = None


def _positive_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError("INVALID_REQUEST", f"{name} must be a positive integer")
    return value


def parse_chat_request(body: Any) -> ChatRequest:
    """A ChatRequest from a decoded JSON body; RequestError says what is wrong."""
    if not isinstance(body, Mapping):
        raise RequestError("INVALID_REQUEST", "Request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("INVALID_REQUEST", "model is required: send a route/… id")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("INVALID_REQUEST", "messages must be a non-empty array")
    if not all(isinstance(m, Mapping) and isinstance(m.get("role"), str) for m in messages):
        raise RequestError("INVALID_REQUEST", "each message needs a string role")
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    options = body.get("stream_options")
    tools = body.get("tools")
    return ChatRequest(
        model=model,
        messages=[dict(m) for m in messages],
        stream=body.get("stream") is True,
        include_usage=isinstance(options, Mapping) and options.get("include_usage") is True,
        max_tokens=_positive_int(max_tokens, "max_tokens"),
        tools=list(tools) if isinstance(tools, list) else [],
        tool_choice=body.get("tool_choice"),
    )


def usage_body(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def sse(data: Any) -> bytes:
    """One server-sent event: `data: {json}` and a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n".encode()


@dataclass(frozen=True)
class ResponseMeta:
    """The fields every completion and chunk of one response shares."""

    id: str
    created: int
    model: str
    provider: str
    reasoning_route: bool

    def _head(self, kind: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": kind,
            "created": self.created,
            "model": self.model,
            "provider": self.provider,
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return {**self._head("chat.completion.chunk"), "choices": [choice]}

    def usage_chunk(self, usage: dict[str, int]) -> dict[str, Any]:
        return {**self._head("chat.completion.chunk"), "choices": [], "usage": usage}

    def completion(
        self, emission: Emission, usage: dict[str, int], latency_ms: int
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": emission.text}
        if self.reasoning_route:
            message["reasoning_content"] = emission.reasoning_text
        if emission.tool_calls:
            message["content"] = None
            message["tool_calls"] = [
                tool_call_body(emission, i) for i in range(len(emission.tool_calls))
            ]
        choice = {"index": 0, "message": message, "finish_reason": emission.finish_reason}
        head = self._head("chat.completion")
        return {**head, "latency_ms": latency_ms, "choices": [choice], "usage": usage}


def tool_call_body(emission: Emission, index: int = 0) -> dict[str, Any]:
    call = emission.tool_calls[index]
    function = {"name": call.name, "arguments": emission.arguments(index)}
    return {"id": call.id, "type": "function", "function": function}


def route_name(route: Route) -> str:
    """A display name, e.g. 'route/mistral-small-2503' → 'Mistral Small 2503'."""
    return route.id.removeprefix("route/").replace("-", " ").title()


def model_item(route: Route) -> dict[str, Any]:
    return {
        "id": route.id,
        "object": "model",
        "created": ROUTES_CREATED,
        "owned_by": OWNER,
        "tier": route.tier,
        "capability": "chat",
        "name": route_name(route),
        "limit": {"context": route.context, "output": route.max_output or route.context},
    }


def models_list(plan: str) -> dict[str, Any]:
    """GET /v1/models: the routes `plan` may call."""
    data = [model_item(r) for r in BUILTIN_ROUTES if r.allowed_on(plan)]
    return {"object": "list", "data": data}


def model_detail(route: Route, plan: str) -> dict[str, Any]:
    """GET /v1/models/{id}."""
    return {
        "id": route.id,
        "object": "model",
        "created": ROUTES_CREATED,
        "owned_by": OWNER,
        "tier": route.tier,
        "allowed": route.allowed_on(plan),
        "providers": list(route.providers),
    }


def usage_report(
    plan: str, daily_limit: int, used: tuple[int, int, int], per_minute: int = PER_MINUTE_LIMIT
) -> dict[str, Any]:
    """GET /v1/user/requests from (today, this hour, this minute) counts."""
    today, hour, minute = used
    hourly = HOURLY_LIMITS.get(plan, 0)
    return {
        "requests_used_today": today,
        "requests_limit_today": daily_limit,
        "requests_remaining": max(0, daily_limit - today),
        "requests_used_this_hour": hour,
        "requests_limit_this_hour": hourly,
        "requests_remaining_this_hour": max(0, hourly - hour),
        "requests_used_this_minute": minute,
        "requests_limit_per_minute": per_minute,
        "requests_remaining_this_minute": max(0, per_minute - minute),
        "plan_tier": plan.capitalize(),
    }


def json_or_none(raw: bytes) -> Any:
    """A request body as JSON, or None when it is empty or not JSON (for the request log)."""
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        return None


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


#: USD per million tokens (input, output) as GET /v1/pricing listed them on 2026-05-15
#: (../shared/routing-run-facts.md §4b); the Mistral routes had no price.
PRICES: dict[str, tuple[float, float]] = {
    "route/minimax-m2.5": (0.19, 1.24),
    "route/minimax-m2.7": (0.33, 1.32),
    "route/kimi-k2.5": (0.46, 2.42),
    "route/kimi-k2.6": (0.46, 2.42),
    "route/glm-5": (0.79, 2.53),
    "route/deepseek-v3.2": (0.49, 0.74),
    "route/deepseek-v4-pro": (0.49, 0.74),
    "route/qwen3.5-plus": (0.55, 1.65),
}


def default_pricing() -> list[dict[str, Any]]:
    """GET /v1/pricing's `models` entries: one per priced route, tagged with its tier."""
    return [
        {
            "model": model,
            "display_name": route_name(ROUTES[model]),
            "tier": ROUTES[model].tier,
            "input_per_million": rate_in,
            "output_per_million": rate_out,
        }
        for model, (rate_in, rate_out) in PRICES.items()
    ]


def route_for(model: str, plan: str) -> tuple[Route | None, tuple[int, str, str] | None]:
    """The route `plan` may call as `model`, or the (status, code, text) that refuses it."""
    route = ROUTES.get(model)
    if route is None:
        text = f"Invalid model '{model[:200]}': not a routing.run route; GET /v1/models lists them"
        return None, (400, "INVALID_MODEL", text)
    if not route.allowed_on(plan):
        text = f"Model {route.id} is not available on the {plan.capitalize()} plan"
        return None, (403, "MODEL_NOT_ALLOWED", f"{text}; it needs {route.plans_allowed()}")
    return route, None
