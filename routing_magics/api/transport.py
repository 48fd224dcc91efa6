"""Sending to routing.run: one request with retries, backoff and failover, errors mapped, the
key redacted, and bodies read with a cap. RoutingClient and ChatStream compose a Transport."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..config import public_url
from . import errors
from .bodies import read_body, read_capped
from .errors import api_error, excerpt
from .policy import RetryPolicy, Timeouts, parse_retry_after

_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_RETRYABLE_STATUS = (errors.RateLimited, errors.ProviderError, errors.ProviderTimeout)
#: How much of an error body is read into an error message.
ERROR_BODY_BYTES = 2048
#: The most a JSON reply may expand to when no call says otherwise (an account reply, prices).
REPLY_BYTES = 1024 * 1024
log = logging.getLogger(__name__)
Trace = Callable[[str, dict[str, Any]], None]
#: httpx trace events that hand over a new connection's stream (TLS detaches the TCP socket).
NEW_SOCKET_EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")


class Transport:
    """Sends requests over one httpx.Client; retries and fails over only before an answer."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        fallback_base_url: str | None,
        *,
        key: str | None,
        timeouts: Timeouts,
        policy: RetryPolicy,
        sleep: Callable[[float], None] | None = None,
        track_sockets: bool = False,
    ) -> None:
        self.http, self.base_url, self.fallback_base_url = http, base_url, fallback_base_url
        self.timeouts, self.policy = timeouts, policy
        self._key, self._sleep = key, sleep
        # A base URL may carry user:password@ or ?token=: only its public form is ever shown.
        self._hidden = {url: public_url(url) for url in (base_url, fallback_base_url) if url}
        #: Every socket opened, when kept alive: a reused one has no connect event to catch.
        self._sockets: weakref.WeakSet[socket.socket] | None = (
            weakref.WeakSet() if track_sockets else None
        )
        self._sockets_lock = threading.Lock()
        self._interrupted = False

    def open(
        self, method: str, path: str, body: dict[str, Any] | None = None, *,
        model: str | None = None, trace: Trace | None = None, stop: threading.Event | None = None,
    ) -> tuple[httpx.Response, str]:  # fmt: skip
        """Send with retries and failover; the first 2xx response (body unread) and its base
        in public form (no credentials), as errors and answers name it.

        Setting `stop` ends a wait between attempts at once (the error is raised as it is).
        """
        # An unstreamed answer says nothing until it is whole: a read timeout then means the
        # server is still generating (and billing), so it gets a longer one and no retry.
        whole_answer = method == "POST" and not (body and body.get("stream"))
        base, attempts = self.base_url, self.policy.max_attempts
        for attempt in range(1, attempts + 2):  # +1: a spent policy may still fail over once
            request = self._request(method, endpoint_url(base, path), body, trace, whole_answer)
            shown = self._hidden.get(base, base)
            cause: Exception | None = None
            try:
                response = self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                error: errors.RoutingError = self.transport_error(exc, shown, whole=whole_answer)
                retry = isinstance(exc, _RETRYABLE_TRANSPORT)
                retry = retry and not (whole_answer and isinstance(exc, httpx.ReadTimeout))
                cause, wait = exc, None
            else:
                if response.is_success:
                    return response, shown
                error = self._status_error(response, shown, model)
                wait = error.retry_after
                retry = isinstance(error, _RETRYABLE_STATUS)
                retry = retry and not isinstance(error, errors.DailyLimitExceeded)
            spent = attempt >= attempts and not self._can_fail_over(base, error)
            if not retry or spent or (stop and stop.is_set()) or self._interrupted:
                raise error from cause
            delay = self.policy.delay(attempt, wait) if attempt < attempts else 0.0
            log.info("%s from %s; attempt %d in %.2f s", error.code, shown, attempt + 1, delay)
            base = self.fallback_base_url or base  # fail over, and stay there
            if self._pause(delay, stop):
                raise error from cause
        raise AssertionError("unreachable")

    def _can_fail_over(self, base: str, error: errors.RoutingError) -> bool:
        """Whether a spent policy may still try the secondary once (so a client that does not
        retry, a batch's, fails over too); not for a 429: the account's, on both services."""
        on_primary = self.fallback_base_url is not None and base != self.fallback_base_url
        return on_primary and not isinstance(error, errors.RateLimited)

    def get_once(self, path: str, timeout: float) -> tuple[httpx.Response, str]:
        """GET from the primary base, one attempt, short timeouts: for optional lookups."""
        base = self.base_url
        shown = self._hidden.get(base, base)  # errors and answers name it without credentials
        headers = {"Accept": "application/json"}
        if self._key:  # GET /pricing asks for a Bearer key; X-API-Key goes too, as always
            headers["Authorization"] = f"Bearer {self._key}"
        request = self.http.build_request(
            "GET", endpoint_url(base, path), headers=headers, timeout=httpx.Timeout(timeout)
        )
        try:
            response = self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, shown) from exc
        if not response.is_success:
            raise self._status_error(response, shown, None)
        return response, shown

    def _request(
        self, method: str, url: str, body: dict[str, Any] | None, trace: Trace | None, whole: bool
    ) -> httpx.Request:
        streaming = bool(body and body.get("stream"))
        if self._sockets is not None:
            trace = self._tracking(trace)
        t = self.timeouts
        read = t.whole_answer if whole else t.read
        return self.http.build_request(
            method, url, json=body,
            headers={"Accept": "text/event-stream" if streaming else "application/json"},
            extensions={"trace": trace} if trace else {},
            timeout=httpx.Timeout(connect=t.connect, read=read, write=t.write, pool=t.pool),
        )  # fmt: skip

    @property
    def keeps_alive(self) -> bool:
        """Whether connections are reused (a pooled client): streams then read to the end."""
        return self._sockets is not None

    def _tracking(self, trace: Trace | None) -> Trace:
        """A trace hook that notes each new socket, then calls `trace`."""

        def hook(name: str, info: dict[str, Any]) -> None:
            if name in NEW_SOCKET_EVENTS and info.get("return_value") is not None:
                sock = info["return_value"].get_extra_info("socket")
                if isinstance(sock, socket.socket) and self._sockets is not None:
                    with self._sockets_lock:
                        self._sockets.add(sock)
            if trace is not None:
                trace(name, info)

        return hook

    def interrupt(self) -> None:
        """Shut down every socket still open (tracked clients): readers blocked on one wake,
        and what they get is not retried."""
        self._interrupted = True
        with self._sockets_lock:
            sockets = list(self._sockets or ())
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _pause(self, seconds: float, stop: threading.Event | None) -> bool:
        """Wait before the next attempt; True if `stop` was set meanwhile."""
        if self._sleep is not None:  # tests inject a recorder
            self._sleep(seconds)
            return bool(stop and stop.is_set())
        if stop is None:
            time.sleep(seconds)
            return False
        return stop.wait(seconds)

    def _status_error(
        self, response: httpx.Response, base: str, model: str | None
    ) -> errors.APIError:
        """The error an HTTP error answer means, with the server's Retry-After in seconds."""
        code = response.headers.get("X-Error-Code", "").strip() or None
        wait = parse_retry_after(response.headers.get("Retry-After"))
        body = self.redact(read_capped(response, ERROR_BODY_BYTES))
        error = api_error(response.status_code, code, body, model, base)
        error.retry_after = wait
        return error

    def transport_error(
        self, exc: httpx.TransportError, base: str, partial_text: str = "", *, whole: bool = False
    ) -> errors.TransportError:
        """A network failure as our error, with what streamed before it."""
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
        return cls(self.redact(message), partial_text=partial_text, endpoint=base)

    def read_json(
        self, response: httpx.Response, base: str, limit: int = REPLY_BYTES
    ) -> dict[str, Any]:
        """The body as a JSON object, read up to `limit` bytes however it is compressed; a 200
        carrying `{"error": …}` raises APIError."""
        deadline = time.monotonic() + self.timeouts.answer
        try:
            raw = read_body(response, limit, base, deadline=deadline)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, base) from exc
        except httpx.DecodingError as exc:
            raise errors.ProtocolError(f"{base} sent a body that does not decode: {exc}") from exc
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            data = None
        if not isinstance(data, dict):
            text = self.redact(excerpt(raw.decode("utf-8", "replace")))
            raise errors.ProtocolError(f"{base} did not answer with a JSON object: {text!r}")
        if isinstance(data.get("error"), (Mapping, str)) and "choices" not in data:
            body = self.redact(raw.decode("utf-8", "replace"))
            raise api_error(response.status_code, "API_ERROR", body, None, base)
        return data

    def redact(self, text: str) -> str:
        """`text` with the API key replaced (server messages may quote the request), and base
        URLs in their public form."""
        for url, shown in self._hidden.items():
            text = text.replace(url, shown)
        return text.replace(self._key, "rk_…") if self._key else text

    def close(self) -> None:
        self.http.close()


def ms_since(started: float, ended: float = 0.0) -> int:
    return int(((ended or time.monotonic()) - started) * 1000)


def endpoint_url(base: str, path: str) -> str:
    """`path` after the base URL's own path; a query the base carries (a proxy's token) stays
    a query instead of swallowing the path."""
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + path))
