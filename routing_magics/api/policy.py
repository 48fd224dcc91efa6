"""How long to wait: timeouts, the retry policy, and Retry-After, parsed and capped."""

from __future__ import annotations

import email.utils
import random
from dataclasses import dataclass
from datetime import datetime, timezone

from ..config import DEFAULT_ANSWER_DEADLINE

__all__ = ["RETRY_AFTER_CAP", "RetryPolicy", "Timeouts", "capped_retry_after", "parse_retry_after"]


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `read` is the longest silence allowed between two chunks of a stream;
    `whole_answer` bounds an unstreamed answer, which sends nothing until it is complete;
    `answer` bounds one answer in all, however steadily bytes (or keep-alives) arrive."""

    connect: float = 10.0
    read: float = 120.0
    write: float = 30.0
    pool: float = 10.0
    whole_answer: float = 600.0
    answer: float = DEFAULT_ANSWER_DEADLINE


#: The longest any Retry-After is honoured, in seconds, by single cells and batches alike: a
#: server asking for days (or `inf`, or a date in 2099) must not hold a notebook for good.
RETRY_AFTER_CAP = 20.0


def capped_retry_after(seconds: float, cap: float | None = None) -> float:
    """`seconds` within [0, cap] (default RETRY_AFTER_CAP, read now); NaN counts as 0."""
    limit = RETRY_AFTER_CAP if cap is None else cap
    return min(seconds, limit) if seconds > 0 else 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """At most `max_attempts`; jittered exponential backoff, Retry-After honoured up to a cap."""

    max_attempts: int = 3
    backoff_base: float = 0.5
    retry_after_cap: float | None = None  # None: RETRY_AFTER_CAP

    def delay(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return capped_retry_after(retry_after, self.retry_after_cap)
        return self.backoff_base * 2.0 ** (retry - 1) * random.uniform(0.75, 1.25)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
