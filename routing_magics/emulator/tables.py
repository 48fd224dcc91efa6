"""Facts about a table sent in a prompt: size, rows shown, and min / max / mean of numeric columns.

A table is found only by the layout strings prompt/frames.py writes it with (its DATA_TITLE,
DATA_SHAPE, COLUMNS_HEADING, COLUMN_ENTRY, CSV_OPEN …), so a block reads like this today:

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

from ..prompt import frames
from .markers import template_pattern

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


def _block_pattern() -> str:
    """A frame's text as prompt/frames.py lays it out: title and shape, lines, then the CSV."""
    named = template_pattern(frames.DATA_TITLE, name=r"[^`\n]*")
    unnamed = re.escape(frames.DATA_TITLE_UNNAMED)
    shape = template_pattern(frames.DATA_SHAPE, rows=r"[\d,]+", columns=r"[\d,]+")
    csv_open, csv_close = re.escape(frames.CSV_OPEN), re.escape(frames.CSV_CLOSE)
    return (
        rf"^(?:{named}|{unnamed}) {shape}[ \t]*\n"
        rf"(?P<meta>(?:(?!{csv_open})[^\n]*\n)*?)"
        rf"{csv_open}[ \t]*\n(?P<csv>.*?)^{csv_close}[ \t]*$"
    )


def _dtypes(meta: str) -> dict[str, str]:
    """{column: dtype} from the block's columns line, {} without one."""
    heading = frames.COLUMNS_HEADING
    line = next((ln for ln in meta.splitlines() if ln.startswith(heading)), "")
    separator = re.escape(frames.COLUMN_SEPARATOR)
    # The longest name, the shortest dtype: `price (usd) (float64)` is a column `price (usd)`,
    # and a dtype may hold the separator (`datetime64[ns, UTC]`), a name may not.
    entry = template_pattern(
        frames.COLUMN_ENTRY, name=rf"(?:(?!{separator})[^\n])+", dtype=r"[^\n]*?"
    )
    found = re.finditer(rf"{entry}(?={separator}|\s*$)", line[len(heading) :])
    return {m["name"].strip(): m["dtype"].strip() for m in found}


def find_data_block(text: str) -> DataBlock | None:
    """The first data block in `text`, or None."""
    match = re.search(_block_pattern(), text, re.MULTILINE | re.DOTALL)
    if not match:
        return None
    table = [row for row in csv.reader(io.StringIO(match.group("csv"))) if row]
    header, rows = (table[0], table[1:]) if table else ([], [])
    return DataBlock(
        name=match.group("name") or None,
        total_rows=_count(match.group("rows")),
        total_columns=_count(match.group("columns")),
        dtypes=_dtypes(match.group("meta")),
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
