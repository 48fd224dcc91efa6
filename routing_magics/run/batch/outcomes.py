"""A batch's options and their one check, and how it and each of its rows ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ...api.errors import ConfigurationError, RoutingError
from ...display.progress import BatchSummary, FailedRow
from ...prompt.rows import FrameRows
from ...prompt.schema import Schema

#: Requests in flight when the cell does not say (`--concurrency`, `each(concurrency=)`).
DEFAULT_CONCURRENCY = 8
#: Most requests in flight: routing.run's concurrent stream limit (facts §3b).
MAX_CONCURRENCY = 50

if TYPE_CHECKING:
    from ..structured import StructuredUse

RowStatus = Literal["ok", "cached", "failed", "stopped", "not sent"]


@dataclass
class RowOutcome:
    status: RowStatus = "not sent"
    text: str | None = None
    code: str = ""
    message: str = ""
    value: object = None  # the parsed answer, under --format json


@dataclass(frozen=True)
class BatchOptions:
    concurrency: int = DEFAULT_CONCURRENCY
    limit: int | None = None  # send at most this many rows now (the rest: "not sent")
    cache: bool = True
    fmt: str = "markdown"  # part of the cache key; "json" answers are parsed as they arrive
    requests_per_minute: int | None = None  # overrides the plan's limit
    schema: StructuredUse | None = None  # --schema: each answer checked, repaired, validated

    def check(self) -> None:
        """Fail before any request on options no batch can run with (every shell's one check)."""
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ConfigurationError(
                f"--concurrency {self.concurrency}: give 1 to {MAX_CONCURRENCY} "
                f"(routing.run allows {MAX_CONCURRENCY} streams at once)"
            )
        if self.limit is not None and self.limit < 0:
            raise ConfigurationError(f"--limit {self.limit}: give 0 or more rows")


@dataclass
class BatchResult:
    """Every row's outcome, in the frame's order, and what the batch cost."""

    rows: FrameRows
    outcomes: list[RowOutcome]
    model: str
    tokens: int = 0
    prompt_tokens: int = 0  # of `tokens`, for a cost by model (several models, ui/compare_each)
    completion_tokens: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    requests: int = 0
    rate_limited: int = 0  # requests refused by a per-minute 429, then sent again
    retried: int = 0  # requests sent again (after a 429, a provider error, a timeout)
    unrecorded: str | None = None  # the line that says the ledger or cache failed, if it did
    redacted: str | None = None  # the line that says credentials were taken out of prompts
    stopped_by: RoutingError | None = None  # the error that stopped it (a shell words its advice)
    schema: Schema | None = None  # --schema: the answers are validated objects
    pacing: list[str] = field(default_factory=list)  # lines about the pace (a capped override)

    def count(self, status: RowStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> BatchSummary:
        failures = [
            FailedRow(str(label), o.code, o.message)
            for label, o in zip(self.rows.labels, self.outcomes, strict=True)
            if o.status == "failed"
        ]
        return BatchSummary(
            total=len(self.outcomes), answered=self.count("ok"), cached=self.count("cached"),
            failed=len(failures), not_sent=self.count("not sent") + self.count("stopped"),
            tokens=self.tokens, seconds=self.seconds, stopped=self.stopped, failures=failures,
            retried=self.retried, rate_limited=self.rate_limited,
        )  # fmt: skip
