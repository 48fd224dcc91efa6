"""The ledger's rows for analysis: a CSV file, or a pandas DataFrame (pandas imported only here,
only when asked). Each row gets the estimated cost the caller computed for it (None: unpriced)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .reports import FIELDS
from .usage import UsageRow

if TYPE_CHECKING:
    import pandas

#: Columns of `%route usage -o` and `--csv`: the record fields, then the estimated cost.
COLUMNS = (*FIELDS, "cost_usd")
_INTEGER = ("prompt_tokens", "completion_tokens", "total_tokens")
_NULLABLE_INTEGER = ("latency_ms", "ttft_ms")


def _value(row: UsageRow, column: str) -> object:
    return row.ts if column == "time" else getattr(row, column)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")


def write_csv(path: str | os.PathLike[str], rows: Sequence[UsageRow], costs: Sequence[float | None]
              ) -> int:  # fmt: skip
    """Write the rows (time in ISO 8601 UTC; empty cells for unknowns); returns how many."""
    with open(path, "w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(COLUMNS)
        for row, cost in zip(rows, costs, strict=True):
            values = [_value(row, name) for name in FIELDS]
            values[0] = _iso(row.ts)
            writer.writerow(
                ["" if v is None else v for v in values] + ["" if cost is None else cost]
            )
    return len(rows)


def to_frame(rows: Sequence[UsageRow], costs: Sequence[float | None]) -> pandas.DataFrame:
    """One row per request; `time` is a UTC timestamp, unknown numbers are <NA> / NaN."""
    import pandas as pd

    data = {name: [_value(row, name) for row in rows] for name in FIELDS}
    frame = pd.DataFrame(data, columns=list(FIELDS))
    frame["time"] = pd.to_datetime(frame["time"].astype("float64"), unit="s", utc=True)
    for name in ("notebook", "model", "endpoint", "provider", "outcome"):
        frame[name] = frame[name].astype("string")
    for name in _INTEGER:
        frame[name] = frame[name].astype("int64")
    for name in _NULLABLE_INTEGER:
        frame[name] = frame[name].astype("Int64")
    frame["estimated"] = frame["estimated"].astype("bool")
    frame["cost_usd"] = pd.Series(
        [float("nan") if c is None else c for c in costs], dtype="float64"
    )
    return frame
