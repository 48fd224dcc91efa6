"""Where every exchange is written: its ledger row and, when finished, its cached answer.

One function builds a ledger row (`usage_row`, the endpoint always in public form), and one
class owns the rule that the ledger or the cache failing never costs an answer (`Recorder`):
the failure becomes one line, said once per session, and the flow goes on. A cell writes at
once; a batch buffers a few dozen rows per transaction, since one transaction per row would
hold SQLite's write lock hundreds of times a minute while other kernels wait on it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..config import public_url
from ..ledger import CachedAnswer, LedgerUnavailable, UsageRow, request_key

if TYPE_CHECKING:
    from ..api.models import ChatRequest, Completion
    from ..session import Session
    from .exchange import Exchange

T = TypeVar("T")
#: A batch writes every FLUSH_ROWS rows or FLUSH_SECONDS, whichever comes first.
FLUSH_ROWS = 64
FLUSH_SECONDS = 1.0
#: The service an offline answer came from: the emulator, whatever port it had that day.
EMULATOR_SERVICE = "emulator"


def service_of(session: Session) -> str:
    """Which service answers this session's requests: the emulator, or the primary base URL."""
    return EMULATOR_SERVICE if session.offline else public_url(session.settings.base_url)


def cache_key(session: Session, request: ChatRequest, fmt: str = "markdown") -> str:
    """The answers cache's key: the request, the output format, and the service asked."""
    return request_key(request.model, request.messages, request.params, fmt=fmt,
                       service=service_of(session))  # fmt: skip


def usage_row(session: Session, done: Completion, outcome: str, ttft_ms: int | None) -> UsageRow:
    """The ledger row of one answer; no credentials or query of a base URL ever reach it."""
    return UsageRow(
        notebook=session.notebook,
        model=done.model or (done.request.model if done.request else ""),
        endpoint=public_url(done.endpoint or service_of(session)),
        provider=done.provider,
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=done.usage.completion_tokens,
        total_tokens=done.usage.total_tokens,
        estimated=done.usage.estimated,
        ttft_ms=ttft_ms,
        latency_ms=done.latency_ms,
        outcome=outcome,
    )


class Recorder:
    """A flow's writes, guarded: `trouble` holds the one line to show when the ledger failed."""

    def __init__(self, session: Session, *, buffered: bool = False) -> None:
        self._session, self._buffered = session, buffered
        self._rows: list[UsageRow] = []
        self._answers: dict[str, CachedAnswer] = {}
        self._flushed = time.monotonic()
        self.trouble: str | None = None
        self._failed = False

    def exchange(
        self, exchange: Exchange, done: Completion, *, cache_as: str | None = None,
        outcome: str | None = None,
    ) -> None:  # fmt: skip
        """Record one exchange's row (as `outcome` when the flow knows better, e.g. "retried");
        keep its answer under `cache_as` when it ended well. A request the gate refused was never
        sent: it has no row."""
        if exchange.unsent:
            return
        row = usage_row(self._session, done, outcome or exchange.outcome, exchange.draft.ttft_ms)
        budget = self._session.budget  # counted against the budget before it is written
        budget.note(exchange, row.model, row.prompt_tokens, row.completion_tokens)
        self._rows.append(row)
        if cache_as is not None and exchange.failure is None and not exchange.cached:
            self._answers[cache_as] = CachedAnswer(done.model or exchange.request.model,
                                                   done.text, done.reasoning, done.provider,
                                                   done.finish_reason)  # fmt: skip
        if not self._buffered or self._due():
            self.flush()

    def _due(self) -> bool:
        return len(self._rows) >= FLUSH_ROWS or time.monotonic() - self._flushed >= FLUSH_SECONDS

    def keep(self, key: str, done: Completion, text: str) -> None:
        """Keep a finished answer under `key` with `text` as its body (a structured answer's
        validated JSON, which a tool call's answer has nowhere else)."""
        self._answers[key] = CachedAnswer(done.model, text, done.reasoning, done.provider,
                                          done.finish_reason)  # fmt: skip
        if not self._buffered:
            self.flush()

    def cached_answers(self, keys: Iterable[str]) -> Mapping[str, CachedAnswer]:
        """The cache's answers among `keys`; none when the cache cannot be read."""
        found: Mapping[str, CachedAnswer] = {}
        return self._guarded(lambda: self._session.cache.get_many(keys), found)

    def notebook_total(self) -> int | None:
        """This notebook's running total of tokens; None when the ledger cannot say."""
        session = self._session
        return self._guarded(lambda: session.ledger.notebook_total(session.notebook).total_tokens,
                             None)  # fmt: skip

    def flush(self) -> None:
        """Write what is buffered; a failure drops it, says so once, and never raises."""
        rows, self._rows = self._rows, []
        answers, self._answers = self._answers, {}
        self._flushed = time.monotonic()
        if rows:

            def write() -> None:  # opens the ledger inside the guard: that may fail too
                self._session.ledger.record_many(rows)

            self._guarded(lambda: self._session.budget.write_rows(rows, write), None)
        if answers:
            self._guarded(lambda: self._session.cache.put_many(answers), None)

    def _guarded(self, action: Callable[[], T], fallback: T) -> T:
        if self._failed:  # one failure says it all: the rest of this flow does without
            return fallback
        try:  # the answer is the product; the ledger and the cache only serve it
            return action()
        except (LedgerUnavailable, sqlite3.Error, OSError) as exc:
            problem = exc if isinstance(exc, LedgerUnavailable) else self._diagnose(exc)
            self.trouble, self._failed = self._session.ledger_trouble(problem), True
            return fallback

    def _diagnose(self, exc: Exception) -> LedgerUnavailable:
        from ..ledger.failure import diagnose

        return diagnose(Path(self._session.ledger_path), exc)
