"""The batch flow (run/batch.py) against the emulator over real sockets: alignment, isolation of a
failing row, 429 retries, the daily cap, pacing, pooled connections, stop, and resume."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.api import errors
from routing_magics.config import Settings
from routing_magics.display.progress import NoProgress
from routing_magics.emulator import Emulator
from routing_magics.ledger import Ledger
from routing_magics.run import RunOptions
from routing_magics.run.batch import BatchOptions, BatchResult, run_batch
from routing_magics.session import Session

TEMPLATE = "echo: {text} (row {index})"


@pytest.fixture
def session(emu: Emulator, tmp_path: Path) -> Iterator[Session]:
    settings = Settings(
        api_key="rk_test", base_url=emu.base_url, fallback_base_url=None,
        usage_db=str(tmp_path / "u.sqlite"),
    )  # fmt: skip
    s = Session(settings, notebook="batch.ipynb")
    yield s
    s.close()


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"text": [f"review{i}" for i in range(n)]}, index=[f"r{i}" for i in range(n)]
    )


def chats(emu: Emulator) -> list:  # type: ignore[type-arg]
    return [r for r in emu.requests if r.path == "/v1/chat/completions"]


def run(
    session: Session,
    df: object,
    *,
    progress: object = None,
    stop: threading.Event | None = None,
    template: str = TEMPLATE,
    options: RunOptions | None = None,
    **batch: object,
) -> BatchResult:
    return run_batch(
        session, "df", df, template, options or RunOptions(), BatchOptions(**batch),  # type: ignore[arg-type]
        {"df": df}, progress or NoProgress(), stop,  # type: ignore[arg-type]
    )  # fmt: skip


def outcomes(session: Session) -> list[str]:
    with sqlite3.connect(session.ledger_path) as conn:
        return [r[0] for r in conn.execute("SELECT outcome FROM requests ORDER BY id")]


def assert_aligned(result: BatchResult, n: int) -> None:
    for i, outcome in enumerate(result.outcomes):
        if outcome.status in ("ok", "cached"):
            assert outcome.text == f"review{i} (row r{i})"


class InjectAt:
    """A progress spy that runs `action` once `done` rows have finished."""

    def __init__(self, done: int, action: object) -> None:
        self.at, self.action, self.fired = done, action, False

    def start(self, total: int, done: int) -> None:
        pass

    def update(self, done: int, failed: int, tokens: int) -> None:
        if done >= self.at and not self.fired:
            self.fired = True
            self.action()  # type: ignore[operator]

    def waiting(self, seconds: float, why: str) -> None:
        pass

    def close(self) -> None:
        pass


def test_results_stay_aligned_when_rows_finish_out_of_order(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    emu.inject("stall", seconds=0.6)  # the first request to arrive finishes last
    result = run(session, frame(12), concurrency=4)
    assert [o.status for o in result.outcomes] == ["ok"] * 12
    assert_aligned(result, 12)
    assert result.seconds >= 0.6


def test_a_failing_row_is_isolated_and_listed(session: Session, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    emu.inject("midstream_error", after=1)
    result = run(session, frame(5), concurrency=1)
    statuses = [o.status for o in result.outcomes]
    assert statuses == ["failed", "ok", "ok", "ok", "ok"]
    assert result.outcomes[0].code == "STREAM_ERROR"
    summary = result.summary()
    assert (summary.answered, summary.failed, summary.not_sent) == (4, 1, 0)
    assert [f.label for f in summary.failures] == ["r0"]
    assert_aligned(result, 5)


def test_a_rate_limit_429_is_retried_after_retry_after_without_failing_the_row(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    emu.inject("RATE_LIMIT_EXCEEDED", retry_after=0.5)
    started = time.monotonic()
    result = run(session, frame(4), concurrency=1)
    assert [o.status for o in result.outcomes] == ["ok"] * 4
    assert result.rate_limited == 1
    assert len(chats(emu)) == 5  # one row was sent twice
    assert time.monotonic() - started >= 0.5  # it waited for Retry-After
    assert_aligned(result, 4)


def test_a_provider_error_is_retried_twice_then_fails_the_row(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    emu.inject("PROVIDER_ERROR", times=2)
    assert [o.status for o in run(session, frame(1)).outcomes] == ["ok"]
    assert len(chats(emu)) == 3
    emu.inject("PROVIDER_ERROR", times=3)
    result = run(session, frame(1), cache=False)
    assert [o.status for o in result.outcomes] == ["failed"]
    assert result.outcomes[0].code == "PROVIDER_ERROR"
    assert len(chats(emu)) == 6


def test_the_daily_cap_stops_the_batch_and_keeps_answered_rows(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    spy = InjectAt(3, lambda: emu.inject("DAILY_REQUEST_LIMIT_EXCEEDED", times=5))
    result = run(session, frame(10), concurrency=1, progress=spy)
    statuses = [o.status for o in result.outcomes]
    answered = statuses.count("ok")  # 3, or 4 if the next row left before the fault was queued
    assert answered in (3, 4) and statuses == ["ok"] * answered + ["not sent"] * (10 - answered)
    assert result.stopped is not None and "DAILY_REQUEST_LIMIT_EXCEEDED" in result.stopped
    assert len(chats(emu)) == answered + 1  # nothing sent after the cap
    assert_aligned(result, 10)


def test_a_401_stops_the_batch(session: Session, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    emu.inject("AUTHENTICATION_ERROR", times=20)
    result = run(session, frame(6), concurrency=2)
    assert result.count("ok") == 0 and result.summary().not_sent == 6
    assert result.stopped is not None and "ROUTING_RUN_API_KEY" in result.stopped
    assert len(chats(emu)) <= 2


def test_more_rows_than_the_day_allows_is_refused_before_sending_unless_limited(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    emu.daily_limit = 4
    with pytest.raises(errors.ConfigurationError, match=r"4 requests left today.*--limit 4"):
        run(session, frame(6))
    assert chats(emu) == []
    result = run(session, frame(6), limit=4)
    assert [o.status for o in result.outcomes] == ["ok"] * 4 + ["not sent"] * 2


def test_pacing_spaces_requests_under_the_per_minute_limit_with_no_429(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 300  # the client reads it from GET /v1/user/requests: 5 a second
    result = run(session, frame(10), concurrency=8)
    assert result.count("ok") == 10 and emu.rate_limited == 0
    arrivals = sorted(r.at for r in chats(emu))
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 60 / 300 / 2, gaps  # spaced (give or take scheduling), never a burst
    assert arrivals[-1] - arrivals[0] >= 9 * 60 / 300 * 0.95  # 10 sends span 9 intervals
    assert emu.usage()[2] == 10  # the emulator's per-minute count


def test_the_configured_rate_overrides_the_plan(session: Session, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    result = run(session, frame(4), concurrency=4, requests_per_minute=120)
    arrivals = sorted(r.at for r in chats(emu))
    assert result.count("ok") == 4
    assert arrivals[-1] - arrivals[0] >= 3 * 0.5 * 0.95


def test_connections_are_reused_not_one_per_row(session: Session, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    before = emu.connections
    result = run(session, frame(60), concurrency=4)
    assert result.count("ok") == 60
    assert emu.connections - before <= 4 + 1  # the pool, plus the session's account request


def settle(emu: Emulator, quiet: float = 0.3, most: float = 3.0) -> None:
    """Wait until `emu` has received nothing new for `quiet` seconds (at most `most`)."""
    deadline, seen = time.monotonic() + most, -1
    while len(emu.requests) != seen and time.monotonic() < deadline:
        seen = len(emu.requests)
        time.sleep(quiet)


def test_stop_ends_the_batch_within_half_a_second_and_resume_sends_only_the_rest(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    emu.latency = 0.3
    stop = threading.Event()
    stopped_at: list[float] = []

    def press_stop() -> None:
        stopped_at.append(time.monotonic())
        stop.set()

    spy = InjectAt(5, press_stop)
    result = run(session, frame(40), concurrency=4, progress=spy, stop=stop)
    took = time.monotonic() - stopped_at[0]
    assert took < 0.5, f"stop took {took:.2f} s"
    answered = [i for i, o in enumerate(result.outcomes) if o.status == "ok"]
    assert 5 <= len(answered) < 40
    assert result.count("stopped") >= 1  # closed in flight
    assert result.stopped == "stopped by the user"
    assert_aligned(result, 40)
    assert outcomes(session).count("stopped") == result.count("stopped")
    assert outcomes(session).count("ok") == len(answered)
    settle(emu)  # a request written just before the stop may reach the server a moment later
    emu.reset()
    emu.per_minute_limit, emu.latency = 6000, 0.0
    again = run(session, frame(40), concurrency=4)
    assert again.count("cached") == len(answered)
    assert again.count("ok") == 40 - len(answered)
    assert len(chats(emu)) == 40 - len(answered)  # only the missing rows were sent
    assert_aligned(again, 40)


def test_no_cache_sends_every_row_and_other_parameters_miss_the_cache(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    run(session, frame(3))
    assert run(session, frame(3)).count("cached") == 3
    assert run(session, frame(3), cache=False).count("ok") == 3
    hotter = run(session, frame(3), options=RunOptions(temperature=0.9))
    assert hotter.count("ok") == 3  # another request, another key


def test_ledger_rows_are_written_for_every_request_and_cached_rows_bill_nothing(
    session: Session, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    first = run(session, frame(5))
    run(session, frame(5))
    ledger = Ledger(session.ledger_path)
    [totals] = ledger.totals_by_model("batch.ipynb")
    assert totals.requests == 10
    assert totals.total_tokens == first.tokens > 0
    with sqlite3.connect(session.ledger_path) as conn:
        rows = conn.execute("SELECT outcome, total_tokens FROM requests ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["ok"] * 5 + ["cached"] * 5
    assert all(r[1] == 0 for r in rows[5:])


@pytest.mark.parametrize(
    ("template", "value", "options", "words"),
    [
        ("echo: {txt}", None, {}, "{txt} is not a column of df (columns: text)"),
        (TEMPLATE, [1, 2], {}, "df is a list, not a pandas/polars DataFrame"),
        (TEMPLATE, None, {"concurrency": 51}, "--concurrency 51: give 1 to 50"),
        (TEMPLATE, None, {"concurrency": 0}, "--concurrency 0"),
    ],
)
def test_configuration_errors_fail_before_any_request(
    session: Session,
    emu: Emulator,
    template: str,
    value: object,
    options: dict[str, int],
    words: str,
) -> None:
    with pytest.raises(errors.ConfigurationError) as caught:
        run(session, frame(3) if value is None else value, template=template, **options)
    assert words in str(caught.value)
    assert emu.requests == []


def test_an_unknown_model_fails_before_any_request(session: Session, emu: Emulator) -> None:
    with pytest.raises(errors.ConfigurationError, match="unknown model"):
        run(session, frame(3), options=RunOptions(model="route/nope"))
    assert chats(emu) == []


def test_each_is_the_python_function_under_the_magic(session: Session, emu: Emulator) -> None:
    import routing_magics

    emu.per_minute_limit = 6000
    out = routing_magics.each(frame(3), TEMPLATE, session=session, progress=False, concurrency=2)
    assert isinstance(out, pd.Series) and out.index.tolist() == ["r0", "r1", "r2"]
    assert out.tolist() == ["review0 (row r0)", "review1 (row r1)", "review2 (row r2)"]


def test_importing_the_package_does_not_load_the_batch_flow() -> None:
    import subprocess
    import sys

    probe = "import sys, routing_magics; print('routing_magics.run' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False"
