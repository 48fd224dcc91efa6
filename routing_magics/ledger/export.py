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
#: What makes a spreadsheet read a cell as a formula when it leads (OWASP's CSV injection rule).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _value(row: UsageRow, column: str) -> object:
    return row.ts if column == "time" else getattr(row, column)


def as_text_cell(value: str) -> str:
    """`value`, with a leading `'` when a spreadsheet would run it as a formula: the server
    names the model and the provider, and `=HYPERLINK(…)` there must stay text."""
    return "'" + value if value.lstrip(" ").startswith(FORMULA_LEADS) else value


def _cell(value: object) -> object:
    if value is None:
        return ""
    return as_text_cell(value) if isinstance(value, str) else value


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")


def write_csv(
    path: str | os.PathLike[str], rows: Sequence[UsageRow], costs: Sequence[float | None],
    *, overwrite: bool = False,
) -> int:  # fmt: skip
    """Write the rows (time in ISO 8601 UTC; empty cells for unknowns; text that a spreadsheet
    would take for a formula starts with `'`); returns how many. A file that exists raises
    FileExistsError unless `overwrite`."""
    with open(path, "w" if overwrite else "x", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(COLUMNS)
        for row, cost in zip(rows, costs, strict=True):
            values = [_value(row, name) for name in FIELDS]
            values[0] = _iso(row.ts)
            writer.writerow([_cell(v) for v in values] + [_cell(cost)])
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
