"""routing_magics.api.client: streaming, errors, retries, failover and Stop.

Parsing edge cases go through httpx.MockTransport (byte-iterator bodies); everything about the
network (retries, failover, timeouts, Stop) runs against the emulator over real loopback sockets.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from routing_magics.api import errors
from routing_magics.api.client import ChatStream, RoutingClient, Timeouts
from routing_magics.api.models import (
    ContentDelta,
    Event,
    Finish,
    ReasoningDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from routing_magics.emulator import Emulator

KEY = "rk_" + "5eC2e7" * 10 + "abcd"
HI = [{"role": "user", "content": "echo:Hello there"}]


@contextmanager
def expect(cls: type[errors.RoutingError]) -> Iterator[pytest.ExceptionInfo[Any]]:
    """pytest.raises that also checks the key is nowhere in the error or what it chains."""
    with pytest.raises(cls) as caught:
        yield caught
    assert_no_key(caught.value)


def assert_no_key(error: BaseException | None) -> None:
    while error is not None:
        for text in (str(error), repr(error), *vars(error).values()):
            assert KEY not in str(text)
        error = error.__cause__ or error.__context__


# --- MockTransport: what goes on the wire and how bodies parse -----------------------------


class Body(httpx.SyncByteStream):
    """A streamed body from byte pieces; remembers whether it was closed."""

    def __init__(self, pieces: list[bytes], fail: BaseException | None = None) -> None:
        self.pieces, self.fail, self.closed = pieces, fail, False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.fail is not None:
            raise self.fail

    def close(self) -> None:
        self.closed = True


class Wire:
    """A MockTransport answering every request with one canned response; records requests."""

    def __init__(self, body: Body, status: int = 200, headers: dict[str, str] | None = None):
        self.body, self.status, self.requests = body, status, list[httpx.Request]()
        self.headers = {"content-type": "text/event-stream", **(headers or {})}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, headers=self.headers, stream=self.body)

    def client(self, **options: Any) -> RoutingClient:
        options.setdefault("sleep", lambda s: None)
        return RoutingClient(
            KEY, "https://primary.test/v1", None, transport=httpx.MockTransport(self), **options
        )


def sse_wire(*pieces: bytes, **options: Any) -> Wire:
    return Wire(Body(list(pieces)), **options)


def data(payload: dict[str, Any], end: bytes = b"\n\n") -> bytes:
    return b"data: " + json.dumps(payload).encode() + end


def delta(end: bytes = b"\n\n", **fields: Any) -> bytes:
    return data({"model": "route/glm-5", "choices": [{"index": 0, "delta": fields}]}, end)


USAGE = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}


def run(stream: ChatStream) -> list[Event]:
    with stream:
        return list(stream)


def test_stream_parses_crlf_comments_split_lines_usage_and_done() -> None:
    finish = {"index": 0, "delta": {}, "finish_reason": "stop"}
    wire = sse_wire(
        b": keep-alive\r\n\r\n",
        delta(b"\r\n\r\n", reasoning_content="Hmm"),
        delta(content="Hel")[:20],
        delta(content="Hel")[20:],
        delta(content="lo"),
        data({"model": "route/glm-5", "provider": "crof", "choices": [finish]}),
        data({"choices": [], "usage": USAGE, "latency_ms": 321}),
        b"data: [DONE]\n\n",
        b"data: this would be a protocol error if read\n\n",
    )
    stream = wire.client().stream("route/glm-5", HI)
    events = run(stream)
    assert events == [
        ReasoningDelta("Hmm"),
        ContentDelta("Hel"),
        ContentDelta("lo"),
        UsageReport(Usage(9, 2, 11)),
        Finish("stop", "route/glm-5", "crof", 321, "https://primary.test/v1"),
    ]
    assert (stream.text, stream.reasoning, stream.endpoint) == (
        "Hello",
        "Hmm",
        "https://primary.test/v1",
    )
    assert stream.completion().usage == Usage(9, 2, 11)
    assert wire.body.closed


def test_last_event_without_blank_line_and_no_done_still_finishes() -> None:
    finished = data(
        {"model": "route/glm-5", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        b"",
    )
    wire = sse_wire(delta(content="A"), delta(content="B"), finished)
    events = run(wire.client().stream("route/glm-5", HI))
    assert [type(e) for e in events] == [ContentDelta, ContentDelta, Finish]
    finish = events[-1]
    assert isinstance(finish, Finish) and finish.latency_ms is not None and finish.reason == "stop"


def test_stream_cut_without_finish_or_done_is_an_error_with_the_partial_text() -> None:
    wire = sse_wire(delta(content="A"), delta(b"", content="B"))
    with expect(errors.TransportError) as caught:
        run(wire.client().stream("route/glm-5", HI))
    assert caught.value.partial_text == "AB"
    assert "before the answer was complete" in str(caught.value)


def test_stream_without_usage_emits_no_usage_report() -> None:
    events = run(sse_wire(delta(content="x"), b"data: [DONE]\n\n").client().stream("m", HI))
    assert not any(isinstance(e, UsageReport) for e in events)


def test_tool_call_deltas_pass_through() -> None:
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}
    stream = sse_wire(delta(tool_calls=[call]), b"data: [DONE]\n\n").client().stream("m", HI)
    assert run(stream)[0] == ToolCallDelta(0, "c1", "f", "{}")
    assert stream.completion().tool_calls[0].name == "f"


def test_error_event_raises_stream_error_with_partial_text_and_closes() -> None:
    error = {"error": {"message": "Upstream provider disconnected", "type": "api_error"}}
    wire = sse_wire(delta(content="Half "), delta(content="done"), data(error))
    stream = wire.client().stream("m", HI)
    got: list[Event] = []
    with expect(errors.StreamError) as caught:
        got.extend(run(stream))
    assert caught.value.partial_text == "Half done"
    assert "Upstream provider disconnected" in str(caught.value)
    assert wire.body.closed


def test_non_sse_content_type_is_a_protocol_error_with_an_excerpt() -> None:
    wire = sse_wire(b"<html>" + b"Cloudflare " * 100, headers={"content-type": "text/html"})
    with expect(errors.ProtocolError) as caught:
        run(wire.client().stream("m", HI))
    message = caught.value.message
    assert "text/html" in message and "Cloudflare" in message and len(message) < 320
    assert len(wire.requests) == 1  # not retried


def test_malformed_chunk_is_a_protocol_error() -> None:
    wire = sse_wire(delta(content="ok"), b"data: {oops\n\n")
    with expect(errors.ProtocolError) as caught:
        run(wire.client().stream("m", HI))
    assert caught.value.partial_text == "ok"
    assert "{oops" in str(caught.value)


def test_request_headers_and_body() -> None:
    wire = sse_wire(b"data: [DONE]\n\n")
    stream = wire.client(user_agent="ua-test/1").stream(
        "route/glm-5", HI, system="Be brief.", max_tokens=50, temperature=0.2
    )
    run(stream)
    (request,) = wire.requests
    assert str(request.url) == "https://primary.test/v1/chat/completions"
    assert request.headers["X-API-Key"] == KEY
    assert "authorization" not in request.headers
    assert request.headers["User-Agent"] == "ua-test/1"
    assert request.headers["Accept"] == "text/event-stream"
    body = json.loads(request.content)
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, *HI]
    assert (body["max_tokens"], body["stream"], body["temperature"]) == (50, True, 0.2)
    assert body["stream_options"] == {"include_usage": True}


def test_timeouts_are_ours_not_httpx_defaults() -> None:
    wire = sse_wire(b"data: [DONE]\n\n")
    run(wire.client(timeouts=Timeouts(connect=1, read=2, write=3, pool=4)).stream("m", HI))
    timeout = wire.requests[0].extensions["timeout"]
    assert timeout == {"connect": 1, "read": 2, "write": 3, "pool": 4}


def test_default_user_agent_is_ours() -> None:
    wire = Wire(Body([b'{"data": []}']), headers={"content-type": "application/json"})
    wire.client().list_models()
    assert wire.requests[0].headers["User-Agent"].startswith("routing-magics/")


def test_breaking_out_of_the_loop_closes_the_response() -> None:
    wire = sse_wire(delta(content="a"), delta(content="b"), delta(content="c"))
    stream = wire.client().stream("m", HI)
    for event in stream:
        assert event == ContentDelta("a")
        break
    del event, stream  # the generator is collected: its finally closes the body
    assert wire.body.closed


def test_keyboard_interrupt_inside_the_read_closes_and_propagates() -> None:
    wire = Wire(Body([delta(content="a")], fail=KeyboardInterrupt()))
    stream = wire.client().stream("m", HI)
    with pytest.raises(KeyboardInterrupt):
        list(stream)
    assert wire.body.closed
    assert stream.text == "a"


def test_mid_stream_read_error_keeps_partial_text() -> None:
    wire = Wire(Body([delta(content="part")], fail=httpx.ReadError("connection reset")))
    with expect(errors.TransportError) as caught:
        run(wire.client().stream("m", HI))
    assert caught.value.partial_text == "part"
    assert len(wire.requests) == 1


def test_close_before_iteration_raises_stopped_without_sending() -> None:
    wire = sse_wire(delta(content="never"))
    stream = wire.client().stream("m", HI)
    stream.close()
    with expect(errors.Stopped):
        list(stream)
    assert wire.requests == []


def test_a_stream_iterates_once() -> None:
    stream = sse_wire(b"data: [DONE]\n\n").client().stream("m", HI)
    run(stream)
    with pytest.raises(RuntimeError):
        iter(stream)


def test_error_body_echoing_the_key_is_redacted() -> None:
    wire = Wire(Body([f"bad key {KEY}".encode()]), 401, {"X-Error-Code": "AUTHENTICATION_ERROR"})
    with expect(errors.AuthenticationError) as caught:
        wire.client().complete("m", HI)
    assert "routing.run said: bad key rk_…" in caught.value.message


def test_json_error_body_and_unknown_status() -> None:
    body = json.dumps({"error": {"message": "Model not found"}}).encode()
    wire = Wire(Body([body]), 404, {"content-type": "application/json"})
    with expect(errors.APIError) as caught:
        wire.client().list_models()
    assert caught.value.message == "routing.run said: Model not found"
    assert (caught.value.status, caught.value.endpoint) == (404, "https://primary.test/v1")


def test_complete_with_a_non_json_body_is_a_protocol_error() -> None:
    wire = Wire(Body([b"<html>oops</html>"]), headers={"content-type": "text/html"})
    with expect(
        errors.ProtocolError,
    ) as caught:
        wire.client().complete("m", HI)
    assert "<html>oops</html>" in str(caught.value)


def test_repr_shows_urls_and_whether_a_key_is_set() -> None:
    with RoutingClient(KEY, "https://a.test/v1/", "") as client:
        text = repr(client)
    assert KEY not in text and "key=set" in text and "'https://a.test/v1'" in text
    assert "fallback_base_url=None" in text
    assert "key=unset" in repr(RoutingClient(None))


def test_a_base_url_without_scheme_is_a_configuration_error() -> None:
    with expect(errors.ConfigurationError):
        RoutingClient(KEY, "api.routing.run/v1")


# --- against the emulator, over real sockets ----------------------------------------------

MISTRAL = "route/mistral-small-2503"
LONG = [{"role": "user", "content": "echo:" + " ".join(f"w{i}" for i in range(40))}]


# Module-scoped (stopping an emulator takes ~0.5 s), reset before each test.
@pytest.fixture(scope="module")
def emulators() -> Iterator[tuple[Emulator, Emulator]]:
    with Emulator() as first, Emulator() as second:
        yield first, second


def fresh(emulator: Emulator) -> Emulator:
    emulator.reset()
    emulator.plan, emulator.daily_limit, emulator.token_rate = "premium", 1500, None
    return emulator


@pytest.fixture
def server(emulators: tuple[Emulator, Emulator]) -> Emulator:
    return fresh(emulators[0])


@pytest.fixture
def backup(emulators: tuple[Emulator, Emulator]) -> Emulator:
    return fresh(emulators[1])


@pytest.fixture
def sleeps() -> list[float]:
    return []


def connect(base: str, fallback: str | None, sleeps: list[float], **options: Any) -> RoutingClient:
    return RoutingClient(KEY, base, fallback, sleep=sleeps.append, **options)


def chats(emulator: Emulator) -> int:
    return sum(r.path.endswith("/chat/completions") for r in emulator.requests)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_emulator_stream_reasoning_content_usage_then_finish(server: Emulator) -> None:
    client = connect(server.base_url, None, [])
    stream = client.stream("route/kimi-k2.5", HI, max_tokens=4000)
    events = run(stream)
    kinds = [type(e) for e in events]
    assert kinds.index(ContentDelta) > kinds.index(ReasoningDelta)
    assert ReasoningDelta not in kinds[kinds.index(ContentDelta) :]
    assert kinds[-2:] == [UsageReport, Finish]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.reason, finish.model, finish.endpoint) == (
        "stop",
        "route/kimi-k2.5",
        server.base_url,
    )
    assert finish.provider and finish.latency_ms is not None
    assert stream.text == "Hello there" and stream.reasoning
    assert server.requests[-1].body["max_tokens"] == 4000


def test_emulator_mistral_route_streams_no_reasoning(server: Emulator) -> None:
    events = run(connect(server.base_url, None, []).stream(MISTRAL, HI))
    assert not any(isinstance(e, ReasoningDelta) for e in events)


def test_emulator_complete(server: Emulator) -> None:
    done = connect(server.base_url, None, []).complete("route/kimi-k2.5", HI, max_tokens=4000)
    assert (done.text, done.model, done.finish_reason) == ("Hello there", "route/kimi-k2.5", "stop")
    assert done.reasoning and done.provider and done.latency_ms is not None
    assert done.usage.total_tokens > 0 and done.endpoint == server.base_url
    body = server.requests[-1].body
    assert body["stream"] is False and "stream_options" not in body
    assert server.requests[-1].headers["accept"] == "application/json"


def test_emulator_models_and_user_requests(server: Emulator) -> None:
    client = connect(server.base_url, None, [])
    models = {m["id"]: m for m in client.list_models()}
    assert models[MISTRAL]["tier"] == "premium" and "route/kimi-k2.5" in models
    before = client.user_requests()["requests_used_today"]
    client.complete(MISTRAL, HI)
    assert client.user_requests()["requests_used_today"] == before + 1


ERROR_CASES = [
    ("INVALID_MODEL", errors.InvalidModel, 400, 1),
    ("AUTHENTICATION_ERROR", errors.AuthenticationError, 401, 1),
    ("MODEL_NOT_ALLOWED", errors.ModelNotAllowed, 403, 1),
    ("DAILY_REQUEST_LIMIT_EXCEEDED", errors.DailyLimitExceeded, 429, 1),
    ("RATE_LIMIT_EXCEEDED", errors.RateLimited, 429, 3),
    ("PROVIDER_ERROR", errors.ProviderError, 502, 3),
    ("PROVIDER_TIMEOUT", errors.ProviderTimeout, 504, 3),
]


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "complete"])
@pytest.mark.parametrize(("kind", "cls", "status", "attempts"), ERROR_CASES)
def test_each_error_code_maps_to_its_class_and_attempts(
    server: Emulator, sleeps: list[float], streamed: bool,
    kind: str, cls: type[errors.APIError], status: int, attempts: int,
) -> None:  # fmt: skip
    server.inject(kind, times=3)
    client = connect(server.base_url, None, sleeps)
    with expect(cls) as caught:
        run(client.stream(MISTRAL, HI)) if streamed else client.complete(MISTRAL, HI)
    error = caught.value
    assert type(error) is cls
    assert (error.status, error.code, error.endpoint) == (status, kind, server.base_url)
    assert "routing.run said: " in error.message and f"({kind})" in str(error)
    assert chats(server) == attempts and len(sleeps) == attempts - 1


def test_unknown_model_names_close_matches(server: Emulator) -> None:
    with expect(errors.InvalidModel) as caught:
        run(connect(server.base_url, None, []).stream("route/mistral-smal", HI))
    assert "did you mean route/mistral-small-2503" in str(caught.value)
    assert "Invalid model" in str(caught.value)  # the server's own words


def test_plan_without_mistral_gets_an_actionable_403(server: Emulator) -> None:
    server.plan = "lite"
    with expect(errors.ModelNotAllowed) as caught:
        run(connect(server.base_url, None, []).stream("route/mistral-large-3", HI))
    message = caught.value.message
    assert message.startswith("your plan cannot call route/mistral-large-3; Mistral routes need")
    assert "Premium, Max or Ultra" in message and chats(server) == 1


def test_missing_key_is_an_authentication_error(server: Emulator) -> None:
    with expect(errors.AuthenticationError) as caught:
        RoutingClient(None, server.base_url, None).complete(MISTRAL, HI)
    assert caught.value.status == 401 and "ROUTING_RUN_API_KEY" in str(caught.value)


def test_daily_cap_from_the_server_is_not_retried(server: Emulator, sleeps: list[float]) -> None:
    server.daily_limit = 0
    with expect(errors.DailyLimitExceeded):
        connect(server.base_url, None, sleeps).complete(MISTRAL, HI)
    assert sleeps == [] and len(server.requests) == 1


def test_502_once_then_success_takes_two_requests(server: Emulator, sleeps: list[float]) -> None:
    server.inject("PROVIDER_ERROR")
    stream = connect(server.base_url, None, sleeps).stream(MISTRAL, HI)
    run(stream)
    assert stream.text == "Hello there" and chats(server) == 2
    assert len(sleeps) == 1 and 0.3 <= sleeps[0] <= 0.7


def test_backoff_grows_between_attempts(server: Emulator, sleeps: list[float]) -> None:
    server.inject("PROVIDER_TIMEOUT", times=3)
    with expect(errors.ProviderTimeout):
        connect(server.base_url, None, sleeps, backoff_base=1.0).complete(MISTRAL, HI)
    assert len(sleeps) == 2 and 0.7 <= sleeps[0] <= 1.3 and 1.4 <= sleeps[1] <= 2.6


def test_retry_after_is_honoured(server: Emulator, sleeps: list[float]) -> None:
    server.inject("RATE_LIMIT_EXCEEDED", retry_after=3)
    assert connect(server.base_url, None, sleeps).complete(MISTRAL, HI).text == "Hello there"
    assert sleeps == [3.0]


def test_retry_after_is_capped(server: Emulator, sleeps: list[float]) -> None:
    server.inject("RATE_LIMIT_EXCEEDED", retry_after=3600)
    connect(server.base_url, None, sleeps, retry_after_cap=5.0).complete(MISTRAL, HI)
    assert sleeps == [5.0]


def test_failover_when_the_primary_refuses_connections(server: Emulator) -> None:
    client = connect(closed_port_url(), server.base_url, [])
    stream = client.stream(MISTRAL, HI)
    events = run(stream)
    assert stream.endpoint == server.base_url
    assert isinstance(events[-1], Finish) and events[-1].endpoint == server.base_url
    assert client.complete(MISTRAL, HI).endpoint == server.base_url


def test_refused_connection_without_fallback(sleeps: list[float]) -> None:
    url = closed_port_url()
    with expect(errors.TransportError) as caught:
        connect(url, None, sleeps).complete(MISTRAL, HI)
    assert url in str(caught.value) and len(sleeps) == 2
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_failover_on_502_and_stay_on_the_fallback(server: Emulator, backup: Emulator) -> None:
    server.inject("PROVIDER_ERROR", times=5)
    backup.inject("PROVIDER_ERROR")
    done = connect(server.base_url, backup.base_url, []).complete(MISTRAL, HI)
    assert done.endpoint == backup.base_url and done.text == "Hello there"
    assert (chats(server), chats(backup)) == (1, 2)


def test_midstream_error_is_not_retried_and_keeps_partial_text(server: Emulator) -> None:
    server.inject("midstream_error", after=3)
    with expect(errors.StreamError) as caught:
        run(connect(server.base_url, None, []).stream(MISTRAL, LONG))
    assert caught.value.partial_text == "w0 w1 w2"
    assert chats(server) == 1


def test_dropped_connection_mid_stream_is_not_retried(server: Emulator) -> None:
    server.inject("drop", after=3)
    with expect(errors.TransportError) as caught:
        run(connect(server.base_url, None, []).stream(MISTRAL, LONG))
    assert caught.value.partial_text == "w0 w1 w2" and "broke mid-answer" in str(caught.value)
    assert chats(server) == 1


def test_stall_before_headers_times_out_after_retries(
    server: Emulator, sleeps: list[float]
) -> None:
    server.inject("stall", seconds=5, times=3)
    client = connect(server.base_url, None, sleeps, timeouts=Timeouts(read=0.2))
    with expect(errors.Timeout) as caught:
        run(client.stream(MISTRAL, HI))
    assert "sent nothing for 0.2 s" in str(caught.value)
    assert chats(server) == 3


def test_stall_before_headers_once_is_retried(server: Emulator) -> None:
    server.inject("stall", seconds=5)
    client = connect(server.base_url, None, [], timeouts=Timeouts(read=0.2))
    with client.stream(MISTRAL, HI) as stream:
        assert "".join(e.text for e in stream if isinstance(e, ContentDelta)) == "Hello there"
    assert chats(server) == 2


def test_an_unstreamed_answer_that_times_out_is_not_sent_again(server: Emulator) -> None:
    """It may still be generating, and billed: a second request would pay twice."""
    server.inject("stall", seconds=5)
    client = connect(server.base_url, None, [], timeouts=Timeouts(read=5, whole_answer=0.2))
    with expect(errors.Timeout) as caught:
        client.complete(MISTRAL, HI)
    assert "0.2 s" in str(caught.value) and chats(server) == 1


def test_stall_mid_stream_times_out_with_partial_text(server: Emulator) -> None:
    server.inject("stall", seconds=5, after=2)
    client = connect(server.base_url, None, [], timeouts=Timeouts(read=0.2))
    with expect(errors.Timeout) as caught:
        run(client.stream(MISTRAL, LONG))
    assert caught.value.partial_text == "w0 w1" and chats(server) == 1


def close_later(stream: ChatStream, delay: float, closed_at: list[float]) -> None:
    def close() -> None:
        time.sleep(delay)
        closed_at.append(time.monotonic())
        stream.close()

    threading.Thread(target=close, daemon=True).start()


def test_close_from_another_thread_stops_a_slow_stream(server: Emulator) -> None:
    server.inject("slow", seconds=0.8)  # a token every 0.8 s
    stream = connect(server.base_url, None, []).stream(MISTRAL, LONG)
    closed_at: list[float] = []
    with expect(errors.Stopped) as caught, stream:
        for event in stream:
            if isinstance(event, ContentDelta):
                close_later(stream, 0.05, closed_at)
    assert time.monotonic() - closed_at[0] < 0.5
    assert caught.value.partial_text == "w0"


def test_close_from_another_thread_while_waiting_for_headers(server: Emulator) -> None:
    server.inject("stall", seconds=5)
    stream = connect(server.base_url, None, []).stream(MISTRAL, HI)
    closed_at: list[float] = []
    close_later(stream, 0.2, closed_at)
    with expect(errors.Stopped):
        run(stream)
    assert time.monotonic() - closed_at[0] < 0.5
    assert chats(server) == 1  # a Stop is not retried


def test_the_key_appears_in_no_error_repr_or_log(
    server: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = connect(server.base_url, None, [])
    raised: list[BaseException] = []
    for kind, *_ in ERROR_CASES:
        server.inject(kind, times=3)
        try:
            run(client.stream(MISTRAL, HI))
        except errors.RoutingError as exc:
            raised.append(exc)
    assert len(raised) == len(ERROR_CASES)
    for error in raised:
        assert_no_key(error)
    assert KEY not in repr(client) and KEY not in caplog.text


@pytest.fixture
def stalling_tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server (self-signed) that reads a request and never answers; yields its base."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throwaway certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError):
            raw, _ = listener.accept()
            with context.wrap_socket(raw, server_side=True) as tls:
                tls.recv(65536)
                done.wait(10)

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/v1"
    done.set()
    listener.close()


def test_close_unblocks_a_tls_connection_waiting_for_headers(stalling_tls_server: str) -> None:
    transport = httpx.HTTPTransport(verify=False)  # the throwaway certificate
    client = RoutingClient(KEY, stalling_tls_server, None, transport=transport)
    stream = client.stream(MISTRAL, HI)
    closed_at: list[float] = []
    close_later(stream, 0.3, closed_at)
    with expect(errors.Stopped):
        run(stream)
    assert time.monotonic() - closed_at[0] < 0.5


@pytest.mark.parametrize("bad", [KEY + "\r\n", " " + KEY, KEY + "é"])
def test_a_key_that_cannot_be_a_header_fails_without_echoing_it(bad: str) -> None:
    if bad.strip() == KEY:  # surrounding whitespace is forgiven
        assert "set" in repr(RoutingClient(bad, "http://127.0.0.1:9/v1", None))
        return
    with pytest.raises(errors.ConfigurationError) as caught:
        RoutingClient(bad, "http://127.0.0.1:9/v1", None)
    assert KEY[3:] not in str(caught.value) and KEY[3:] not in repr(caught.value)


def test_stop_ends_a_wait_between_attempts_at_once(server: Emulator) -> None:
    server.inject("RATE_LIMIT_EXCEEDED", retry_after=5)
    stream = RoutingClient(KEY, server.base_url, None).stream(MISTRAL, HI)  # real waits
    closed_at: list[float] = []
    close_later(stream, 0.3, closed_at)
    with expect(errors.Stopped):
        run(stream)
    assert time.monotonic() - closed_at[0] < 1.0 and chats(server) == 1


def test_a_403_without_error_code_is_not_called_a_plan_problem() -> None:
    wire = Wire(
        Body([b"<!DOCTYPE html>blocked"]), status=403, headers={"content-type": "text/html"}
    )
    with expect(errors.APIError) as caught:
        wire.client().complete(MISTRAL, HI)
    assert type(caught.value) is errors.APIError and "plan" not in str(caught.value)


def test_a_body_that_does_not_decode_is_a_protocol_error() -> None:
    wire = sse_wire(b"not gzip at all", headers={"content-type": "text/event-stream",
                                                  "content-encoding": "gzip"})  # fmt: skip
    with expect(errors.ProtocolError):
        run(wire.client().stream(MISTRAL, HI))
