"""Pacing a batch under the plan's per-minute limit: evenly spaced sends, slower after a 429.

routing.run allows a number of requests in any minute (100 on every plan, facts §3b). Sending
them in a burst and then waiting out the minute invites 429s from requests still counted by the
server; spacing sends evenly at a little under the limit never does, and reaches ~97% of it.
A sliding window over our own sends (plus what the account had already used this minute) is
the hard stop behind the spacing. The window holds our own sends only: what the account used
before is one count, so no number a server sends sizes anything here.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ...api.account import AccountInfo
from ...api.policy import capped_retry_after

#: routing.run's documented per-minute limit, used when GET /v1/user/requests does not answer.
DEFAULT_PER_MINUTE = 100
#: Fraction of the limit the spacing aims at: room for the network's jitter.
MARGIN = 0.97
#: After a 429 the spacing grows by this factor (up to SLOWEST_INTERVAL).
SLOWDOWN = 1.5
SLOWEST_INTERVAL = 30.0
WINDOW = 60.0


class Pacer:
    """Hands out send times: at most `per_minute` in any 60 s, evenly spaced; thread-safe."""

    def __init__(
        self,
        per_minute: int,
        *,
        used_this_minute: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = max(1, per_minute)
        self.interval = WINDOW / (self.per_minute * MARGIN)
        self._clock = clock
        now = clock()
        self._next = now
        # Requests the account already made this minute count as if made just now: how many,
        # and when they leave the window.
        self._earlier = min(max(0, used_this_minute), self.per_minute)
        self._earlier_until = now + WINDOW
        self._sent: deque[float] = deque()  # our own send times in the window
        self._lock = threading.Lock()
        self.slowdowns = 0

    def reserve(self) -> float:
        """The next send time (monotonic clock), reserved for the caller."""
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0] <= now - WINDOW:
                self._sent.popleft()
            if now >= self._earlier_until:
                self._earlier = 0
            slot = max(self._next, now)
            if len(self._sent) >= self.per_minute:
                slot = max(slot, self._sent[-self.per_minute] + WINDOW)
            elif self._earlier + len(self._sent) >= self.per_minute:
                slot = max(slot, self._earlier_until)  # the earlier ones are the oldest
            self._next = slot + self.interval
            self._sent.append(slot)
            return slot

    def acquire(self, stop: threading.Event) -> bool:
        """Wait for a send slot; False when `stop` is set meanwhile (then send nothing)."""
        wait = self.reserve() - self._clock()
        if wait > 0:
            return not stop.wait(wait)
        return not stop.is_set()

    def slow_down(self, retry_after: float | None) -> None:
        """A 429 (not the daily cap): space sends further apart, and none before Retry-After
        (capped as for any request: a server asking for days must not hold the batch)."""
        with self._lock:
            self.slowdowns += 1
            self.interval = min(self.interval * SLOWDOWN, SLOWEST_INTERVAL)
            wait = self.interval if retry_after is None else capped_retry_after(retry_after)
            resume = self._clock() + wait
            self._next = max(self._next, resume)


def plan_limits(account: AccountInfo | None, override: int | None) -> tuple[int, int]:
    """(per-minute limit, already used this minute) from GET /v1/user/requests.

    `override` (`%config RouteMagics.requests_per_minute`) wins; with no answer, the documented
    100 a minute.
    """
    used = 0 if account is None else account.minute.used
    if override is not None:
        return override, used
    return (account.minute.limit if account else 0) or DEFAULT_PER_MINUTE, used


def remaining_today(account: AccountInfo | None) -> int | None:
    """Requests left today, if the service said."""
    return None if account is None else account.remaining_today
