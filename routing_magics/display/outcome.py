"""What a finished answer says under it: the footer's facts, a notice, provenance metadata.

Plain values in: the completion, and how the request ended as the ledger records it
(`api.errors.outcome_of`: "ok", "stopped" or an error code).
"""

from __future__ import annotations

from typing import Any, cast

from ..api.models import Completion
from .protocols import CostInfo, Status
from .render import FooterInfo


def status_of(outcome: str) -> Status:
    """The footer's word for a ledger outcome: every error code reads "error"."""
    if outcome in ("ok", "stopped", "cached"):
        return cast(Status, outcome)
    return "error"


def footer_info(
    done: Completion, *, outcome: str, notebook_total: int | None, offline: bool,
    cost: CostInfo | None = None, warning: str | None = None,
) -> FooterInfo:  # fmt: skip
    return FooterInfo(
        model=done.model,
        provider=done.provider,
        latency_ms=done.latency_ms,
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=done.usage.completion_tokens,
        estimated=done.usage.estimated,
        notebook_total_tokens=notebook_total,
        offline=offline,
        status=status_of(outcome),
        cost=cost,
        warning=warning,
        frames=tuple(done.frames),
    )


def notice_for(done: Completion, *, max_tokens: int | None, primary: str) -> str | None:
    """What a finished answer needs said under it: failover, or an answer cut by max_tokens.

    Failed answers get none: each shell shows the error itself (a UsageError line, the panel's
    error line)."""
    if done.endpoint and done.endpoint != primary:
        return f"Answered by the secondary endpoint {done.endpoint} after the primary failed."
    if done.finish_reason == "length" and not done.text.strip() and done.reasoning:
        asked = f"max_tokens ({max_tokens})" if max_tokens else "max_tokens"
        return (
            f"The answer is empty: {asked} went on reasoning before the model could answer. "
            "Run again with a larger value, e.g. -m 4000."
        )
    if done.finish_reason == "length":
        return "The answer was cut off at max_tokens; raise -m for a longer one."
    return None


def provenance(done: Completion) -> dict[str, Any]:
    usage = done.usage
    return {
        "routing_magics": {
            "model": done.model,
            "provider": done.provider,
            "endpoint": done.endpoint,
            "finish_reason": done.finish_reason,
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens,
                "estimated": usage.estimated,
            },
        }
    }
