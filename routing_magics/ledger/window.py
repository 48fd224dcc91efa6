"""A minute's send window: when one more request may go, given the sends already in it.

Pure arithmetic, shared by the rate budget file (ledger/budget.py, every kernel's batches) and a
batch's in-process fallback (run/batch/windows.py). Two kinds of sends fill a window: those whose
times are known (reserved here, by any batch on the machine) and those the service counted that
nobody here made (single cells, another machine). routing.run does not say when those were made
nor when its minute resets, so they are taken as spread evenly over the minute before it was
asked: they leave the window at a steady rate. Counting them as made "just now" froze a batch
for 62 s after another one; forgetting them invites 429s.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

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


def next_slot(known: Sequence[float], earliest: float, limit: int, unknown: Unknown) -> float:
    """The first time from `earliest` at which one more send keeps every 60 s at `limit` sends.

    `known`: the known send times, oldest first, none after `earliest` (slots are handed out in
    order). Each turn moves past one known send leaving the window or lands where enough of the
    unknown ones have left; memory and turns are sized by `known`, never by the numbers given."""
    slot = earliest
    first = bisect_right(known, slot - WINDOW)  # known[first:] are inside the window
    while True:
        inside = len(known) - first
        if inside >= limit:
            slot = max(slot, known[len(known) - limit] + WINDOW)
            first = bisect_right(known, slot - WINDOW)
            continue
        later = unknown.down_to(limit - 1 - inside)
        if later <= slot:
            return slot
        leaves = known[first] + WINDOW if inside else later  # the oldest inside leaves then
        slot = min(later, leaves)
        first = bisect_right(known, slot - WINDOW)
