"""Refresher: fetched in the background, kept for max_age, not re-asked soon after a failure."""

from __future__ import annotations

import threading

from routing_magics.api import errors
from routing_magics.api.refresh import Refresher


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_kept_for_max_age_then_fetched_again() -> None:
    clock, calls = Clock(), []

    def fetch() -> int:
        calls.append(clock.now)
        return len(calls)

    value = Refresher(fetch, max_age=60, clock=clock)
    assert value.get() is None  # nothing asked yet
    value.start()
    assert value.get(wait=10) == 1 and value.started_at == 1000.0
    clock.now += 59
    value.start()
    assert value.get(wait=10) == 1 and len(calls) == 1
    clock.now += 2
    value.start()
    assert value.get(wait=10) == 2


def test_after_a_failure_there_is_no_value_and_no_retry_until_retry_after() -> None:
    clock, calls = Clock(), []

    def fetch() -> int:
        calls.append(clock.now)
        raise errors.Timeout("slow")

    value = Refresher(fetch, max_age=60, retry_after=300, clock=clock)
    value.start()
    assert value.get(wait=10) is None
    clock.now += 299
    value.start()
    assert value.get(wait=10) is None and len(calls) == 1
    clock.now += 2
    value.start()
    value.get(wait=10)
    assert len(calls) == 2


def test_invalidate_forgets_the_value() -> None:
    value = Refresher(lambda: "prices", max_age=60)
    value.start()
    assert value.get(wait=10) == "prices"
    value.invalidate()
    assert value.value is None and value.started_at is None


def test_a_fetch_that_was_not_ready_is_not_waited_for_again() -> None:
    release, waited = threading.Event(), []

    def fetch() -> str:
        release.wait(30)
        return "late"

    value = Refresher(fetch, max_age=60)
    value.start()
    assert value.get(wait=0.05) is None  # one short wait …
    started = threading.Event()

    def second_caller() -> None:
        started.set()
        waited.append(value.get(wait=30))  # … and none for the next caller

    caller = threading.Thread(target=second_caller)
    caller.start()
    caller.join(10)
    assert started.is_set() and not caller.is_alive() and waited == [None]
    release.set()
