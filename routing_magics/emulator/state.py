"""The emulator's mutable state, shared by request threads: plan, faults, requests, usage."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..api.catalog import PLANS
from .faults import Fault, FaultQueue
from .wire import PER_MINUTE_LIMIT, default_pricing

#: Headers never recorded: they carry the API key.
AUTH_HEADERS = frozenset({"authorization", "x-api-key"})


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the emulator saw it; header names lower-cased, auth headers left out."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]
    #: When it arrived (time.time()), for tests of pacing.
    at: float = field(default_factory=time.time, compare=False)

    @property
    def json(self) -> Any:
        """The decoded JSON body (None when there was none): the same as `body`."""
        return self.body

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "headers": self.headers,
        }


def recordable_headers(items: list[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in items if k.lower() not in AUTH_HEADERS}


class RequestCounter:
    """Chat requests by time: today (UTC), the last hour, the last minute."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def add(self, now: float) -> None:
        self._times.append(now)

    def counts(self, now: float) -> tuple[int, int, int]:
        day_start = now - now % 86_400
        while self._times and self._times[0] < min(day_start, now - 3600):
            self._times.popleft()
        today = sum(1 for t in self._times if t >= day_start)
        hour = sum(1 for t in self._times if t > now - 3600)
        minute = sum(1 for t in self._times if t > now - 60)
        return today, hour, minute

    def minute_frees_at(self, now: float) -> float:
        """When the oldest request of the last minute leaves the window."""
        inside = [t for t in self._times if t > now - 60]
        return (inside[0] if inside else now) + 60

    def clear(self) -> None:
        self._times.clear()


@dataclass(frozen=True)
class Admission:
    """Whether a chat request may go on: "ok", or refused at the "daily" or "minute" cap."""

    verdict: str
    retry_after: float = 0.0


def check_plan(plan: str) -> str:
    if plan.lower() not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; expected one of {PLANS}")
    return plan.lower()


def check_per_minute(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("per_minute_limit must be a positive integer")
    return limit


def check_latency(seconds: Any) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise ValueError("latency must be a non-negative number of seconds")
    return float(seconds)


def check_token_rate(rate: Any) -> float | None:
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
        raise ValueError("token_rate must be a positive number of tokens per second, or None")
    return float(rate)


class EmulatorState:
    """Everything a request may read or change; safe to use from many threads."""

    def __init__(
        self,
        plan: str,
        token_rate: float | None,
        daily_limit: int,
        per_minute_limit: int = PER_MINUTE_LIMIT,
        latency: float = 0.0,
    ) -> None:
        self.plan = check_plan(plan)
        self.token_rate = check_token_rate(token_rate)
        self.daily_limit = daily_limit
        self.per_minute_limit = check_per_minute(per_minute_limit)
        #: Seconds every chat request waits before its response starts (an upstream's delay).
        self.latency = check_latency(latency)
        #: Chat requests refused with 429 RATE_LIMIT_EXCEEDED by the per-minute limit.
        self.rate_limited = 0
        self.faults = FaultQueue()
        #: Set when the emulator stops: wakes sleeping streams and stalls.
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._counter = RequestCounter()
        #: GET /v1/pricing's `models` list; tests may swap it (several tiers, missing models).
        self.pricing: list[dict[str, Any]] = default_pricing()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def recorded(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def admit(self) -> Admission:
        """Count a chat request, or refuse it (not counted) at the daily or per-minute cap."""
        now = time.time()
        with self._lock:
            today, _, minute = self._counter.counts(now)
            if today >= self.daily_limit:
                return Admission("daily")
            if minute >= self.per_minute_limit:
                self.rate_limited += 1
                return Admission("minute", self._counter.minute_frees_at(now) - now)
            self._counter.add(now)
            return Admission("ok")

    def usage_counts(self) -> tuple[int, int, int]:
        with self._lock:
            return self._counter.counts(time.time())

    def inject(self, fault: Fault) -> None:
        self.faults.push(fault)

    def configure(self, settings: dict[str, Any]) -> None:
        """Apply `plan`, `token_rate`, `daily_limit`, `per_minute_limit` and `latency` where
        present; ValueError if bad."""
        plan = check_plan(str(settings.get("plan", self.plan)))
        rate = check_token_rate(settings.get("token_rate", self.token_rate))
        limit = settings.get("daily_limit", self.daily_limit)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError("daily_limit must be a non-negative integer")
        per_minute = check_per_minute(settings.get("per_minute_limit", self.per_minute_limit))
        latency = check_latency(settings.get("latency", self.latency))
        self.plan, self.token_rate, self.daily_limit = plan, rate, limit
        self.per_minute_limit, self.latency = per_minute, latency

    def settings(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "token_rate": self.token_rate,
            "daily_limit": self.daily_limit,
            "per_minute_limit": self.per_minute_limit,
            "latency": self.latency,
        }

    def reset(self) -> None:
        """Clear faults, recorded requests and usage counters, and restore the prices."""
        self.faults.clear()
        self.pricing = default_pricing()
        with self._lock:
            self._requests.clear()
            self._counter.clear()
            self.rate_limited = 0


def admission_refusal(
    state: EmulatorState, admission: Admission
) -> tuple[str, str, str | None] | None:
    """A 429's (code, text, Retry-After) for a refused admission; None when it may go on."""
    if admission.verdict == "daily":
        count = f"{state.daily_limit} request" + ("" if state.daily_limit == 1 else "s")
        return (
            "DAILY_REQUEST_LIMIT_EXCEEDED",
            f"Daily request limit exceeded: {count} per day",
            None,
        )
    if admission.verdict == "minute":
        text = f"Rate limit exceeded: {state.per_minute_limit} requests per minute"
        return "RATE_LIMIT_EXCEEDED", text, str(max(1, math.ceil(admission.retry_after)))
    return None
