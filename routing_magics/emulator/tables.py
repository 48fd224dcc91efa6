"""Facts about a table sent in a prompt: size, rows shown, and min / max / mean of numeric columns.

The prompt builder sends a dataframe as a block like this (the name is optional, × is U+00D7):

    Data `sales`: 1000 rows × 3 columns
    Columns: region (object), units (int64), price (float64)
    Showing 50 of 1000 rows.
    ```csv
    region,units,price
    North,12,3.5
    ```
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass

_BLOCK_RE = re.compile(
    r"^Data(?: `(?P<name>[^`\n]*)`)?: (?P<rows>[\d,]+) rows? [×x] (?P<cols>[\d,]+) columns?[^\n]*\n"
    r"(?P<meta>(?:(?!```)[^\n]*\n)*?)"
    r"```csv[ \t]*\n(?P<csv>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_COLUMN_RE = re.compile(r"\s*([^,]+?) \(([^()]*)\)\s*(?:,|$)")
_NUMERIC_DTYPE_RE = re.compile(r"^(?:u?int|float|[iuf]\d|decimal|number)", re.IGNORECASE)
_MISSING = frozenset({"", "nan", "none", "null", "na", "<na>", "nat"})


@dataclass(frozen=True)
class DataBlock:
    """A parsed data block and where it sits in the message."""

    name: str | None
    total_rows: int
    total_columns: int
    dtypes: dict[str, str]
    header: list[str]
    rows: list[list[str]]
    span: tuple[int, int]

    @property
    def label(self) -> str:
        return f"`{self.name}`" if self.name else "The table"


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def find_data_block(text: str) -> DataBlock | None:
    """The first data block in `text`, or None."""
    match = _BLOCK_RE.search(text)
    if not match:
        return None
    meta = match.group("meta")
    columns_line = next((ln for ln in meta.splitlines() if ln.startswith("Columns:")), "")
    dtypes = {n.strip(): t.strip() for n, t in _COLUMN_RE.findall(columns_line[len("Columns:") :])}
    table = [row for row in csv.reader(io.StringIO(match.group("csv"))) if row]
    header, rows = (table[0], table[1:]) if table else ([], [])
    return DataBlock(
        name=match.group("name") or None,
        total_rows=_count(match.group("rows")),
        total_columns=_count(match.group("cols")),
        dtypes=dtypes,
        header=header,
        rows=rows,
        span=match.span(),
    )


def _number(cell: str) -> float | None:
    if cell.strip().lower() in _MISSING:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def column_values(block: DataBlock, column: str) -> list[str]:
    index = block.header.index(column)
    return [row[index] for row in block.rows if index < len(row)]


def is_numeric(block: DataBlock, column: str) -> bool:
    """Numeric by the declared dtype, or (no dtype given) by every shown value parsing."""
    dtype = block.dtypes.get(column)
    if dtype is not None:
        return bool(_NUMERIC_DTYPE_RE.match(dtype))
    present = [v for v in column_values(block, column) if v.strip().lower() not in _MISSING]
    return bool(present) and all(_number(v) is not None for v in present)


def named_in(question: str, column: str) -> bool:
    pattern = rf"(?<![\w]){re.escape(column)}(?:s|es)?(?![\w])"
    return re.search(pattern, question, re.IGNORECASE) is not None


def chosen_columns(block: DataBlock, question: str) -> list[str]:
    """Numeric columns the question names, or every numeric column if it names none."""
    numeric = [c for c in block.header if is_numeric(block, c)]
    named = [c for c in numeric if named_in(question, c)]
    return named or numeric


def format_number(value: float) -> str:
    """Integers without a decimal point; others to 3 decimals, trailing zeros dropped."""
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def stats_row(block: DataBlock, column: str) -> str:
    numbers = [n for n in map(_number, column_values(block, column)) if n is not None]
    if not numbers:
        return f"| {column} | — | — | — |"
    low, high, mean = min(numbers), max(numbers), sum(numbers) / len(numbers)
    return f"| {column} | {format_number(low)} | {format_number(high)} | {format_number(mean)} |"


def distinct_row(block: DataBlock, column: str) -> str:
    values = [v for v in column_values(block, column) if v.strip().lower() not in _MISSING]
    return f"| {column} | {len(values)} | {len(set(values))} |"


def table_facts(block: DataBlock, question: str) -> tuple[str, list[str]]:
    """(markdown answer, columns described) for a question about `block`."""
    shown = len(block.rows)
    partial = shown < block.total_rows
    seen = f"{shown:,} of them were shown" if partial else f"all {shown:,} rows were shown"
    caveat = ", not the whole table" if partial else ""
    columns = chosen_columns(block, question)
    sentence = (
        f"{block.label} has {block.total_rows:,} rows and {block.total_columns:,} columns; "
        f"{seen}, so the figures below are over the {shown:,} rows shown{caveat}."
    )
    if columns:
        lines = ["| column | min | max | mean |", "|---|---:|---:|---:|"]
        lines += [stats_row(block, c) for c in columns]
    else:
        lines = ["| column | non-empty | distinct |", "|---|---:|---:|"]
        lines += [distinct_row(block, c) for c in block.header]
    return sentence + "\n\n" + "\n".join(lines), columns


def question_outside(text: str, block: DataBlock) -> str:
    """The message with the data block cut out: what the user actually asked."""
    start, end = block.span
    return (text[:start] + text[end:]).strip()
