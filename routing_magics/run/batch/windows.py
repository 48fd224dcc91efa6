"""Where a batch's send slots come from: the machine's shared rate budget (ledger/rates.py), or,
when its file cannot be used, a window of this batch's own (today's pacing), said in one line.

Only batches reserve slots; a cell's sends are noted in the budget (run/rates.py) but never
held back.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from ...ledger.rates import RateBudget, RateBudgetUnavailable, rate_budget_path
from ...ledger.window import WINDOW, SortedSends, Unknown, next_slot
from ..rates import session_bucket

if TYPE_CHECKING:
    from ...session import Session

# Lines already said in this process: a broken budget file is said once, not per batch.
_SAID: set[str] = set()


class SendWindow(Protocol):
    """Hands out send slots (time.time()) under a per-minute limit."""

    note: str | None  # a line for the user about this window, if any

    def reserve(self, limit: int, interval: float, now: float) -> float: ...
    def hold(self, until: float) -> None: ...
    def close(self) -> None: ...


class LocalWindow:
    """This batch's own sends in the last minute, plus the service's count of the rest."""

    note: str | None = None

    def __init__(self, used: int = 0, now: float = 0.0) -> None:
        self._sent = SortedSends()
        self._next = now
        self._unknown = Unknown(float(max(0, used)), now)
        self._lock = threading.Lock()

    def reserve(self, limit: int, interval: float, now: float) -> float:
        with self._lock:
            self._sent.forget_until(now - WINDOW)
            slot = next_slot(self._sent, max(self._next, now), limit, self._unknown)
            self._sent.add(slot)
            self._next = slot + interval
            return slot

    def hold(self, until: float) -> None:
        with self._lock:
            self._next = max(self._next, until)

    def close(self) -> None:
        pass


class SharedWindow:
    """One bucket of the budget file; on its first failure, a LocalWindow carries on."""

    def __init__(self, budget: RateBudget, bucket: str, used: int, now: float) -> None:
        self._budget, self._bucket = budget, bucket
        self._fallback: LocalWindow | None = None
        self.note: str | None = None
        self._lock = threading.Lock()
        self._closed = False
        try:
            budget.seed(bucket, used, now)
        except RateBudgetUnavailable as exc:
            self._fall_back(exc, used, now)

    def reserve(self, limit: int, interval: float, now: float) -> float:
        if self._fallback is None:
            try:
                return self._budget.reserve(self._bucket, limit, interval, now)
            except RateBudgetUnavailable as exc:
                self._fall_back(exc, 0, now)
        assert self._fallback is not None
        return self._fallback.reserve(limit, interval, now)

    def hold(self, until: float) -> None:
        if self._fallback is None:
            try:
                return self._budget.hold(self._bucket, until)
            except RateBudgetUnavailable as exc:
                self._fall_back(exc, 0, until)
        assert self._fallback is not None
        self._fallback.hold(until)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._budget.close()

    def _fall_back(self, exc: RateBudgetUnavailable, used: int, now: float) -> None:
        with self._lock:
            if self._fallback is None:
                self._fallback = LocalWindow(used, now)
                # A worker still winding down after the batch closed the file says nothing.
                self.note = None if self._closed else _once(str(exc))


def window_for(session: Session, used: int, now: float) -> SendWindow:
    """The shared budget's window for this session's key and service; a LocalWindow, with its
    one line, when the budget file cannot be used."""
    path = rate_budget_path(session.ledger_path)
    try:
        budget = RateBudget(path)
    except RateBudgetUnavailable as exc:
        window = LocalWindow(used, now)
        window.note = _once(str(exc))
        return window
    return SharedWindow(budget, session_bucket(session), used, now)


def _once(line: str) -> str | None:
    if line in _SAID:
        return None
    _SAID.add(line)
    return line
