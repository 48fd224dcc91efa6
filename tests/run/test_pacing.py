"""run/pacing.py with a fake clock: even spacing under the limit, a sliding-window cap that
counts what the account already used, a slower pace after a 429, and the plan's numbers."""

from __future__ import annotations

import itertools
import threading
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from routing_magics.api.account import MAX_PER_MINUTE, parse_account
from routing_magics.display.progress import NoProgress
from routing_magics.run.batch import BatchOptions, run_batch
from routing_magics.run.batch.pacing import DEFAULT_PER_MINUTE, Pacer, plan_limits, remaining_today
from routing_magics.run.options import RunOptions
from tests.run.scripted import ACCOUNT, EchoService, keyed_session


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sends_are_evenly_spaced_a_little_under_the_limit() -> None:
    clock = Clock()
    pacer = Pacer(120, clock=clock)
    slots = [pacer.reserve() for _ in range(120)]
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(slots)}
    assert gaps == {round(60 / (120 * 0.97), 6)}
    assert slots[-1] - slots[0] > 60 * 0.97  # never 120 inside a minute


def test_requests_already_used_this_minute_hold_back_the_first_minute() -> None:
    clock = Clock()
    pacer = Pacer(10, used_this_minute=8, clock=clock)
    pacer.interval = 0.0  # the window alone decides here
    slots = [pacer.reserve() for _ in range(3)]
    assert slots[:2] == [clock.now, clock.now]
    assert slots[2] == clock.now + 60  # the 11th in the window waits for the minute to pass


def test_a_429_slows_the_pace_and_waits_for_retry_after() -> None:
    clock = Clock()
    pacer = Pacer(600, clock=clock)
    before = pacer.interval
    pacer.reserve()
    pacer.slow_down(2.0)
    assert pacer.interval == before * 1.5
    assert pacer.reserve() >= clock.now + 2.0


def test_acquire_returns_false_at_once_when_stopped() -> None:
    pacer = Pacer(1)
    pacer.reserve()  # the next slot is a minute away
    stop = threading.Event()
    stop.set()
    assert pacer.acquire(stop) is False


def test_plan_limits_come_from_the_account_or_the_documented_default() -> None:
    account = parse_account({"requests_limit_per_minute": 40, "requests_used_this_minute": 5,
                             "requests_remaining": 12})  # fmt: skip
    assert plan_limits(account, None) == (40, 5)
    assert plan_limits(account, 300) == (300, 5)
    assert plan_limits(None, None) == (DEFAULT_PER_MINUTE, 0)
    assert plan_limits(parse_account({"requests_limit_per_minute": "x"}), None) == (100, 0)
    assert remaining_today(account) == 12 and remaining_today(None) is None


def test_the_pacer_is_sized_by_its_own_sends_never_by_the_numbers_it_is_given() -> None:
    clock = Clock()
    tracemalloc.start()
    try:
        pacer = Pacer(2**53, used_this_minute=2**53, clock=clock)
        slots = [pacer.reserve() for _ in range(3)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"{peak:,} bytes for a pacer of 3 sends"
    assert slots[0] == clock.now + 60  # the minute is used up: the first send waits it out


def test_a_batch_against_absurd_account_numbers_waits_without_eating_memory(
    tmp_path: Path,
) -> None:
    """10**8 used this minute took 1.7 GB, 2**53 raised MemoryError: now the numbers are
    clamped where they are read, and the minute they say is used up is waited out (here, the
    batch is stopped meanwhile)."""
    hostile = ACCOUNT | {"requests_used_this_minute": 2**53, "requests_limit_per_minute": 2**53}
    frame = pd.DataFrame({"text": ["a", "b", "c"]})
    stop = threading.Event()
    with EchoService(account=hostile) as service, keyed_session(service.base_url, tmp_path) as s:
        tracemalloc.start()
        try:
            threading.Timer(0.5, stop.set).start()
            started = time.monotonic()
            result = run_batch(s, "frame", frame, "echo: {text}", RunOptions(model="route/glm-5"),
                               BatchOptions(), {}, NoProgress(), stop)  # fmt: skip
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        sent = service.chat_bodies()
    assert time.monotonic() - started < 5
    assert peak < 20_000_000, f"{peak:,} bytes for a batch of 3 rows"
    assert sent == [] and result.summary().not_sent == 3
    assert MAX_PER_MINUTE < 2**53
