"""A batch's options, and how it and each of its rows ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..display.progress import BatchSummary, FailedRow
from ..prompt.rows import FrameRows

RowStatus = Literal["ok", "cached", "failed", "stopped", "not sent"]


@dataclass
class RowOutcome:
    status: RowStatus = "not sent"
    text: str | None = None
    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class BatchOptions:
    concurrency: int = 8
    limit: int | None = None  # send at most this many rows now (the rest: "not sent")
    cache: bool = True
    fmt: str = "markdown"  # part of the cache key; "json" answers are parsed by run.columns
    requests_per_minute: int | None = None  # overrides the plan's limit


@dataclass
class BatchResult:
    """Every row's outcome, in the frame's order, and what the batch cost."""

    rows: FrameRows
    outcomes: list[RowOutcome]
    model: str
    tokens: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    requests: int = 0
    rate_limited: int = 0

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
        )  # fmt: skip
