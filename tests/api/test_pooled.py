"""A pooled RoutingClient (batches): kept-alive connections, and interrupt() that ends a read
blocked on a reused connection, against the emulator over real sockets."""

from __future__ import annotations

import threading
import time

import pytest

from routing_magics.api import RoutingClient, errors
from routing_magics.emulator import Emulator

MESSAGES = [{"role": "user", "content": "echo: pooled"}]
MODEL = "route/mistral-small-2503"


def test_a_pooled_client_streams_many_answers_over_one_connection(emu: Emulator) -> None:
    before = emu.connections
    with RoutingClient("rk_test", emu.base_url, None, pool=2) as client:
        for _ in range(5):
            with client.stream(MODEL, MESSAGES) as stream:
                assert [e for e in stream][-1].reason == "stop"  # type: ignore[union-attr]
                assert stream.text == "pooled"
    assert emu.connections - before == 1


def test_the_default_client_opens_a_connection_per_request(emu: Emulator) -> None:
    before = emu.connections
    with RoutingClient("rk_test", emu.base_url, None) as client:
        for _ in range(3):
            assert client.complete(MODEL, MESSAGES).text == "pooled"
    assert emu.connections - before == 3


def test_interrupt_wakes_a_read_waiting_on_a_reused_connection(emu: Emulator) -> None:
    with RoutingClient("rk_test", emu.base_url, None, pool=1) as client:
        with client.stream(MODEL, MESSAGES) as first:
            list(first)  # the connection is now kept alive, and reused below
        emu.latency = 5.0  # the next answer's headers are 5 s away
        failure: list[BaseException] = []

        def read() -> None:
            try:
                with client.stream(MODEL, MESSAGES) as stream:
                    list(stream)
            except errors.RoutingError as exc:
                failure.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.3)
        started = time.monotonic()
        client.interrupt()
        reader.join(5)
        assert not reader.is_alive()
        assert time.monotonic() - started < 1
        assert failure and isinstance(failure[0], errors.RoutingError)


@pytest.mark.parametrize("pool", [0, 3])
def test_retry_after_is_kept_on_the_error(emu: Emulator, pool: int) -> None:
    emu.inject("RATE_LIMIT_EXCEEDED", retry_after=7)
    client = RoutingClient("rk_test", emu.base_url, None, pool=pool, max_attempts=1)
    with client, pytest.raises(errors.RateLimited) as caught:
        client.complete(MODEL, MESSAGES)
    assert caught.value.retry_after == 7.0 and caught.value.code == "RATE_LIMIT_EXCEEDED"
