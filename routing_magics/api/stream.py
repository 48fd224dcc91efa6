"""One streamed answer over httpx: events as they arrive, and a Stop that works from any thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Generator, Iterator
from typing import Any

import httpx

from . import errors
from .bodies import iter_decoded, read_capped
from .errors import excerpt
from .models import Completion, CompletionBuilder, Event, Finish
from .sse import DONE, SSEDecoder, SSEMessage
from .transport import ERROR_BODY_BYTES, Transport, ms_since
from .wire import StreamState


class ChatStream:
    """One streamed answer; iterate once. The request starts when iteration starts.

    `close()` works from any thread: a reader blocked on the network, or a wait between
    attempts, wakes at once and the iteration raises errors.Stopped carrying the partial text
    (a connection still being opened ends at its connect timeout). `with` always closes the
    response.
    """

    def __init__(
        self,
        transport: Transport,
        model: str,
        body: dict[str, Any],
        answer: CompletionBuilder | None = None,
    ) -> None:
        """`answer`: where the events add up (a caller's builder), else a builder of its own."""
        self.model, self.endpoint = model, ""
        self._transport, self._body = transport, body
        self._state = StreamState(model, answer)
        self._stop, self._lock = threading.Event(), threading.Lock()
        self._response: httpx.Response | None = None
        self._socket: socket.socket | None = None
        self._iterated = False
        self._iterator: weakref.ref[Generator[Event, None, None]] | None = None
        self._started = self._ended = 0.0

    @property
    def text(self) -> str:
        return self._state.answer.text

    @property
    def reasoning(self) -> str:
        return self._state.answer.reasoning

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
        answer = self._state.answer.build()
        answer.endpoint = self.endpoint
        if answer.latency_ms is None and self._started:
            answer.latency_ms = ms_since(self._started, self._ended)
        return answer

    def _run(self) -> Generator[Event, None, None]:
        self._started = time.monotonic()
        try:
            ended_with_done = False
            for message in self._messages(self._connect()):
                if self._stop.is_set():  # messages decoded from the read that raced close()
                    raise self._stopped()
                if ended_with_done:
                    continue  # draining a kept-alive connection: only a whole body is reused
                ended_with_done = message.data == DONE
                if ended_with_done:
                    if self._transport.keeps_alive:
                        continue
                    break
                yield from self._events_for(message)
                # Finish reason and usage are all a stream owes us: a server that then sends
                # neither [DONE] nor a close must not turn a complete answer into a timeout.
                # (A pooled connection still drains the rest of the body, to be reused.)
                told = self._state.answer
                if told.finish_reason is not None and told.usage is not None:
                    ended_with_done = True
                    if not self._transport.keeps_alive:
                        break
            if not ended_with_done and self._stop.is_set():  # our shutdown looks like an EOF
                raise self._stopped()
            if not ended_with_done and self._state.answer.finish_reason is None:
                raise errors.TransportError(
                    f"{self.endpoint} closed the stream before the answer was complete",
                    partial_text=self.text,
                    endpoint=self.endpoint,
                )
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
            response, self.endpoint = self._transport.open(
                "POST", "/chat/completions", self._body, model=self.model,
                trace=self._trace, stop=self._stop,
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
            body = self._transport.redact(excerpt(read_capped(response, ERROR_BODY_BYTES)))
            raise errors.ProtocolError(
                f"{self.endpoint} answered {content_type or 'no content type'} instead of an "
                f"event stream: {body!r}",
                endpoint=self.endpoint,
            )
        return response

    def _messages(self, response: httpx.Response) -> Iterator[SSEMessage]:
        """The body's SSE messages; network failures → our errors, with the partial text."""
        decoder = SSEDecoder()
        allowed = self._transport.timeouts.answer
        deadline = self._started + allowed
        try:
            for chunk in iter_decoded(response):
                if self._stop.is_set():
                    raise self._stopped()
                if time.monotonic() > deadline:  # bytes (or keep-alives) kept coming, no end
                    raise errors.Timeout(
                        f"{self.endpoint} did not finish the answer within {allowed:g} s",
                        hint="the partial answer is kept; raise ROUTING_MAGICS_ANSWER_DEADLINE "
                        "if answers this long are expected",
                        partial_text=self.text,
                        endpoint=self.endpoint,
                    )
                yield from decoder.feed(chunk)
            yield from decoder.flush()
        except errors.ProtocolError as exc:  # the decoder's: a line too long
            exc.partial_text, exc.endpoint = self.text, self.endpoint
            raise
        except httpx.TransportError as exc:
            if self._stop.is_set():
                raise self._stopped() from exc
            raise self._transport.transport_error(exc, self.endpoint, self.text) from exc
        except httpx.DecodingError as exc:
            raise errors.ProtocolError(
                f"{self.endpoint} sent a body that does not decode: {exc}",
                partial_text=self.text,
                endpoint=self.endpoint,
            ) from exc
        except (RuntimeError, ValueError, OSError) as exc:  # a stream closed by another thread
            if self._stop.is_set():
                raise self._stopped() from exc
            raise

    def _events_for(self, message: SSEMessage) -> list[Event]:
        """The message's events; an error the server wrote is quoted without the key."""
        try:
            return self._state.events_for(message, self.endpoint)
        except errors.RoutingError as exc:
            exc.message = self._transport.redact(exc.message)
            exc.args = (exc.message,)
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


def _socket_of(response: httpx.Response) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    return sock if isinstance(sock, socket.socket) else None
