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
from routing_magics.run.batch.pacing import (
    DEFAULT_PER_MINUTE,
    Pacer,
    override_note,
    plan_limits,
    remaining_today,
)
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


def test_requests_the_service_counted_leave_the_window_steadily_not_a_minute_later() -> None:
    """8 of 10 used this minute, at times the service does not say: taken as spread over the
    minute before, the 3rd send waits 7.5 s (one of them has left), not 60 s (the old guess
    "as if made just now" froze `--limit 5` after a batch for a minute)."""
    clock = Clock()
    pacer = Pacer(10, used_this_minute=8, clock=clock)
    pacer.interval = 0.0  # the window alone decides here
    slots = [pacer.reserve() for _ in range(4)]
    assert slots == [clock.now, clock.now, clock.now + 7.5, clock.now + 15]


def test_a_429_slows_the_pace_and_waits_for_retry_after() -> None:
    clock = Clock()
    pacer = Pacer(600, clock=clock)
    before = pacer.interval
    pacer.reserve()
    pacer.slow_down(2.0)
    assert pacer.interval == before * 1.5
    assert pacer.reserve() >= clock.now + 2.0


def test_after_429s_the_pace_comes_back_step_by_step_as_requests_succeed() -> None:
    """It grew x1.5 per 429 and never came back: 1000/min against 100 ran slower than 100."""
    clock = Clock()
    pacer = Pacer(100, clock=clock)
    base = pacer.interval
    pacer.slow_down(None, sent_at=clock.now)
    pacer.slow_down(None, sent_at=clock.now - 1)  # sent before the first 429: same crowding
    assert pacer.interval == base * 1.5
    pacer.succeeded(clock.now - 1)  # an answer to a request sent before the 429 proves nothing
    assert pacer.interval == base * 1.5
    clock.now += 5
    steps = []
    while pacer.interval > base and len(steps) < 20:
        pacer.succeeded(clock.now)
        steps.append(pacer.interval)
    assert steps[0] < base * 1.5 and 3 <= len(steps) <= 6  # step by step, and all the way
    assert steps[-1] == base
    pacer.succeeded(clock.now)
    assert pacer.interval == base  # never faster than the plan's pace
    for _ in range(12):  # from the slowest pace, ten answers bring it back (not 41, as x1.1)
        pacer.slow_down(None, sent_at=clock.now)
    assert pacer.interval == 30.0
    answers = 0
    while pacer.interval > base:
        pacer.succeeded(clock.now)
        answers += 1
    assert answers <= 10


def test_a_slot_handed_out_before_a_429_waits_for_its_retry_after() -> None:
    """Workers waiting with slots in hand each met the same 429 (and each slowed the pace)."""
    pacer = Pacer(60)  # ~1 s apart
    pacer.reserve()
    sent: list[float] = []
    worker = threading.Thread(target=lambda: pacer.acquire(threading.Event()) and sent.append(
        time.time()))  # fmt: skip
    started = time.time()
    worker.start()
    time.sleep(0.2)  # the worker holds the slot ~1 s away
    pacer.slow_down(2.0, sent_at=started)
    worker.join(timeout=10)
    assert sent and sent[0] - started >= 2.0, sent  # not at its old slot, ~1 s in


def test_long_waits_are_said_with_their_reason() -> None:
    pacer = Pacer(2)
    pacer.reserve()  # the next slot is ~31 s away (2 a minute, evenly spaced)
    stop = threading.Event()
    waiting = threading.Thread(target=pacer.acquire, args=(stop,))
    waiting.start()
    try:
        deadline = time.monotonic() + 5
        while pacer.waiting() == (0.0, "") and time.monotonic() < deadline:
            time.sleep(0.01)
        seconds, why = pacer.waiting()
        assert 25 < seconds <= 31 and why == "for the per-minute limit"
    finally:
        stop.set()
        waiting.join()
    assert pacer.waiting() == (0.0, "")  # nobody waits any more
    pacer = Pacer(600)
    pacer.slow_down(30)
    waiting = threading.Thread(target=pacer.acquire, args=(stop := threading.Event(),))
    waiting.start()
    try:
        deadline = time.monotonic() + 5
        while pacer.waiting() == (0.0, "") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pacer.waiting()[1] == "after a 429 (Retry-After)"
    finally:
        stop.set()
        waiting.join()


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
    assert plan_limits(account, 30) == (30, 5)  # a slower pace is the user's to choose
    assert plan_limits(None, None) == (DEFAULT_PER_MINUTE, 0)
    assert plan_limits(None, 300) == (300, 0)  # the service did not say: the user knows best
    assert plan_limits(parse_account({"requests_limit_per_minute": "x"}), None) == (100, 0)
    assert remaining_today(account) == 12 and remaining_today(None) is None


def test_an_override_above_the_service_limit_is_capped_to_it_in_one_line() -> None:
    account = parse_account({"requests_limit_per_minute": 100, "requests_used_this_minute": 0})
    assert plan_limits(account, 1000) == (100, 0)
    note = override_note(account, 1000)
    assert note is not None and "\n" not in note
    assert "1,000" in note and "paced at 100" in note
    assert override_note(account, 100) is None and override_note(account, None) is None
    assert override_note(None, 1000) is None


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
    assert clock.now <= slots[0] <= clock.now + 60  # a time, however absurd the numbers


def test_a_batch_against_absurd_account_numbers_runs_without_eating_memory(
    tmp_path: Path,
) -> None:
    """10**8 used this minute took 1.7 GB, 2**53 raised MemoryError: now the numbers are
    clamped where they are read (to 60,000 a minute), and a minute said to be used up frees
    its slots as steadily as it filled them, 1 ms apart here."""
    hostile = ACCOUNT | {"requests_used_this_minute": 2**53, "requests_limit_per_minute": 2**53}
    frame = pd.DataFrame({"text": ["a", "b", "c"]})
    with EchoService(account=hostile) as service, keyed_session(service.base_url, tmp_path) as s:
        tracemalloc.start()
        try:
            started = time.monotonic()
            result = run_batch(s, "frame", frame, "echo: {text}", RunOptions(model="route/glm-5"),
                               BatchOptions(), {}, NoProgress())  # fmt: skip
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        sent = service.chat_bodies()
    assert time.monotonic() - started < 5
    assert peak < 20_000_000, f"{peak:,} bytes for a batch of 3 rows"
    assert len(sent) == 3 and result.summary().answered == 3
    assert MAX_PER_MINUTE < 2**53


def test_a_small_batch_right_after_a_busy_minute_starts_at_once(tmp_path: Path) -> None:
    """97 of 100 used this minute, as after a batch: `--limit 5` froze 62 s with no word (the 97
    were counted as sent just now); taken as spread over the minute, five go in ~3 s."""
    busy = ACCOUNT | {"requests_used_this_minute": 97, "requests_limit_per_minute": 100}
    frame = pd.DataFrame({"text": [f"row{i}" for i in range(20)]})
    with EchoService(account=busy) as service, keyed_session(service.base_url, tmp_path) as s:
        started = time.monotonic()
        result = run_batch(s, "frame", frame, "echo: {text}", RunOptions(model="route/glm-5"),
                           BatchOptions(limit=5), {}, NoProgress())  # fmt: skip
        took = time.monotonic() - started
    assert result.summary().answered == 5
    assert took < 10, f"{took:.1f} s for 5 rows"
