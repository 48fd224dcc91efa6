"""routing.run's chat API over httpx (sync): complete, stream, models, account.

RoutingClient composes a transport.Transport (retries, failover, errors) and hands it to each
stream.ChatStream; neither reaches into the client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from .._version import __version__
from ..config import DEFAULT_BASE_URL, DEFAULT_FALLBACK_URL, public_url
from . import errors
from .bodies import ACCEPT_ENCODING, MIB
from .models import Completion, CompletionBuilder
from .pricing import PriceList, parse_pricing
from .stream import ChatStream
from .transport import REPLY_BYTES, RetryPolicy, Timeouts, Transport, ms_since
from .wire import build_body, completion_from_json

__all__ = ["ChatStream", "RoutingClient", "Timeouts"]
Messages = Sequence[Mapping[str, Any]]
#: Seconds allowed for optional lookups (prices, account): never worth a long wait.
QUICK_TIMEOUT = 2.0
#: The most a reply may expand to: a whole answer (a long one is ~1 MB), and the model list.
COMPLETION_BYTES = 32 * MIB
MODELS_BYTES = 8 * MIB


class RoutingClient:
    """routing.run's chat API. Retries and fails over only before any answer has arrived."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        fallback_base_url: str | None = DEFAULT_FALLBACK_URL,
        *,
        timeouts: Timeouts | None = None,
        max_attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = f"routing-magics/{__version__}",
        backoff_base: float = 0.5,
        retry_after_cap: float | None = None,
        sleep: Callable[[float], None] | None = None,
        pool: int = 0,
    ) -> None:
        """`pool` > 0 keeps up to that many connections alive for reuse (a batch's concurrency);
        `interrupt()` then shuts them all. The default opens a socket per request."""
        base = _checked_url(base_url)
        fallback = _checked_url(fallback_base_url) if fallback_base_url else None
        key = checked_key(api_key)
        timeouts = timeouts or Timeouts()
        headers = {"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING,
                   **({"X-API-Key": key} if key else {})}  # fmt: skip
        t = timeouts
        # No keep-alive by default: every request gets its own socket, which ChatStream.close()
        # can shut down from another thread even while the reader still waits for the headers.
        # A pooled client reuses sockets instead, and interrupt() shuts every one it opened.
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
            transport=transport,
            limits=limits if pool > 0 else httpx.Limits(max_keepalive_connections=0),
        )
        policy = RetryPolicy(max(1, max_attempts), backoff_base, retry_after_cap)
        self._transport = Transport(
            http, base, fallback if fallback != base else None,
            key=key, timeouts=timeouts, policy=policy, sleep=sleep, track_sockets=pool > 0,
        )  # fmt: skip
        self._key_set = key is not None

    @property
    def base_url(self) -> str:
        """The primary base URL as it may be shown (no credentials, no query)."""
        return public_url(self._transport.base_url)

    @property
    def fallback_base_url(self) -> str | None:
        fallback = self._transport.fallback_base_url
        return public_url(fallback) if fallback else None

    @property
    def timeouts(self) -> Timeouts:
        return self._transport.timeouts

    def __repr__(self) -> str:
        key = "set" if self._key_set else "unset"
        urls = f"base_url={self.base_url!r}, fallback_base_url={self.fallback_base_url!r}"
        return f"RoutingClient({urls}, key={key})"

    def __enter__(self) -> RoutingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def interrupt(self) -> None:
        """Shut down every connection of a pooled client (thread-safe): blocked reads end, and
        nothing is retried after (a batch's Stop)."""
        self._transport.interrupt()

    def complete(
        self, model: str, messages: Messages, *, system: str | None = None,
        temperature: float | None = None, max_tokens: int | None = None,
        tools: list[dict[str, Any]] | None = None, tool_choice: Any = None, **extra: Any,
    ) -> Completion:  # fmt: skip
        """One whole answer (`stream: false`)."""
        body = build_body(
            model, messages, stream=False, system=system, temperature=temperature,
            max_tokens=max_tokens, tools=tools, tool_choice=tool_choice, **extra,
        )  # fmt: skip
        started = time.monotonic()
        response, base = self._transport.open("POST", "/chat/completions", body, model=model)
        data = self._transport.read_json(response, base, COMPLETION_BYTES)
        completion = completion_from_json(data, model, base)
        if completion.latency_ms is None:
            completion.latency_ms = ms_since(started)
        return completion

    def stream(
        self, model: str, messages: Messages, *, system: str | None = None,
        temperature: float | None = None, max_tokens: int | None = None,
        tools: list[dict[str, Any]] | None = None, tool_choice: Any = None,
        answer: CompletionBuilder | None = None, **extra: Any,
    ) -> ChatStream:  # fmt: skip
        """A streamed answer; nothing is sent until the ChatStream is iterated. Its events add
        up in `answer` when given (the caller's builder), so the answer is built once."""
        body = build_body(
            model, messages, stream=True, system=system, temperature=temperature,
            max_tokens=max_tokens, tools=tools, tool_choice=tool_choice, **extra,
        )  # fmt: skip
        return ChatStream(self._transport, model, body, answer)

    def list_models(self) -> list[dict[str, Any]]:
        """GET {base}/models: the routes this key may call."""
        items = self._get("/models", MODELS_BYTES).get("data")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def user_requests(self) -> dict[str, Any]:
        """GET {base}/user/requests: requests used and left today / this hour, and the plan."""
        return self._get("/user/requests")

    def _get(self, path: str, limit: int = REPLY_BYTES) -> dict[str, Any]:
        return self._transport.read_json(*self._transport.open("GET", path), limit)

    def pricing(self, timeout: float = QUICK_TIMEOUT) -> PriceList:
        """GET {base}/pricing: USD per million tokens by model; one try, `timeout` seconds."""
        return parse_pricing(self.quick_get("/pricing", timeout))

    def quick_get(self, path: str, timeout: float = QUICK_TIMEOUT) -> dict[str, Any]:
        """One GET of optional information: no retry or failover, `timeout` s per phase."""
        return self._transport.read_json(*self._transport.get_once(path, timeout))


def _checked_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        hint = f"e.g. {DEFAULT_BASE_URL}"
        shown = public_url(url)
        raise errors.ConfigurationError(f"base URL {shown!r} must start with http(s)://", hint=hint)
    return url.rstrip("/")


def checked_key(key: str | None) -> str | None:
    """The key stripped; one that cannot be an HTTP header fails here, without echoing it."""
    key = (key or "").strip() or None
    if key is not None and not (key.isascii() and key.isprintable() and len(key.split()) == 1):
        raise errors.MalformedKey("the API key holds spaces, line breaks or non-ASCII characters")
    return key
