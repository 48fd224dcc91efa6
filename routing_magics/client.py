"""routing.run over httpx (sync): retries, failover, error mapping, streamed answers, Stop."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from . import __version__, errors
from .events import Completion, Event, Finish, Usage
from .sse import (
    DONE,
    SSEDecoder,
    SSEMessage,
    StreamState,
    api_error,
    build_body,
    completion_from_json,
    excerpt,
    parse_retry_after,
)

DEFAULT_BASE_URL = "https://api.routing.run/v1"
DEFAULT_FALLBACK_URL = "https://ai.routing.sh/v1"
ERROR_BODY_BYTES = 2048
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_RETRYABLE_STATUS = (errors.RateLimited, errors.ProviderError, errors.ProviderTimeout)
Messages = Sequence[Mapping[str, Any]]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timeouts:
    """Seconds; `read` is the longest silence allowed between two chunks of a stream."""

    connect: float = 10.0
    read: float = 120.0
    write: float = 30.0
    pool: float = 10.0


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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = _checked_url(base_url)
        fallback = _checked_url(fallback_base_url) if fallback_base_url else None
        self.fallback_base_url = fallback if fallback != self.base_url else None
        self.timeouts, self.max_attempts = timeouts, max(1, max_attempts)
        self.backoff_base, self.retry_after_cap, self._sleep = backoff_base, retry_after_cap, sleep
        self._key = api_key or None
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
            completion.latency_ms = _ms_since(started)
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
        stopped: Callable[[], bool] = lambda: False,
    ) -> tuple[httpx.Response, str]:  # fmt: skip
        """Send with retries and failover; the first 2xx response (body unread) and its base."""
        streaming = bool(body and body.get("stream"))
        headers = {"Accept": "text/event-stream" if streaming else "application/json"}
        base, extensions = self.base_url, ({"trace": trace} if trace else {})
        for attempt in range(1, self.max_attempts + 1):
            url = base + path
            request = self._http.build_request(
                method, url, json=body, headers=headers, extensions=extensions
            )
            cause: Exception | None = None
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                error: errors.RoutingError = self._transport_error(exc, base)
                cause, wait, retry = exc, None, isinstance(exc, _RETRYABLE_TRANSPORT)
            else:
                if response.is_success:
                    return response, base
                error = self._status_error(response, base, model)
                wait = parse_retry_after(response.headers.get("Retry-After"))
                retry = isinstance(error, _RETRYABLE_STATUS)
                retry = retry and not isinstance(error, errors.DailyLimitExceeded)
            if not retry or attempt == self.max_attempts or stopped():
                raise error from cause
            delay = self._backoff(attempt, wait)
            log.info("%s from %s; attempt %d in %.2f s", error.code, base, attempt + 1, delay)
            base = self.fallback_base_url or base  # fail over, and stay there
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return self.backoff_base * 2.0 ** (retry - 1) * random.uniform(0.75, 1.25)

    def _status_error(
        self, response: httpx.Response, base: str, model: str | None
    ) -> errors.APIError:
        code = response.headers.get("X-Error-Code", "").strip() or None
        body = self._redact(_read_capped(response, ERROR_BODY_BYTES))
        return api_error(response.status_code, code, body, model, base)

    def _transport_error(
        self, exc: httpx.TransportError, base: str, partial_text: str = ""
    ) -> errors.TransportError:
        cls: type[errors.TransportError] = errors.TransportError
        if isinstance(exc, httpx.ReadTimeout):
            cls, message = errors.Timeout, f"{base} sent nothing for {self.timeouts.read:g} s"
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


class ChatStream:
    """One streamed answer; iterate once. The request starts when iteration starts.

    `close()` works from any thread: a reader blocked on the network wakes at once and the
    iteration raises errors.Stopped carrying the partial text. `with` always closes the response.
    """

    def __init__(self, client: RoutingClient, model: str, body: dict[str, Any]) -> None:
        self.model, self.endpoint = model, ""
        self._client, self._body = client, body
        self._state = StreamState(model)
        self._stop, self._lock = threading.Event(), threading.Lock()
        self._response: httpx.Response | None = None
        self._socket: socket.socket | None = None
        self._iterated = False
        self._iterator: weakref.ref[Generator[Event, None, None]] | None = None
        self._started = self._ended = 0.0

    @property
    def text(self) -> str:
        return self._state.text

    @property
    def reasoning(self) -> str:
        return self._state.reasoning

    def __iter__(self) -> Iterator[Event]:
        if self._iterated:
            raise RuntimeError("a ChatStream can be iterated only once")
        self._iterated = True
        events = self._run()
        # A weak reference: `for e in client.stream(…): break` frees the generator at once,
        # and its `finally` closes the response without waiting for the garbage collector.
        self._iterator = weakref.ref(events)
        return events

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        events = self._iterator() if self._iterator is not None else None
        if events is not None:
            with contextlib.suppress(ValueError):  # "generator already executing" elsewhere
                events.close()
        self._close_response()

    def close(self) -> None:
        """Stop the stream (thread-safe): shut the socket down so a blocked read returns."""
        self._stop.set()
        with self._lock:
            sock, response = self._socket, self._response
        if sock is not None:
            with contextlib.suppress(OSError):  # the plain socket's shutdown, even under TLS
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        elif response is not None:  # a transport without sockets (tests' MockTransport)
            response.close()

    def completion(self) -> Completion:
        """Everything so far as a Completion (usage is zero if the server sent none)."""
        state = self._state
        measured = _ms_since(self._started, self._ended) if self._started else None
        return Completion(
            text=state.text,
            reasoning=state.reasoning,
            model=state.model,
            provider=state.provider,
            finish_reason=state.finish_reason,
            usage=state.usage or Usage(),
            latency_ms=state.latency_ms if state.latency_ms is not None else measured,
            endpoint=self.endpoint,
            tool_calls=state.tool_calls(),
        )

    def _run(self) -> Generator[Event, None, None]:
        self._started = time.monotonic()
        try:
            ended_with_done = False
            for message in self._messages(self._connect()):
                ended_with_done = message.data == DONE
                if ended_with_done:
                    break
                yield from self._state.events_for(message, self.endpoint)
            if not ended_with_done and self._stop.is_set():  # our shutdown looks like an EOF
                raise self._stopped()
            self._ended = time.monotonic()
            answer = self.completion()
            yield Finish(answer.finish_reason, answer.model, answer.provider, answer.latency_ms,
                         self.endpoint)  # fmt: skip
        finally:
            self._close_response()

    def _connect(self) -> httpx.Response:
        if self._stop.is_set():
            raise self._stopped()
        try:
            response, self.endpoint = self._client._open(
                "POST", "/chat/completions", self._body, model=self.model,
                trace=self._trace, stopped=self._stop.is_set,
            )  # fmt: skip
        except errors.RoutingError as exc:
            if self._stop.is_set():
                raise self._stopped() from exc
            raise
        with self._lock:
            self._response, self._socket = response, _socket_of(response) or self._socket
        if self._stop.is_set():
            raise self._stopped()
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("text/event-stream"):
            body = self._client._redact(excerpt(_read_capped(response, ERROR_BODY_BYTES)))
            raise errors.ProtocolError(
                f"{self.endpoint} answered {content_type or 'no content type'} instead of an "
                f"event stream: {body!r}",
                endpoint=self.endpoint,
            )
        return response

    def _messages(self, response: httpx.Response) -> Iterator[SSEMessage]:
        """The body's SSE messages; network failures → our errors, with the partial text."""
        decoder = SSEDecoder()
        try:
            for chunk in response.iter_bytes():
                if self._stop.is_set():
                    raise self._stopped()
                yield from decoder.feed(chunk)
            yield from decoder.flush()
        except httpx.TransportError as exc:
            if self._stop.is_set():
                raise self._stopped() from exc
            raise self._client._transport_error(exc, self.endpoint, self.text) from exc
        except (RuntimeError, ValueError, OSError) as exc:  # a stream closed by another thread
            if self._stop.is_set():
                raise self._stopped() from exc
            raise

    def _stopped(self) -> errors.Stopped:
        return errors.Stopped(
            "the answer was stopped", partial_text=self.text, endpoint=self.endpoint
        )

    def _trace(self, name: str, info: dict[str, Any]) -> None:
        """httpx trace hook: note each new socket, so close() can shut it before any header."""
        # After start_tls the TCP socket object is detached: keep the TLS socket instead.
        wanted = ("connection.connect_tcp.complete", "connection.start_tls.complete")
        if name in wanted and info.get("return_value") is not None:
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._socket = sock if isinstance(sock, socket.socket) else None
            if self._stop.is_set():
                self.close()

    def _close_response(self) -> None:
        with self._lock:
            response, self._response, self._socket = self._response, None, None
        if response is not None:
            response.close()


def _read_capped(response: httpx.Response, limit: int) -> str:
    """Up to `limit` bytes of the body as text; closes the response."""
    data = bytearray()
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= limit:
                break
    except httpx.HTTPError:
        pass  # what arrived is enough to explain the error
    finally:
        response.close()
    return bytes(data[:limit]).decode("utf-8", "replace").strip()


def _socket_of(response: httpx.Response) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    return sock if isinstance(sock, socket.socket) else None


def _checked_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        hint = f"e.g. {DEFAULT_BASE_URL}"
        raise errors.ConfigurationError(f"base URL {url!r} must start with http(s)://", hint=hint)
    return url.rstrip("/")


def _ms_since(started: float, ended: float = 0.0) -> int:
    return int(((ended or time.monotonic()) - started) * 1000)
