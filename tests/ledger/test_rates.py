"""The rate budget file (ledger/rates.py): one send window per key and service, shared by
every connection and process on the machine; private, keyless, and said in one line when it
cannot be used (the batch then paces on its own and still answers)."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.display.progress import NoProgress
from routing_magics.ledger.rates import (
    RateBudget,
    RateBudgetUnavailable,
    bucket_of,
    rate_budget_path,
)
from routing_magics.ledger.window import WINDOW
from routing_magics.run.batch import BatchOptions, run_batch
from routing_magics.run.batch.windows import LocalWindow, window_for
from routing_magics.run.options import RunOptions
from tests.run.scripted import EchoService, keyed_session

NOW = 1_000_000.0
KEY = "rk_" + "ab" * 32


def most_in_a_minute(slots: list[float]) -> int:
    """The most sends inside any 60 s window (each window starting at a send)."""
    ordered = sorted(slots)
    return max(sum(1 for t in ordered if s <= t < s + WINDOW) for s in ordered)


def test_two_connections_share_one_window_evenly(tmp_path: Path) -> None:
    path, bucket = tmp_path / "rate-budget.sqlite", bucket_of(KEY, "https://api.routing.run/v1")
    first, second = RateBudget(path), RateBudget(path)
    try:
        interval = 60 / 10
        slots = [b.reserve(bucket, 10, interval, NOW) for b in (first, second) * 10]
    finally:
        first.close()
        second.close()
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(slots)}
    assert gaps == {interval}  # interleaved, one pace for both
    assert most_in_a_minute(slots) == 10


def test_another_key_or_service_has_a_budget_of_its_own(tmp_path: Path) -> None:
    budget = RateBudget(tmp_path / "rate-budget.sqlite")
    try:
        names = [bucket_of(KEY, "a"), bucket_of(KEY, "b"), bucket_of("rk_other", "a")]
        assert len(set(names)) == 3
        assert [budget.reserve(name, 1, 60, NOW) for name in names] == [NOW] * 3
        assert budget.reserve(names[0], 1, 60, NOW) == NOW + WINDOW  # 1 a minute for that one
    finally:
        budget.close()


def _reserve_many(path: str, bucket: str, count: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    budget = RateBudget(path)
    out.put([budget.reserve(bucket, 50, 0.0, NOW) for _ in range(count)])
    budget.close()


def test_processes_writing_at_once_never_overfill_a_minute(tmp_path: Path) -> None:
    """Four processes race for 40 slots each under 50 a minute: no minute holds more than 50."""
    path, bucket = str(tmp_path / "rate-budget.sqlite"), bucket_of(KEY, "svc")
    RateBudget(path).close()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    task = (path, bucket, 40, out)
    workers = [context.Process(target=_reserve_many, args=task) for _ in range(4)]
    for worker in workers:
        worker.start()
    slots = [slot for _ in workers for slot in out.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=10)
    assert len(slots) == 160 and most_in_a_minute(slots) == 50
    assert sorted(slots)[:50] == [NOW] * 50  # the first minute's 50 at once (no spacing asked)


def test_requests_the_service_counted_are_not_counted_twice(tmp_path: Path) -> None:
    """A batch's own sends are in the file: when the service counts them too, the next batch
    adds none as unknown; what the service counted beyond them leaves the window steadily."""
    budget, bucket = RateBudget(tmp_path / "rate-budget.sqlite"), bucket_of(KEY, "svc")
    try:
        earlier = [budget.reserve(bucket, 10, 0.0, NOW - 30) for _ in range(6)]
        assert earlier == [NOW - 30] * 6
        budget.seed(bucket, 6, NOW)  # the service counted just those six
        assert [budget.reserve(bucket, 10, 0.0, NOW) for _ in range(4)] == [NOW] * 4
        assert budget.reserve(bucket, 10, 0.0, NOW) == NOW + 30  # the six leave at NOW + 30
        budget.seed(bucket, 20, NOW + 30)  # 5 of ours in its minute, 15 it counted elsewhere
        # At NOW + 60 the four of NOW have left, and half the 15: 1 + 7.5 + the next ≤ 10.
        assert budget.reserve(bucket, 10, 0.0, NOW + 30) == NOW + 60
    finally:
        budget.close()


def test_a_hold_is_kept_by_every_connection(tmp_path: Path) -> None:
    path, bucket = tmp_path / "rate-budget.sqlite", bucket_of(KEY, "svc")
    first, second = RateBudget(path), RateBudget(path)
    try:
        first.reserve(bucket, 100, 0.6, NOW)
        first.hold(bucket, NOW + 12)  # a 429 with Retry-After: 12 in one kernel
        assert second.reserve(bucket, 100, 0.6, NOW + 1) == NOW + 12  # the other waits too
    finally:
        first.close()
        second.close()


def test_the_file_is_private_and_never_holds_the_key(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = rate_budget_path(tmp_path / "new" / "usage.sqlite")
        budget = RateBudget(path)
        budget.reserve(bucket_of(KEY, "https://api.routing.run/v1"), 100, 0.6, NOW)
        budget.close()
    finally:
        os.umask(old)
    assert path == tmp_path / "new" / "rate-budget.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for each in path.parent.iterdir():
        assert KEY.encode() not in each.read_bytes()
        assert KEY[3:].encode() not in each.read_bytes()


def test_an_unusable_file_is_one_line_and_the_batch_paces_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "rate-budget.sqlite").mkdir()  # in the way: no SQLite file can be opened there
    with pytest.raises(RateBudgetUnavailable) as raised:
        RateBudget(tmp_path / "rate-budget.sqlite")
    line = str(raised.value)
    assert "\n" not in line and "rate-budget.sqlite cannot be used" in line
    assert "paced on its own" in line
    frame = pd.DataFrame({"text": ["a", "b", "c"]})
    with EchoService() as service, keyed_session(service.base_url, tmp_path) as s:
        window = window_for(s, 0, NOW)
        assert isinstance(window, LocalWindow)
        result = run_batch(s, "frame", frame, "echo: {text}", RunOptions(model="route/glm-5"),
                           BatchOptions(), {}, NoProgress())  # fmt: skip
        again = run_batch(s, "frame", frame, "echo: {text}", RunOptions(model="route/glm-5"),
                          BatchOptions(cache=False), {}, NoProgress())  # fmt: skip
    assert result.summary().answered == 3 and again.summary().answered == 3
    lines = [line for r in (result, again) for line in r.pacing]
    assert len(lines) <= 1  # said once (window_for above may have said it already)
