"""Pacing a batch under the plan's per-minute limit: evenly spaced sends, slower after a 429,
back up to speed as requests succeed again, and every wait of more than a second said.

routing.run allows a number of requests in any minute (100 on every plan, facts §3b). Sending
them in a burst and then waiting out the minute invites 429s from requests still counted by the
server; spacing sends evenly at a little under the limit never does, and reaches ~97% of it.
The slots come from a `SendWindow` (run/batch/windows.py): the machine's shared rate budget, so
every batch of one key in every kernel stays under the limit together, or this batch's own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ...api.account import AccountInfo
from ...api.policy import capped_retry_after
from .windows import LocalWindow, SendWindow

#: routing.run's documented per-minute limit, used when GET /v1/user/requests does not answer.
DEFAULT_PER_MINUTE = 100
#: Fraction of the limit the spacing aims at: room for the network's jitter.
MARGIN = 0.97
#: After a 429 the spacing grows by this factor (up to SLOWEST_INTERVAL) ...
SLOWDOWN = 1.5
SLOWEST_INTERVAL = 30.0
#: ... and each request sent after it that succeeds halves the spacing's excess over the plan's
#: (from the slowest, 30 s, back to 0.6 s in ten answers), until within this share of it.
RECOVERED = 0.05
#: Waits longer than this many seconds are shown in the progress display.
SHOWN_WAIT = 1.0
PER_MINUTE_WAIT = "for the per-minute limit"
RETRY_AFTER_WAIT = "after a 429 (Retry-After)"


class Pacer:
    """Hands out send times: at most `per_minute` in any 60 s, evenly spaced; thread-safe."""

    def __init__(
        self,
        per_minute: int,
        *,
        used_this_minute: int = 0,
        window: SendWindow | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute = max(1, per_minute)
        self.base_interval = self.interval = 60.0 / (self.per_minute * MARGIN)
        self._clock = clock
        self.window = window if window is not None else LocalWindow(used_this_minute, clock())
        self._lock = threading.Lock()
        self._pending: dict[int, float] = {}  # thread id → the slot it waits for
        self._held_until = float("-inf")
        self._slowed_at = float("-inf")
        self.slowdowns = 0

    def reserve(self) -> float:
        """The next send time (time.time()), reserved for the caller."""
        with self._lock:
            interval = self.interval
        return self.window.reserve(self.per_minute, interval, self._clock())

    def acquire(self, stop: threading.Event) -> bool:
        """Wait for a send slot; False when `stop` is set meanwhile (then send nothing).

        A slot handed out before a 429 came is given back for one after its Retry-After:
        the workers waiting with slots in hand would otherwise each meet the same 429."""
        while True:
            asked = self._clock()
            if not self._wait_for(self.reserve(), stop):
                return False
            with self._lock:
                if self._slowed_at <= asked:
                    return True

    def _wait_for(self, slot: float, stop: threading.Event) -> bool:
        wait = slot - self._clock()
        if wait <= 0:
            return not stop.is_set()
        me = threading.get_ident()
        with self._lock:
            self._pending[me] = slot
        try:
            return not stop.wait(wait)
        finally:
            with self._lock:
                self._pending.pop(me, None)

    def waiting(self) -> tuple[float, str]:
        """(seconds, why) until the next send when that is over SHOWN_WAIT, else (0, "")."""
        with self._lock:
            nearest = min(self._pending.values(), default=None)
            held = self._held_until
        wait = 0.0 if nearest is None else nearest - self._clock()
        if nearest is None or wait <= SHOWN_WAIT:
            return 0.0, ""
        return wait, RETRY_AFTER_WAIT if nearest <= held else PER_MINUTE_WAIT

    def slow_down(self, retry_after: float | None, sent_at: float | None = None) -> None:
        """A 429 (not the daily cap): space sends further apart, and none before Retry-After
        (capped as for any request: a server asking for days must not hold the batch) in any
        batch of this key. A 429 for a request sent before the last one's slowdown is the
        same crowding, told late: it holds the sends but slows them no further."""
        with self._lock:
            self.slowdowns += 1
            if sent_at is None or sent_at >= self._slowed_at:
                self.interval = min(self.interval * SLOWDOWN, SLOWEST_INTERVAL)
            wait = self.interval if retry_after is None else capped_retry_after(retry_after)
            now = self._clock()
            self._slowed_at, self._held_until = now, now + wait
        self.window.hold(now + wait)

    def succeeded(self, sent_at: float) -> None:
        """A request sent at `sent_at` was answered: if it went after the last 429, the pace
        comes back a step towards the plan's."""
        with self._lock:
            if sent_at < self._slowed_at:
                return
            excess = (self.interval - self.base_interval) / 2
            recovered = excess < self.base_interval * RECOVERED
            self.interval = self.base_interval if recovered else self.base_interval + excess


def plan_limits(account: AccountInfo | None, override: int | None) -> tuple[int, int]:
    """(per-minute limit, already used this minute) from GET /v1/user/requests.

    `override` (`%config RouteMagics.requests_per_minute`) wins up to the limit the service
    reports (above it, every extra request is a 429); with no answer, the documented 100.
    """
    used = 0 if account is None else account.minute.used
    limit = account.minute.limit if account else 0
    if override is not None:
        return (min(override, limit) if limit else override), used
    return limit or DEFAULT_PER_MINUTE, used


def override_note(account: AccountInfo | None, override: int | None) -> str | None:
    """The one line for an override above the service's limit, which is paced at the limit."""
    limit = account.minute.limit if account else 0
    if override is None or not limit or override <= limit:
        return None
    return (
        f"requests_per_minute = {override:,} is above the {limit:,} requests a minute the "
        f"service allows this key: the batch is paced at {limit:,}"
    )


def remaining_today(account: AccountInfo | None) -> int | None:
    """Requests left today, if the service said."""
    return None if account is None else account.remaining_today
