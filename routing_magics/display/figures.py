"""One model's figures in a comparison (`%%route route/a,route/b`): a plain value, no renderer.

run/compare.py fills them, display/compare_table.py draws them, and run/comparison.py turns
them into `cmp.summary`; the fastest and the cheapest are chosen here, once, for all three.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFigures:
    """How one model did on the cell's prompt; `outcome` is the ledger's word for it."""

    model: str
    ttft_ms: int | None  # time to the first token (reasoning or answer); None if none came
    seconds: float  # from sending to the end of the answer
    prompt_tokens: int
    completion_tokens: int
    estimated: bool  # token counts of our own (the stream ended before its usage)
    cost_usd: float | None  # None: no known price
    finish_reason: str | None
    outcome: str  # "ok", "cached", "stopped" or an error code
    error: str | None = None  # the one line a failed model shows

    @property
    def answered(self) -> bool:
        return self.outcome in ("ok", "cached")


def fastest(figures: list[ModelFigures]) -> str | None:
    """The model that answered in the least time; None when fewer than two answered."""
    answered = [f for f in figures if f.outcome == "ok"]
    if len(answered) < 2:
        return None
    return min(answered, key=lambda f: f.seconds).model


def cheapest(figures: list[ModelFigures]) -> str | None:
    """The model that answered at the lowest known cost (a cached answer cost nothing today, so
    it is not in the running); None when fewer than two are priced."""
    priced = [f for f in figures if f.outcome == "ok" and f.cost_usd is not None]
    if len(priced) < 2:
        return None
    return min(priced, key=lambda f: f.cost_usd or 0.0).model


@dataclass(frozen=True)
class ModelTally:
    """How one model's batch went, when every row goes to several models (`--each`)."""

    model: str
    answered: int
    cached: int
    failed: int
    not_sent: int
    tokens: int
    cost_usd: float | None  # None: no known price
    why: str | None = None  # why the batch did not run, or why it stopped
