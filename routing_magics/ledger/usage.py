"""The usage ledger: one row per request, keyed by notebook, so totals survive kernel restarts."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .failure import guarded
from .schema import connect

#: Outcomes that are not errors; anything else is an error code such as "PROVIDER_ERROR".
#: "retried": refused (a 429, a provider error) and sent again by the batch, which says so too.
NON_ERROR_OUTCOMES = ("ok", "stopped", "cached", "retried")


@dataclass(frozen=True)
class UsageRow:
    """One request as the ledger stores it. There is deliberately no place for the API key."""

    notebook: str
    model: str
    endpoint: str
    provider: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool  # counted by us: the stream was cut before the server's usage arrived
    ttft_ms: int | None
    latency_ms: int | None
    outcome: str  # "ok", "stopped", "cached", or an error code like "PROVIDER_ERROR"
    ts: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ModelTotals:
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    mean_latency_ms: float | None
    estimated: bool  # any row estimated
    errors: int
    retried: int = 0  # requests a batch sent again (not errors: the row was asked again)


@dataclass(frozen=True)
class NotebookTotals:
    notebook: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


_INSERT = """
INSERT INTO requests (ts, notebook, model, endpoint, provider, prompt_tokens, completion_tokens,
                      total_tokens, estimated, ttft_ms, latency_ms, outcome)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_MODEL_TOTALS = f"""
SELECT model, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens),
       AVG(latency_ms), MAX(estimated), SUM(outcome NOT IN {NON_ERROR_OUTCOMES!r}),
       SUM(outcome = 'retried')
FROM requests {{where}} GROUP BY model ORDER BY SUM(total_tokens) DESC, model
"""
_NOTEBOOK_TOTALS = """
SELECT notebook, COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),
       COALESCE(SUM(total_tokens), 0)
FROM requests {where}
"""


def _values(row: UsageRow) -> tuple[object, ...]:
    return (
        row.ts, row.notebook, row.model, row.endpoint, row.provider, row.prompt_tokens,
        row.completion_tokens, row.total_tokens, int(row.estimated), row.ttft_ms,
        row.latency_ms, row.outcome,
    )  # fmt: skip


class Ledger:
    """The usage ledger in one SQLite file; thread-safe, shared by every kernel on the machine.

    A file that cannot be opened, read or written raises failure.LedgerUnavailable, whose one
    line says why and what to do; the file itself is never changed or removed for it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        with guarded(self.path):
            self._conn = connect(self.path)

    def record(self, row: UsageRow) -> None:
        self.record_many([row])

    def record_many(self, rows: Sequence[UsageRow]) -> None:
        """Write rows in one transaction (a batch's rows, a few at a time)."""
        values = [_values(row) for row in rows]
        if not values:
            return
        with guarded(self.path), self._lock, self._conn as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT, values)

    def totals_by_model(self, notebook: str | None) -> list[ModelTotals]:
        """Per-model sums for one notebook, or for all notebooks when `notebook` is None."""
        where, params = ("WHERE notebook = ?", (notebook,)) if notebook is not None else ("", ())
        with guarded(self.path), self._lock:
            rows = self._conn.execute(_MODEL_TOTALS.format(where=where), params).fetchall()
        return [ModelTotals(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8] or 0)
                for r in rows]  # fmt: skip

    def notebook_total(self, notebook: str) -> NotebookTotals:
        """This notebook's sums; zeros when it has made no request."""
        sql = _NOTEBOOK_TOTALS.format(where="WHERE notebook = ?")
        with guarded(self.path), self._lock:
            _, *sums = self._conn.execute(sql, (notebook,)).fetchone()
        return NotebookTotals(notebook, *sums)

    def totals_by_notebook(self) -> list[NotebookTotals]:
        sql = _NOTEBOOK_TOTALS.format(where="") + " GROUP BY notebook ORDER BY notebook"
        with guarded(self.path), self._lock:
            rows = self._conn.execute(sql).fetchall()
        return [NotebookTotals(*r) for r in rows]

    def select(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Rows of a read-only query (ledger/reports.py builds its reports on this)."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def write(self, sql: str, params: tuple[object, ...] = ()) -> None:
        """One write statement in its own transaction (ledger/budgets.py stores budgets so)."""
        with guarded(self.path), self._lock, self._conn as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql, params)

    def reset(self, notebook: str) -> int:
        """Forget this notebook's rows; returns how many were deleted."""
        with guarded(self.path), self._lock, self._conn as conn:
            conn.execute("BEGIN IMMEDIATE")
            return conn.execute("DELETE FROM requests WHERE notebook = ?", (notebook,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
