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
    order). The memory used is that of `known`, never sized by `limit` or `unknown`."""
    slot = earliest
    inside = [t for t in known if t > slot - WINDOW]
    if len(inside) >= limit:
        slot = max(slot, inside[-limit] + WINDOW)
        inside = [t for t in inside if t > slot - WINDOW]
    room = limit - 1 - len(inside)
    return max(slot, unknown.down_to(room))
