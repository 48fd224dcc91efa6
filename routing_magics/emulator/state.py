"""The emulator's mutable state, shared by request threads: plan, faults, requests, usage."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..api.catalog import PLANS
from .faults import Fault, FaultQueue
from .wire import default_pricing

#: Headers never recorded: they carry the API key.
AUTH_HEADERS = frozenset({"authorization", "x-api-key"})


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the emulator saw it; header names lower-cased, auth headers left out."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]

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

    def clear(self) -> None:
        self._times.clear()


def check_plan(plan: str) -> str:
    if plan.lower() not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; expected one of {PLANS}")
    return plan.lower()


def check_token_rate(rate: Any) -> float | None:
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
        raise ValueError("token_rate must be a positive number of tokens per second, or None")
    return float(rate)


class EmulatorState:
    """Everything a request may read or change; safe to use from many threads."""

    def __init__(self, plan: str, token_rate: float | None, daily_limit: int) -> None:
        self.plan = check_plan(plan)
        self.token_rate = check_token_rate(token_rate)
        self.daily_limit = daily_limit
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

    def admit(self) -> bool:
        """Count a chat request; False (and not counted) when today's cap is already reached."""
        now = time.time()
        with self._lock:
            if self._counter.counts(now)[0] >= self.daily_limit:
                return False
            self._counter.add(now)
            return True

    def usage_counts(self) -> tuple[int, int, int]:
        with self._lock:
            return self._counter.counts(time.time())

    def inject(self, fault: Fault) -> None:
        self.faults.push(fault)

    def configure(self, settings: dict[str, Any]) -> None:
        """Apply `plan`, `token_rate` and `daily_limit` where present; ValueError if bad."""
        plan = check_plan(str(settings.get("plan", self.plan)))
        rate = check_token_rate(settings.get("token_rate", self.token_rate))
        limit = settings.get("daily_limit", self.daily_limit)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError("daily_limit must be a non-negative integer")
        self.plan, self.token_rate, self.daily_limit = plan, rate, limit

    def settings(self) -> dict[str, Any]:
        return {"plan": self.plan, "token_rate": self.token_rate, "daily_limit": self.daily_limit}

    def reset(self) -> None:
        """Clear faults, recorded requests and usage counters, and restore the prices."""
        self.faults.clear()
        self.pricing = default_pricing()
        with self._lock:
            self._requests.clear()
            self._counter.clear()
