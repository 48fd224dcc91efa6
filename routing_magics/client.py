"""routing.run over httpx (sync): requests with retries, failover and error mapping.

Streamed answers are stream.ChatStream, re-exported here; RoutingClient.stream() makes them.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from . import __version__, errors
from .config import DEFAULT_BASE_URL, DEFAULT_FALLBACK_URL
from .events import Completion
from .stream import ERROR_BODY_BYTES, ChatStream, ms_since, read_capped
from .wire import api_error, build_body, completion_from_json, excerpt, parse_retry_after

_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_RETRYABLE_STATUS = (errors.RateLimited, errors.ProviderError, errors.ProviderTimeout)
Messages = Sequence[Mapping[str, Any]]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `read` is the longest silence allowed between two chunks of a stream;
    `whole_answer` bounds an unstreamed answer, which sends nothing until it is complete."""

    connect: float = 10.0
    read: float = 120.0
    write: float = 30.0
    pool: float = 10.0
    whole_answer: float = 600.0


class RoutingClient:
    """routing.run's chat API. Retries and fails over only before any answer has arrived."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        fallback_base_url: str | None = DEFAULT_FALLBACK_URL,
        *,
        timeouts: Timeouts = Timeouts(),
        max_attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = f"routing-magics/{__version__}",
        backoff_base: float = 0.5,
        retry_after_cap: float = 20.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.base_url = _checked_url(base_url)
        fallback = _checked_url(fallback_base_url) if fallback_base_url else None
        self.fallback_base_url = fallback if fallback != self.base_url else None
        self.timeouts, self.max_attempts = timeouts, max(1, max_attempts)
        self.backoff_base, self.retry_after_cap, self._sleep = backoff_base, retry_after_cap, sleep
        self._key = _checked_key(api_key)
        headers = {"User-Agent": user_agent, **({"X-API-Key": self._key} if self._key else {})}
        t = timeouts
        # No keep-alive: every request gets its own socket, which ChatStream.close() can shut
        # down from another thread even while the reader still waits for the headers.
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
            transport=transport,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def __repr__(self) -> str:
        key = "set" if self._key else "unset"
        urls = f"base_url={self.base_url!r}, fallback_base_url={self.fallback_base_url!r}"
        return f"RoutingClient({urls}, key={key})"

    def __enter__(self) -> RoutingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

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
        response, base = self._open("POST", "/chat/completions", body, model=model)
        completion = completion_from_json(self._read_json(response, base), model, base)
        if completion.latency_ms is None:
            completion.latency_ms = ms_since(started)
        return completion

    def stream(
        self, model: str, messages: Messages, *, system: str | None = None,
        temperature: float | None = None, max_tokens: int | None = None,
        tools: list[dict[str, Any]] | None = None, tool_choice: Any = None, **extra: Any,
    ) -> ChatStream:  # fmt: skip
        """A streamed answer; nothing is sent until the ChatStream is iterated."""
        body = build_body(
            model, messages, stream=True, system=system, temperature=temperature,
            max_tokens=max_tokens, tools=tools, tool_choice=tool_choice, **extra,
        )  # fmt: skip
        return ChatStream(self, model, body)

    def list_models(self) -> list[dict[str, Any]]:
        """GET {base}/models: the routes this key may call."""
        items = self._read_json(*self._open("GET", "/models")).get("data")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def user_requests(self) -> dict[str, Any]:
        """GET {base}/user/requests: requests used and left today / this hour, and the plan."""
        return self._read_json(*self._open("GET", "/user/requests"))

    def _open(
        self, method: str, path: str, body: dict[str, Any] | None = None, *,
        model: str | None = None, trace: Callable[[str, dict[str, Any]], None] | None = None,
        stop: threading.Event | None = None,
    ) -> tuple[httpx.Response, str]:  # fmt: skip
        """Send with retries and failover; the first 2xx response (body unread) and its base.

        Setting `stop` ends a wait between attempts at once (the error is raised as it is).
        """
        streaming = bool(body and body.get("stream"))
        # An unstreamed answer says nothing until it is whole: a read timeout then means the
        # server is still generating (and billing), so it gets a longer one and no retry.
        whole_answer = method == "POST" and not streaming
        headers = {"Accept": "text/event-stream" if streaming else "application/json"}
        base, extensions = self.base_url, ({"trace": trace} if trace else {})
        t = self.timeouts
        read = t.whole_answer if whole_answer else t.read
        timeout = httpx.Timeout(connect=t.connect, read=read, write=t.write, pool=t.pool)
        for attempt in range(1, self.max_attempts + 1):
            request = self._http.build_request(
                method, base + path, json=body, headers=headers, extensions=extensions,
                timeout=timeout,
            )  # fmt: skip
            cause: Exception | None = None
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                error: errors.RoutingError = self._transport_error(exc, base, whole=whole_answer)
                retry = isinstance(exc, _RETRYABLE_TRANSPORT)
                retry = retry and not (whole_answer and isinstance(exc, httpx.ReadTimeout))
                cause, wait = exc, None
            else:
                if response.is_success:
                    return response, base
                error = self._status_error(response, base, model)
                wait = parse_retry_after(response.headers.get("Retry-After"))
                retry = isinstance(error, _RETRYABLE_STATUS)
                retry = retry and not isinstance(error, errors.DailyLimitExceeded)
            if not retry or attempt == self.max_attempts or (stop and stop.is_set()):
                raise error from cause
            delay = self._backoff(attempt, wait)
            log.info("%s from %s; attempt %d in %.2f s", error.code, base, attempt + 1, delay)
            base = self.fallback_base_url or base  # fail over, and stay there
            if self._pause(delay, stop):
                raise error from cause
        raise AssertionError("unreachable")

    def _pause(self, seconds: float, stop: threading.Event | None) -> bool:
        """Wait before the next attempt; True if `stop` was set meanwhile."""
        if self._sleep is not None:  # tests inject a recorder
            self._sleep(seconds)
            return bool(stop and stop.is_set())
        if stop is None:
            time.sleep(seconds)
            return False
        return stop.wait(seconds)

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return self.backoff_base * 2.0 ** (retry - 1) * random.uniform(0.75, 1.25)

    def _status_error(
        self, response: httpx.Response, base: str, model: str | None
    ) -> errors.APIError:
        code = response.headers.get("X-Error-Code", "").strip() or None
        body = self._redact(read_capped(response, ERROR_BODY_BYTES))
        return api_error(response.status_code, code, body, model, base)

    def _transport_error(
        self, exc: httpx.TransportError, base: str, partial_text: str = "", *, whole: bool = False
    ) -> errors.TransportError:
        cls: type[errors.TransportError] = errors.TransportError
        if isinstance(exc, httpx.ReadTimeout):
            quiet = self.timeouts.whole_answer if whole else self.timeouts.read
            cls, message = errors.Timeout, f"{base} sent nothing for {quiet:g} s"
        elif isinstance(exc, httpx.ConnectTimeout):
            message = f"could not connect to {base} within {self.timeouts.connect:g} s"
        elif isinstance(exc, httpx.ConnectError):
            message = f"could not connect to {base}: {exc}"
        elif partial_text:
            message = f"the connection to {base} broke mid-answer: {exc}"
        else:
            message = f"the connection to {base} failed: {type(exc).__name__}: {exc}"
        return cls(self._redact(message), partial_text=partial_text, endpoint=base)

    def _read_json(self, response: httpx.Response, base: str) -> dict[str, Any]:
        """The body as a JSON object; a 200 carrying `{"error": …}` raises APIError."""
        try:
            raw = response.read()
        except httpx.TransportError as exc:
            raise self._transport_error(exc, base) from exc
        except httpx.DecodingError as exc:
            raise errors.ProtocolError(f"{base} sent a body that does not decode: {exc}") from exc
        finally:
            response.close()
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            text = self._redact(excerpt(raw.decode("utf-8", "replace")))
            raise errors.ProtocolError(f"{base} did not answer with a JSON object: {text!r}")
        if isinstance(data.get("error"), (Mapping, str)) and "choices" not in data:
            body = self._redact(raw.decode("utf-8", "replace"))
            raise api_error(response.status_code, "API_ERROR", body, None, base)
        return data

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "rk_…") if self._key else text


def _checked_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        hint = f"e.g. {DEFAULT_BASE_URL}"
        raise errors.ConfigurationError(f"base URL {url!r} must start with http(s)://", hint=hint)
    return url.rstrip("/")


def _checked_key(key: str | None) -> str | None:
    """The key stripped; one that cannot be an HTTP header fails here, without echoing it."""
    key = (key or "").strip() or None
    if key is not None and not (key.isascii() and key.isprintable()):
        raise errors.ConfigurationError(
            "the API key holds spaces, line breaks or non-ASCII characters",
            hint="copy the rk_… key again, exactly, into ROUTING_RUN_API_KEY or `%route key`",
        )
    return key
