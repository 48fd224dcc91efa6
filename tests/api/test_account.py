"""GET /v1/user/requests as caps and use; the 80% warning; when the daily cap resets, locally."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from routing_magics.api import errors
from routing_magics.api.account import MAX_PER_MINUTE, cap_warning, parse_account, reset_phrase
from routing_magics.api.client import RoutingClient
from routing_magics.emulator import Emulator
from tests.hostile import HostileServer, reply


def account(used_today: int, limit_today: int = 100, used_hour: int = 0, limit_hour: int = 0):
    return parse_account({
        "requests_used_today": used_today, "requests_limit_today": limit_today,
        "requests_used_this_hour": used_hour, "requests_limit_this_hour": limit_hour,
        "requests_used_this_minute": 1, "requests_limit_per_minute": 100, "plan_tier": "Lite",
    })  # fmt: skip


def test_the_emulators_counts_parse(emu: Emulator) -> None:
    emu.daily_limit = 40
    with RoutingClient("rk_test", emu.base_url, None) as client:
        client.complete("route/glm-5", [{"role": "user", "content": "echo: hi"}])
        info = parse_account(client.quick_get("/user/requests"))
    assert (info.plan, info.day.used, info.day.limit, info.day.left) == ("Premium", 1, 40, 39)
    assert (info.hour.used, info.hour.limit, info.minute.limit) == (1, 500, 100)


def test_no_warning_at_79_percent_a_warning_at_80_and_past_the_cap() -> None:
    assert cap_warning(account(79)) is None
    assert cap_warning(account(80)) == "80 of 100 requests used today"
    assert cap_warning(account(1_212, 1_500)) == "1,212 of 1,500 requests used today"
    assert cap_warning(account(100)) == "100 of 100 requests used today"


def test_the_hourly_cap_warns_too_and_no_cap_never_does() -> None:
    assert cap_warning(account(1, 100, 400, 500)) == "400 of 500 requests used this hour"
    assert cap_warning(account(0, 0, 9_999, 0)) is None  # 0 means no cap (Lite's hour)


def test_requests_sent_since_the_fetch_count_but_never_past_the_cap() -> None:
    assert account(78).spent(2).day.used == 80
    assert account(99).spent(5).day.used == 100


@pytest.fixture
def tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with TZ set (the process's local time follows it)."""
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        ("Asia/Tokyo", "09:00 JST tomorrow"),  # UTC+9: midnight UTC is tomorrow morning
        ("America/New_York", "19:00 EST today"),  # UTC-5 in December: this evening
        ("UTC", "00:00 UTC tomorrow"),
    ],
)
def test_the_reset_is_said_in_local_time(
    tz: None, monkeypatch: pytest.MonkeyPatch, zone: str, local: str
) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    now = datetime(2026, 12, 2, 13, 30, tzinfo=timezone.utc)
    assert reset_phrase(now) == f"at midnight UTC ({local}, in 10 h 30 min)"


def test_the_daily_cap_error_says_when_it_resets(emu: Emulator) -> None:
    emu.daily_limit = 1
    messages = [{"role": "user", "content": "echo: hi"}]
    with RoutingClient("rk_test", emu.base_url, None) as client:
        client.complete("route/glm-5", messages)
        with pytest.raises(errors.DailyLimitExceeded) as caught:
            client.complete("route/glm-5", messages)
    text = str(caught.value)
    assert "resets at midnight UTC (" in text and "\n" not in text
    assert "RoutingClient.user_requests()" in text and "%route" not in text


# --- numbers no account can have (issue 21) -------------------------------------------------

#: What a hostile GET /v1/user/requests may say; JSON allows NaN and Infinity as Python reads it.
HOSTILE = (
    b'{"requests_used_today": 1e308, "requests_limit_today": 1500,'
    b' "requests_used_this_hour": Infinity, "requests_limit_this_hour": NaN,'
    b' "requests_used_this_minute": 9007199254740992,'
    b' "requests_limit_per_minute": 1' + b"0" * 400 + b', "requests_remaining": 1e300,'
    b' "plan_tier": "Premium"}'
)


def test_account_numbers_are_clamped_to_what_can_be_true() -> None:
    with (
        HostileServer(reply(200, HOSTILE)) as server,
        RoutingClient("rk_test", server.base_url, None) as client,
    ):
        info = parse_account(client.quick_get("/user/requests"))
    assert (info.day.used, info.day.limit, info.day.left) == (1500, 1500, 0)  # never past a cap
    assert info.remaining_today == 1500
    assert info.hour.limit == 0  # NaN: no number, so no cap known
    assert info.minute.limit == MAX_PER_MINUTE  # 10**400 a minute cannot be
    assert info.minute.used == MAX_PER_MINUTE
    assert info.hour.used == 60 * MAX_PER_MINUTE  # what an hour of full minutes holds
    assert cap_warning(info) == "1,500 of 1,500 requests used today"
