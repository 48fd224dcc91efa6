"""GET /v1/user/requests → the plan's request caps and what is used, and when the day's cap resets.

routing.run counts requests per user for the day (resetting at midnight UTC, per its docs), the
hour and the minute. A limit of 0 means the plan has no such cap (Lite has no hourly one).
The counts are clamped here, where they are read, to what can be true: a count is never above
its cap, and never above what its period can hold (MAX_PER_MINUTE a minute). A server saying
10**8 were used this minute must not size anything downstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

Period = Literal["today", "this hour", "this minute"]
#: The share of a cap past which the footer warns.
WARN_SHARE = 0.8
#: The most requests any minute can hold, whatever a server says: 1,000 a second, 600 times
#: the 100 a minute the service allows a user (facts §3b).
MAX_PER_MINUTE = 60_000
_MOST: dict[Period, int] = {
    "today": 24 * 60 * MAX_PER_MINUTE,
    "this hour": 60 * MAX_PER_MINUTE,
    "this minute": MAX_PER_MINUTE,
}


@dataclass(frozen=True)
class Allowance:
    """Requests used and allowed in one period; `limit` 0 means no cap."""

    period: Period
    used: int
    limit: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def plus(self, requests: int) -> Allowance:
        """After `requests` more; never past a cap, since the service refuses those."""
        used = self.used + requests
        return replace(self, used=min(used, self.limit) if self.limit > 0 else used)

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit > 0 else 0.0


@dataclass(frozen=True)
class AccountInfo:
    plan: str
    day: Allowance
    hour: Allowance
    minute: Allowance
    #: `requests_remaining` as the service said it (None: not said).
    remaining_today: int | None = None

    def spent(self, requests: int) -> AccountInfo:
        """This account after `requests` more (sent since it was fetched)."""
        if requests <= 0:
            return self
        day, hour, minute = (a.plus(requests) for a in (self.day, self.hour, self.minute))
        return replace(self, day=day, hour=hour, minute=minute)


def _count(data: Mapping[str, Any], name: str, most: int) -> int | None:
    """A count from the JSON, at most `most`; None when it is no number (NaN, text, -1)."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        return None  # `not >=` is also true for NaN
    return int(min(value, most))


def _allowance(data: Mapping[str, Any], period: Period, used: str, limit: str) -> Allowance:
    """A period's use and cap: the cap at most what the period holds, the use at most the cap."""
    cap = _count(data, limit, _MOST[period]) or 0
    return Allowance(period, _count(data, used, cap or _MOST[period]) or 0, cap)


def parse_account(data: Mapping[str, Any]) -> AccountInfo:
    """An AccountInfo from GET /v1/user/requests; missing or odd numbers read as 0, numbers
    past what can be true as that much."""
    plan = data.get("plan_tier")
    day = _allowance(data, "today", "requests_used_today", "requests_limit_today")
    return AccountInfo(
        plan=plan if isinstance(plan, str) and plan else "?",
        day=day,
        hour=_allowance(data, "this hour", "requests_used_this_hour", "requests_limit_this_hour"),
        minute=_allowance(
            data, "this minute", "requests_used_this_minute", "requests_limit_per_minute"
        ),
        remaining_today=_count(data, "requests_remaining", day.limit or _MOST["today"]),
    )


def cap_warning(info: AccountInfo) -> str | None:
    """E.g. '1,212 of 1,500 requests used today' once a day's or hour's use reaches 80%."""
    for allowance in (info.day, info.hour):
        if allowance.limit > 0 and allowance.share >= WARN_SHARE:
            return f"{allowance.used:,} of {allowance.limit:,} requests used {allowance.period}"
    return None


def daily_reset(now: datetime | None = None) -> datetime:
    """The next midnight UTC, when the day's cap resets."""
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(timezone.utc).date()
    return datetime(today.year, today.month, today.day, tzinfo=timezone.utc) + timedelta(days=1)


def reset_phrase(now: datetime | None = None) -> str:
    """When the cap resets, in local time: 'at midnight UTC (01:00 CET tomorrow, in 3 h 5 min)'."""
    now = (now or datetime.now(timezone.utc)).astimezone()
    reset = daily_reset(now).astimezone()
    day = "today" if reset.date() == now.date() else "tomorrow"
    minutes = max(1, int((reset - now).total_seconds() // 60))
    wait = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    local = f"{reset:%H:%M} {reset.tzname() or 'local time'} {day}"
    return f"at midnight UTC ({local}, in {wait})"
