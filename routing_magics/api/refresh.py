"""A value fetched on a background thread and kept for a while: prices, account counts.

Optional information must never hold up a cell: `start()` returns at once, `get(wait)` waits at
most `wait` seconds for a fetch in flight, and a failure simply leaves no value (asked again
after `retry_after`). Nothing here is specific to HTTP; `fetch` does the asking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from . import errors

T = TypeVar("T")


class Refresher(Generic[T]):
    """The last value `fetch` returned; re-fetched once older than `max_age` seconds."""

    def __init__(
        self,
        fetch: Callable[[], T],
        *,
        max_age: float,
        retry_after: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "routing-magics-refresh",
    ) -> None:
        self._fetch, self.max_age, self.retry_after = fetch, max_age, retry_after
        self._clock, self._name = clock, name
        self._lock = threading.Lock()
        self._value: T | None = None
        self._started_at: float | None = None  # when the fetch behind `_value` was started
        self._failed_at: float | None = None
        self._running: threading.Thread | None = None
        self._outlasted: threading.Thread | None = None  # a fetch that outlasted a wait

    @property
    def value(self) -> T | None:
        """The last fetched value (however old), or None."""
        return self._value

    @property
    def started_at(self) -> float | None:
        """Clock time when the fetch that produced `value` started (it knows nothing later)."""
        return self._started_at

    def start(self) -> None:
        """Fetch on a thread if the value is missing or old (and no fetch failed lately)."""
        with self._lock:
            now = self._clock()
            fresh = self._started_at is not None and now - self._started_at < self.max_age
            failed = self._failed_at is not None and now - self._failed_at < self.retry_after
            if fresh or failed or self._running is not None:
                return
            self._running = threading.Thread(
                target=self._run, args=(now,), name=self._name, daemon=True
            )
            self._running.start()

    def get(self, wait: float = 0.0) -> T | None:
        """The value, after waiting at most `wait` seconds for a fetch in flight.

        A fetch that was not ready when asked is not waited for again: a hanging endpoint
        costs one short wait, not one per cell."""
        running = self._running
        if running is not None and running is not self._outlasted:
            if wait > 0:
                running.join(wait)
            if running.is_alive():
                self._outlasted = running
        return self._value

    def invalidate(self) -> None:
        """Forget the value (e.g. a new key): the next `start()` fetches again."""
        with self._lock:
            self._value = self._started_at = self._failed_at = self._outlasted = None

    def _run(self, started: float) -> None:
        value: T | None = None
        try:
            value = self._fetch()
        except (errors.RoutingError, ValueError, TypeError):
            pass  # optional information: no value, and no traceback in the notebook
        finally:
            with self._lock:
                if value is not None:
                    self._value, self._started_at, self._failed_at = value, started, None
                else:
                    self._failed_at = self._clock()
                self._running = None
