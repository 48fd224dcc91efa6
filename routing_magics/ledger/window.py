"""A minute's send window: when one more request may go, given the sends already in it.

Pure arithmetic, shared by the rate budget file (ledger/rates.py, every kernel's batches) and a
batch's in-process fallback (run/batch/windows.py). Two kinds of sends fill a window: those whose
times are known (reserved here, by any batch on the machine) and those the service counted that
nobody here made (single cells, another machine). routing.run does not say when those were made
nor when its minute resets, so they are taken as spread evenly over the minute before it was
asked: they leave the window at a steady rate. Counting them as made "just now" froze a batch
for 62 s after another one; forgetting them invites 429s.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass
from typing import Protocol

WINDOW = 60.0


@dataclass(frozen=True)
class Unknown:
    """`count` sends of unknown times, spread over the minute before `at`."""

    count: float = 0.0
    at: float = 0.0

    def left(self, t: float) -> float:
        """How many of them are still inside the window ending at `t`."""
        share = 1.0 - (t - self.at) / WINDOW
        return self.count * min(1.0, max(0.0, share))

    def down_to(self, room: float) -> float:
        """The first time at which at most `room` of them are left (-inf: already)."""
        if self.count <= room:
            return float("-inf")
        return self.at + WINDOW * (1.0 - room / self.count)

    def plus(self, extra: float, now: float) -> Unknown:
        """These and `extra` more, all spread over the minute before `now`."""
        return Unknown(self.left(now) + extra, now)


class Sends(Protocol):
    """Known send times, as next_slot asks about them."""

    def count_after(self, t: float) -> int: ...  # how many are later than t
    def latest(self, k: int) -> float: ...  # the k-th most recent (1: the last)
    def first_after(self, t: float) -> float | None: ...  # the oldest later than t


class SortedSends:
    """Send times in a sorted list, oldest first (a batch's own window)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def add(self, t: float) -> None:
        insort(self.times, t)

    def forget_until(self, t: float) -> None:
        """Drop the sends at or before `t` (they have left every window still asked about)."""
        del self.times[: bisect_right(self.times, t)]

    def count_after(self, t: float) -> int:
        return len(self.times) - bisect_right(self.times, t)

    def latest(self, k: int) -> float:
        return self.times[-k]

    def first_after(self, t: float) -> float | None:
        i = bisect_right(self.times, t)
        return self.times[i] if i < len(self.times) else None


def next_slot(known: Sends, earliest: float, limit: int, unknown: Unknown) -> float:
    """The first time from `earliest` at which one more send keeps every 60 s at `limit` sends.

    `known`: the known sends, none after `earliest` (slots are handed out in order). Each turn
    moves past one known send leaving the window or lands where enough of the unknown ones have
    left; nothing here is sized by `limit` or `unknown`."""
    slot = earliest
    while True:
        inside = known.count_after(slot - WINDOW)
        if inside >= limit:
            slot = max(slot, known.latest(limit) + WINDOW)
            continue
        later = unknown.down_to(limit - 1 - inside)
        if later <= slot:
            return slot
        oldest = known.first_after(slot - WINDOW)
        slot = later if oldest is None else min(later, oldest + WINDOW)
