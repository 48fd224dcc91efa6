"""The client against a hostile server of our own on loopback (tests/hostile.py): credentials in
the base URL, compressed bombs, endless lines, endless streams, odd numbers, deep nesting."""

from __future__ import annotations

import socket
import time
import tracemalloc
from collections.abc import Callable

import pytest

from routing_magics.api import errors
from routing_magics.api.client import RoutingClient, Timeouts
from routing_magics.api.models import Finish
from tests.hostile import (
    HostileServer,
    Script,
    chunk,
    gzip_bomb,
    head,
    reply,
    sse,
    stream_then_hold,
)

KEY = "rk_hostile_test_key"
HI = [{"role": "user", "content": "hi"}]
GOOD = (
    b'{"model": "route/x", "choices": [{"message": {"content": "fine"}, "finish_reason": "stop"}]}'
)


def client(url: str, **timeouts: float) -> RoutingClient:
    return RoutingClient(
        KEY, url, None, max_attempts=1, timeouts=Timeouts(**timeouts) if timeouts else None
    )


def failure(script: Script, call: Callable[[RoutingClient], object]) -> errors.RoutingError:
    """The error `call` raises against a server running `script`."""
    with HostileServer(script) as bad, pytest.raises(errors.RoutingError) as caught:
        call(client(bad.base_url))
    return caught.value


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and KEY not in text
    return text


# --- 1. credentials in a base URL ---------------------------------------------------------


def with_secrets(url: str) -> str:
    return url.replace("http://", "http://proxyuser:pa55word@") + "?token=t0ken"


def assert_clean(*texts: object) -> None:
    for text in texts:
        assert "pa55word" not in str(text) and "t0ken" not in str(text), text
        assert "proxyuser" not in str(text), text


def test_a_base_url_with_userinfo_and_query_shows_neither_anywhere() -> None:
    with HostileServer(reply(200, GOOD)) as ok, HostileServer(reply(502, b"upstream down")) as bad:
        good = client(with_secrets(ok.base_url))
        done = good.complete("route/x", HI)
        assert done.text == "fine"
        assert_clean(done.endpoint, good.base_url, repr(good))
        assert done.endpoint == ok.base_url
        with pytest.raises(errors.ProviderError) as caught:
            client(with_secrets(bad.base_url)).complete("route/x", HI)
        assert_clean(str(caught.value), caught.value.endpoint)
    # The server has gone: the connection error names the endpoint too.
    with pytest.raises(errors.TransportError) as refused:
        client(with_secrets(ok.base_url)).complete("route/x", HI)
    assert_clean(str(refused.value), refused.value.endpoint)
    assert ok.base_url in str(refused.value)


def test_a_streamed_answer_names_its_endpoint_without_credentials() -> None:
    body = sse(chunk("hi"), chunk(finish="stop"), "data: [DONE]\n\n")
    with HostileServer(reply(200, body, "text/event-stream")) as ok:
        events = list(client(with_secrets(ok.base_url)).stream("route/x", HI))
    finish = events[-1]
    assert isinstance(finish, Finish) and finish.endpoint == ok.base_url


# --- 2. replies read whole, without a limit -----------------------------------------------


def test_a_gzip_bomb_as_a_whole_answer_stops_at_the_cap_in_bounded_memory() -> None:
    bomb = gzip_bomb(256 * 1024 * 1024)  # 256 MiB of zeros in ~250 KB
    with HostileServer(reply(200, bomb, content_encoding="gzip")) as bad:
        tracemalloc.start()
        try:
            with pytest.raises(errors.ProtocolError) as caught:
                client(bad.base_url).complete("route/x", HI)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert caught.value.code == "REPLY_TOO_LARGE"
    assert "larger than 32 MiB; stopped reading it" in one_line(caught.value)
    assert peak < 80 * 1024 * 1024  # the cap plus a piece, not the 256 MiB it expands to


def test_a_double_gzip_bomb_is_refused_not_expanded() -> None:
    bomb = gzip_bomb(64 * 1024 * 1024, layers=2)
    error = failure(
        reply(200, bomb, content_encoding="gzip, gzip"), lambda c: c.complete("route/x", HI)
    )
    assert isinstance(error, errors.ProtocolError) and "does not decode" in one_line(error)


@pytest.mark.parametrize(("method", "cap"), [("list_models", "8 MiB"), ("user_requests", "1 MiB")])
def test_model_list_and_account_replies_have_caps_of_their_own(method: str, cap: str) -> None:
    bomb = gzip_bomb(16 * 1024 * 1024)
    error = failure(reply(200, bomb, content_encoding="gzip"), lambda c: getattr(c, method)())
    assert error.code == "REPLY_TOO_LARGE" and f"larger than {cap}" in one_line(error)


