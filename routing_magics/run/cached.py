"""Single cells and the answers cache (`--cache`, `%route cache on`): look up, and store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..ledger import CachedAnswer, request_key

if TYPE_CHECKING:
    from ..api.models import Completion
    from ..session import Session
    from .single import RunOptions


def _key(model: str, messages: Sequence[dict[str, str]], options: RunOptions) -> str:
    from .single import request_args

    return request_key(model, messages, request_args(options))


def cached_answer(
    session: Session, model: str, messages: Sequence[dict[str, str]], options: RunOptions
) -> CachedAnswer | None:
    return session.cache.get(_key(model, messages, options))


def store_answer(
    session: Session,
    model: str,
    messages: Sequence[dict[str, str]],
    options: RunOptions,
    done: Completion,
) -> None:
    """Keep a finished answer (the caller never passes a failed or stopped one)."""
    answer = CachedAnswer(done.model or model, done.text, done.reasoning, done.provider,
                          done.finish_reason)  # fmt: skip
    session.cache.put(_key(model, messages, options), answer)
