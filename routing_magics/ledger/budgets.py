"""A notebook's budget for a day, kept in the ledger's file (so it survives a kernel restart),
and the tokens the notebook spent since a time, per model (what the budget counts).

Days are the user's local ones, as the usage chart's are: `today()` names one, `day_start()`
gives its first second as a UNIX time.
"""

from __future__ import annotations

import time
from datetime import date, datetime

from .usage import Ledger

_READ = "SELECT usd FROM budgets WHERE notebook = ? AND day = ?"
_WRITE = """
INSERT INTO budgets (notebook, day, usd, ts) VALUES (?, ?, ?, ?)
ON CONFLICT (notebook, day) DO UPDATE SET usd = excluded.usd, ts = excluded.ts
"""
_SPENT = """
SELECT model, COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0)
FROM requests WHERE notebook = ? AND ts >= ? AND id <= ? GROUP BY model
"""

#: Tokens per model: (prompt, completion).
Tokens = dict[str, tuple[int, int]]


def today(now: float | None = None) -> str:
    """The local day of `now` (default: now), as 2026-12-06."""
    return date.fromtimestamp(time.time() if now is None else now).isoformat()


def day_start(day: str) -> float:
    """The UNIX time of the first local second of `day`."""
    first = date.fromisoformat(day)
    return datetime(first.year, first.month, first.day).timestamp()


def read_budget(ledger: Ledger, notebook: str, day: str) -> tuple[bool, float | None]:
    """(whether the notebook has a budget row for `day`, its USD or None for "off")."""
    rows = ledger.select(_READ, (notebook, day))
    if not rows:
        return False, None
    usd = rows[0][0]
    return True, float(usd) if isinstance(usd, (int, float)) else None


def write_budget(ledger: Ledger, notebook: str, day: str, usd: float | None) -> None:
    """Set the notebook's budget for `day`; None stores "off" (which hides a default)."""
    ledger.write(_WRITE, (notebook, day, usd, time.time()))


#: The rows after a known id, by the rowid's range (`+notebook` keeps the planner off the
#: notebook index, which would visit every row of the day again).
_SPENT_AFTER = """
SELECT model, COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0)
FROM requests WHERE id > ? AND id <= ? AND +notebook = ? AND ts >= ? GROUP BY model
"""


def last_id(ledger: Ledger) -> int:
    """The newest row's id (0 for an empty ledger)."""
    value = ledger.select("SELECT COALESCE(MAX(id), 0) FROM requests")[0][0]
    return int(value) if isinstance(value, int) else 0


def tokens_since(ledger: Ledger, notebook: str, since: float, upto: int, after: int = 0) -> Tokens:
    """The notebook's prompt and completion tokens per model in rows written since `since`, of
    ids up to `upto`; with `after`, only the rows after that id (what is new since a read)."""
    if after:
        rows = ledger.select(_SPENT_AFTER, (after, upto, notebook, since))
    else:
        rows = ledger.select(_SPENT, (notebook, since, upto))
    return {str(model): (int(p), int(c)) for model, p, c in rows}  # type: ignore[call-overload]
