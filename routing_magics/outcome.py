"""What a finished answer says under it: the footer's facts, a notice, provenance metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .events import Completion

if TYPE_CHECKING:
    from .render import FooterInfo
    from .run import RunOptions
    from .session import Session


def footer_info(
    session: Session, done: Completion, total: int | None, failure: errors.RoutingError | None
) -> FooterInfo:
    from .render import FooterInfo

    status = (
        "ok" if failure is None else ("stopped" if isinstance(failure, errors.Stopped) else "error")
    )
    return FooterInfo(
        model=done.model,
        provider=done.provider,
        latency_ms=done.latency_ms,
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=done.usage.completion_tokens,
        estimated=done.usage.estimated,
        notebook_total_tokens=total,
        offline=session.offline,
        status=status,
    )


def notice_for(
    done: Completion, options: RunOptions, failure: errors.RoutingError | None, primary: str
) -> str | None:
    if failure is not None:
        return None  # each shell shows the error itself (UsageError line, panel error line)
    if done.endpoint and done.endpoint != primary:
        return f"Answered by the secondary endpoint {done.endpoint} after the primary failed."
    if done.finish_reason == "length" and not done.text.strip() and done.reasoning:
        asked = f"max_tokens ({options.max_tokens})" if options.max_tokens else "max_tokens"
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