def test_a_plain_reply_over_the_cap_stops_too() -> None:
    big = b'{"data": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    with HostileServer(reply(200, big)) as bad, pytest.raises(errors.ProtocolError) as caught:
        client(bad.base_url).user_requests()
    assert caught.value.code == "REPLY_TOO_LARGE"


def test_a_gzipped_answer_of_sane_size_still_reads() -> None:
    import gzip

    with HostileServer(reply(200, gzip.compress(GOOD), content_encoding="gzip")) as ok:
        assert client(ok.base_url).complete("route/x", HI).text == "fine"


# --- 3. one enormous SSE line; keep-alives forever -----------------------------------------


def test_a_twenty_megabyte_line_is_refused_with_one_line() -> None:
    def script(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(head(200, content_type="text/event-stream") + sse(chunk("kept ")))
        conn.sendall(b"data: ")
        piece = b"x" * 65536
        for _ in range(20 * 16):  # 20 MiB, no line break; then hold the connection
            conn.sendall(piece)
        server.release.wait(30)

    with HostileServer(script) as bad, pytest.raises(errors.ProtocolError) as caught:
        list(client(bad.base_url, read=20).stream("route/x", HI))
    assert "line of more than 4,194,304 characters" in one_line(caught.value)
    assert caught.value.partial_text == "kept "


def test_keep_alives_forever_end_at_the_answer_deadline() -> None:
    def script(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(head(200, content_type="text/event-stream") + sse(chunk("so far")))
        while not server.release.wait(0.05):
            conn.sendall(b": keep-alive\n\n")

    with HostileServer(script) as bad:
        started = time.monotonic()
        with pytest.raises(errors.Timeout) as caught:
            list(client(bad.base_url, read=30, answer=1.0).stream("route/x", HI))
    assert time.monotonic() - started < 10
    assert "did not finish the answer within 1 s" in one_line(caught.value)
    assert caught.value.partial_text == "so far"


# --- 6. odd numbers and shapes --------------------------------------------------------------

ODD_USAGE = (
    '{"prompt_tokens": 1e309, "completion_tokens": NaN, "total_tokens": 100000000000000000000000}'
)


def test_odd_usage_numbers_read_as_missing() -> None:
    body = (
        sse(chunk("hi"), chunk(finish="stop"))
        + f'data: {{"choices": [], "usage": {ODD_USAGE}, "latency_ms": -Infinity}}\n\n'.encode()
        + b"data: [DONE]\n\n"
    )
    with HostileServer(reply(200, body, "text/event-stream")) as bad:
        stream = client(bad.base_url).stream("route/x", HI)
        list(stream)
    usage = stream.completion().usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (0, 0, 0)


def test_odd_numbers_in_a_whole_answer_and_a_bool_count_as_missing() -> None:
    body = (
        b'{"choices": [{"message": {"content": "ok"}}], "latency_ms": NaN, '
        b'"usage": {"prompt_tokens": true, "completion_tokens": 7, "total_tokens": 1e400}}'
    )
    with HostileServer(reply(200, body)) as bad:
        done = client(bad.base_url).complete("route/x", HI)
    assert done.latency_ms is not None and done.latency_ms >= 0  # ours, measured
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (0, 7)
    assert done.usage.total_tokens == 7


def test_deeply_nested_arrays_are_a_protocol_error_not_a_recursion_error() -> None:
    nested = b"[" * 200_000 + b"]" * 200_000
    with HostileServer(reply(200, nested)) as bad, pytest.raises(errors.ProtocolError):
        client(bad.base_url).complete("route/x", HI)
    body = head(200, content_type="text/event-stream") + b"data: " + nested + b"\n\n"
    error = failure(lambda conn, _: conn.sendall(body), lambda c: list(c.stream("route/x", HI)))
    assert isinstance(error, errors.ProtocolError) and "not a JSON object" in one_line(error)


# --- 7. finish and usage, then neither [DONE] nor a close ----------------------------------


def test_finish_and_usage_end_the_stream_without_done_or_close() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    body = sse(chunk("all "), chunk("there", finish="stop"), {"choices": [], "usage": usage})
    with HostileServer(stream_then_hold(body)) as slow:
        started = time.monotonic()
        stream = client(slow.base_url, read=5).stream("route/x", HI)
        events = list(stream)
    assert time.monotonic() - started < 4  # not the 5 s idle timeout
    assert isinstance(events[-1], Finish) and events[-1].reason == "stop"
    assert stream.text == "all there" and stream.completion().usage.total_tokens == 5


def test_a_finish_without_usage_still_waits_for_the_end() -> None:
    """Usage may follow the finish chunk: the stream is not cut before it."""
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    body = sse(chunk("x", finish="stop")) + sse({"choices": [], "usage": usage}, "data: [DONE]\n\n")
    with HostileServer(reply(200, body, "text/event-stream")) as ok:
        stream = client(ok.base_url).stream("route/x", HI)
        list(stream)
    assert stream.completion().usage.total_tokens == 5
