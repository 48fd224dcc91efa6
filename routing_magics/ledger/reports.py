"""Reports over the ledger: its rows, and tokens per model per day or per hour.

Days and hours are the user's local ones (the chart's axis), computed from each row's UNIX time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .usage import Ledger, UsageRow

#: The columns of `%route usage -o` / `--csv`, in order: UsageRow's fields, `ts` named `time`.
FIELDS = (
    "time", "notebook", "model", "endpoint", "provider", "prompt_tokens", "completion_tokens",
    "total_tokens", "estimated", "latency_ms", "ttft_ms", "outcome",
)  # fmt: skip


@dataclass(frozen=True)
class TokenBuckets:
    """Tokens per model per bucket (day or hour): `tokens[model][i]` belongs to `labels[i]`."""

    unit: str  # "day" or "hour"
    labels: tuple[str, ...]
    tokens: dict[str, list[int]]

    @property
    def empty(self) -> bool:
        return not any(any(v) for v in self.tokens.values())


_RECORDS = """
SELECT ts, notebook, model, endpoint, provider, prompt_tokens, completion_tokens, total_tokens,
       estimated, latency_ms, ttft_ms, outcome
FROM requests WHERE ts >= ? {notebook} ORDER BY ts, id
"""


def records(ledger: Ledger, notebook: str | None, since: float = 0.0) -> list[UsageRow]:
    """Rows of one notebook (or all, for None) since a UNIX time, oldest first."""
    where, params = ("AND notebook = ?", (since, notebook)) if notebook else ("", (since,))
    return [_record(r) for r in ledger.select(_RECORDS.format(notebook=where), params)]


def _record(r: tuple[object, ...]) -> UsageRow:
    return UsageRow(
        notebook=str(r[1]), model=str(r[2]), endpoint=str(r[3]), provider=_text(r[4]),
        prompt_tokens=_int(r[5]), completion_tokens=_int(r[6]), total_tokens=_int(r[7]),
        estimated=bool(r[8]), latency_ms=_maybe_int(r[9]), ttft_ms=_maybe_int(r[10]),
        outcome=str(r[11]), ts=_float(r[0]),
    )  # fmt: skip


def _float(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def _maybe_int(value: object) -> int | None:
    return int(value) if isinstance(value, (int, float)) else None


def tokens_per_day(
    ledger: Ledger, notebook: str | None, days: int = 30, now: float | None = None
) -> TokenBuckets:
    """Tokens per model for each of the last `days` local days, today last; gaps are zeros."""
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day).timestamp()
    labels = tuple((first + timedelta(days=i)).isoformat() for i in range(days))
    index = {day: i for i, day in enumerate(labels)}
    return _bucket(records(ledger, notebook, since), "day", labels, index, _day)


def tokens_per_hour(ledger: Ledger, notebook: str | None, now: float | None = None) -> TokenBuckets:
    """Tokens per model for each local hour of today, 00:00 to 23:00."""
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    since = datetime(today.year, today.month, today.day).timestamp()
    labels = tuple(f"{h:02d}:00" for h in range(24))
    index = {label: i for i, label in enumerate(labels)}
    return _bucket(records(ledger, notebook, since), "hour", labels, index, _hour)


def _day(ts: float) -> str:
    return date.fromtimestamp(ts).isoformat()


def _hour(ts: float) -> str:
    return f"{datetime.fromtimestamp(ts).hour:02d}:00"


def _bucket(
    rows: list[UsageRow],
    unit: str,
    labels: tuple[str, ...],
    index: dict[str, int],
    key: Callable[[float], str],
) -> TokenBuckets:
    tokens: dict[str, list[int]] = {}
    for row in rows:
        slot = index.get(key(row.ts))
        if slot is None or row.total_tokens <= 0:
            continue
        tokens.setdefault(row.model, [0] * len(labels))[slot] += row.total_tokens
    ordered = dict(sorted(tokens.items(), key=lambda kv: (-sum(kv[1]), kv[0])))
    return TokenBuckets(unit, labels, ordered)
