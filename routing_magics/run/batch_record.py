"""What a batch writes: ledger rows and cached answers, a few dozen per transaction.

One transaction per row would hold SQLite's write lock hundreds of times a minute while other
kernels wait on it; rows are buffered and flushed every FLUSH_ROWS rows or FLUSH_SECONDS.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..api import errors
from ..api.models import Completion, Usage
from ..ledger import CachedAnswer, UsageRow
from ..prompt.prepare import estimate_tokens

if TYPE_CHECKING:
    from ..session import Session
    from .rowsend import Sent

FLUSH_ROWS = 64
FLUSH_SECONDS = 1.0


class BatchRecorder:
    """Buffers a batch's ledger rows and answers for the cache; `flush()` writes them."""

    def __init__(self, session: Session, model: str, *, cache: bool) -> None:
        self._session, self._model, self._cache = session, model, cache
        self._rows: list[UsageRow] = []
        self._answers: dict[str, CachedAnswer] = {}
        self._flushed = time.monotonic()

    def lookup(self, keys: list[str]) -> dict[str, CachedAnswer]:
        return self._session.cache.get_many(keys)

    def cached(self, hit: CachedAnswer) -> None:
        """A row answered from the cache: a ledger row that bills nothing."""
        self._rows.append(self._row(Completion(model=hit.model, provider=hit.provider), "cached"))

    def request(self, sent: Sent) -> Usage:
        """One request's ledger row; returns the usage it records."""
        done, error = sent.completion, sent.error
        usage = done.usage if done.usage.total_tokens else _estimate(sent)
        done.usage = usage
        done.latency_ms = done.latency_ms or int(sent.seconds * 1000)
        self._rows.append(self._row(done, errors.outcome_of(error)))
        return usage

    def answered(self, key: str, done: Completion) -> None:
        """A finished answer, for the cache (failed and stopped ones never get here)."""
        if self._cache:
            self._answers[key] = CachedAnswer(
                done.model or self._model, done.text, done.reasoning, done.provider,
                done.finish_reason,
            )  # fmt: skip

    def maybe_flush(self) -> None:
        full = len(self._rows) >= FLUSH_ROWS
        if full or time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        answers, self._answers = self._answers, {}
        self._flushed = time.monotonic()
        self._session.ledger.record_many(rows)
        if answers:
            self._session.cache.put_many(answers)

    def _row(self, done: Completion, outcome: str) -> UsageRow:
        session = self._session
        endpoint = "emulator" if session.offline else session.settings.base_url
        return UsageRow(
            notebook=session.notebook,
            model=done.model or self._model,
            endpoint=done.endpoint or endpoint,
            provider=done.provider,
            prompt_tokens=done.usage.prompt_tokens,
            completion_tokens=done.usage.completion_tokens,
            total_tokens=done.usage.total_tokens,
            estimated=done.usage.estimated,
            ttft_ms=None,
            latency_ms=done.latency_ms,
            outcome=outcome,
        )


def _estimate(sent: Sent) -> Usage:
    """Usage the server never reported: none for a refused request, else our estimate."""
    done, error = sent.completion, sent.error
    if error is not None and not done.text and not isinstance(error, errors.Stopped):
        return Usage()
    if error is None and not done.text:
        return Usage()
    prompt = sum(estimate_tokens(m["content"]) for m in sent.job.messages)
    out = estimate_tokens(done.text)
    return Usage(prompt, out, prompt + out, estimated=True)
