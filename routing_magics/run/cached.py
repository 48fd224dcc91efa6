"""Single cells and the answers cache (`--cache`, `%route cache on`): look up, and store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..ledger import CachedAnswer, request_key

if TYPE_CHECKING:
    from ..api.models import Completion
    from ..session import Session

Messages = Sequence[Mapping[str, Any]]


def cached_answer(
    session: Session, model: str, messages: Messages, params: Mapping[str, Any]
) -> CachedAnswer | None:
    """The cached answer to exactly this request (`params`: its request parameters), if any."""
    return session.cache.get(request_key(model, messages, params))


def store_answer(
    session: Session, model: str, messages: Messages, params: Mapping[str, Any], done: Completion
) -> None:
    """Keep a finished answer (the caller never passes a failed or stopped one)."""
    answer = CachedAnswer(done.model or model, done.text, done.reasoning, done.provider,
                          done.finish_reason)  # fmt: skip
    session.cache.put(request_key(model, messages, params), answer)
