"""A pandas/polars DataFrame or Series as text a model can read: shape, dtypes, head rows as CSV.

Neither library is imported here: frames are recognised by their class's module and name and
read through their own methods, so only the rows shown are ever touched.
"""

from __future__ import annotations

import csv
import io
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_ROWS = 50
MAX_CELL_CHARS = 80

_FRAME_LIBRARIES = ("pandas", "polars")
_FRAME_KINDS = ("DataFrame", "Series")
_FLOAT32_DTYPES = ("float32", "Float32")
_FETCH_CHUNK = 256
_MISSING_TYPES = ("NAType", "NaTType")

# The frame text's layout, written once here: the emulator's table answers (emulator/tables.py)
# find a frame's text by these very strings, so rewording one here rewords what it looks for.
#: The first line: the title, then the shape.
DATA_TITLE = "Data `{name}`:"
DATA_TITLE_UNNAMED = "Data:"
DATA_SHAPE = "{rows} rows × {columns} columns"
#: The second line: this heading, then every column as an entry, entries joined by the separator.
COLUMNS_HEADING = "Columns:"
COLUMN_ENTRY = "{name} ({dtype})"
COLUMN_SEPARATOR = ", "
#: The rows shown, as CSV between these two fence lines.
CSV_OPEN = "```csv"
CSV_CLOSE = "```"
#: For the model only (the emulator counts the CSV rows): how many rows the text shows.
SHOWING_SOME = "Showing {shown} of {total} rows."
SHOWING_ALL = "Showing all {total} rows."


def _frame_kind(obj: object) -> tuple[str, str] | None:
    """('pandas'|'polars', 'DataFrame'|'Series'), found by class name so neither is imported."""
    for cls in type(obj).__mro__:
        library = cls.__module__.partition(".")[0]
        if library in _FRAME_LIBRARIES and cls.__name__ in _FRAME_KINDS:
            return library, cls.__name__
    return None


def frame_kind(obj: object) -> tuple[str, str] | None:
    """('pandas'|'polars', 'DataFrame'|'Series') for a frame, None for anything else."""
    return _frame_kind(obj)


def is_frame(obj: object) -> bool:
    """Whether `obj` is a pandas or polars DataFrame or Series."""
    return _frame_kind(obj) is not None


@dataclass(frozen=True)
class FrameInfo:
    """What a frame's text shows, so the caller can warn (e.g. no row fitted)."""

    name: str | None
    rows_shown: int
    rows_total: int
    chars: int


@dataclass(frozen=True)
class _Table:
    """A frame reduced to what its text needs; `fetch(start, stop)` slices, never copies all."""

    columns: list[str]
    dtypes: list[str]
    total: int
    fetch: Callable[[int, int], list[Sequence[object]]]


def _label(value: object) -> str:
    if isinstance(value, tuple):  # MultiIndex column labels
        return "_".join(str(part) for part in value)
    return str(value)


def _transpose(columns: list[list[Any]], count: int) -> list[Sequence[object]]:
    return [tuple(column[i] for column in columns) for i in range(count)]


def _pandas_index(frame: Any) -> tuple[int, list[str], list[str]]:
    """Index levels to show (0 for the default RangeIndex), their column names and dtypes."""
    index = frame.index
    if type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1:
        return 0, [], []
    levels = int(index.nlevels)
    fallback = ["index"] if levels == 1 else [f"level_{i}" for i in range(levels)]
    names = [fallback[i] if n is None else _label(n) for i, n in enumerate(index.names)]
    dtypes = [str(index.dtype)] if levels == 1 else [str(d) for d in index.dtypes]
    return levels, names, dtypes


def _pandas_table(frame: Any, kind: str) -> _Table:
    levels, columns, dtypes = _pandas_index(frame)
    if kind == "Series":
        columns.append("value" if frame.name is None else _label(frame.name))
        dtypes.append(str(frame.dtype))
    else:
        columns += [_label(c) for c in frame.columns]
        dtypes += [str(d) for d in frame.dtypes]

    def fetch(start: int, stop: int) -> list[Sequence[object]]:
        part = frame.iloc[start:stop]
        values = [part.index.get_level_values(i).tolist() for i in range(levels)]
        if kind == "Series":
            values.append(part.tolist())
        else:
            values += [part.iloc[:, j].tolist() for j in range(part.shape[1])]
        return _transpose(values, len(part))

    return _Table(columns, dtypes, len(frame), fetch)


def _polars_table(frame: Any, kind: str) -> _Table:
    if kind == "Series":
        return _Table(
            [frame.name or "value"],
            [str(frame.dtype)],
            len(frame),
            lambda start, stop: [(v,) for v in frame.slice(start, stop - start).to_list()],
        )
    return _Table(
        list(frame.columns),
        [str(d) for d in frame.dtypes],
        frame.height,
        lambda start, stop: frame.slice(start, stop - start).rows(),
    )


def _table(frame: object) -> _Table:
    kind = _frame_kind(frame)
    if kind is None:
        raise TypeError(f"{type(frame).__name__} is not a pandas/polars DataFrame or Series")
    library, shape = kind
    return _pandas_table(frame, shape) if library == "pandas" else _polars_table(frame, shape)


def _float32_text(value: float) -> str:
    """Shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612)."""
    packed = struct.pack("f", value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack("f", float(text)) == packed:
            return repr(float(text))
    return repr(value)


def _cell_text(value: object, float32: bool) -> str:
    """One value as CSV text: missing → empty, floats shortest-repr, long text cut with '…'."""
    if value is None or type(value).__name__ in _MISSING_TYPES:
        text = ""
    elif isinstance(value, float):
        text = "" if math.isnan(value) else _float32_text(value) if float32 else repr(float(value))
    else:
        text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def _csv_line(values: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _showing(shown: int, total: int) -> str:
    if shown == total:
        return SHOWING_ALL.format(total=total)
    return SHOWING_SOME.format(shown=shown, total=total)


def _head(name: str | None, table: _Table) -> str:
    """The title and shape line, then the columns line, each ending in a newline."""
    title = DATA_TITLE.format(name=name) if name else DATA_TITLE_UNNAMED
    shape = DATA_SHAPE.format(rows=table.total, columns=len(table.columns))
    entries = (
        COLUMN_ENTRY.format(name=c, dtype=d)
        for c, d in zip(table.columns, table.dtypes, strict=True)
    )  # fmt: skip
    return f"{title} {shape}\n{COLUMNS_HEADING} {COLUMN_SEPARATOR.join(entries)}\n"


def _fit_rows(table: _Table, max_rows: int, room: int) -> list[str]:
    """CSV lines of the head rows whose total length stays within `room`, fetched in chunks."""
    float32 = [dtype in _FLOAT32_DTYPES for dtype in table.dtypes]
    wanted, used = min(max_rows, table.total), 0
    lines: list[str] = []
    while len(lines) < wanted:
        start = len(lines)
        chunk = table.fetch(start, min(wanted, start + _FETCH_CHUNK))
        if not chunk:  # the frame is shorter than it said: show what there is
            break
        for row in chunk:
            line = _csv_line([_cell_text(v, f) for v, f in zip(row, float32, strict=True)])
            if used + len(line) > room:
                return lines
            lines.append(line)
            used += len(line)
    return lines


def fit_frame(
    frame: object, *, name: str | None, max_rows: int = DEFAULT_ROWS, max_chars: int
) -> tuple[str, FrameInfo]:
    """`frame_to_text`'s text together with what it shows."""
    table = _table(frame)
    head = _head(name, table)
    header_row = _csv_line(table.columns)
    # Budget the longest "Showing" line, so whatever row count is chosen still fits.
    total = table.total
    showing = max(len(SHOWING_SOME.format(shown=total, total=total)), len(_showing(total, total)))
    fence = len(f"\n{CSV_OPEN}\n") + len(header_row) + len(CSV_CLOSE)
    room = max_chars - len(head) - showing - fence
    rows = _fit_rows(table, max_rows, room)
    text = head + _showing(len(rows), table.total)
    if rows:
        text += f"\n{CSV_OPEN}\n" + header_row + "".join(rows) + CSV_CLOSE
    return text, FrameInfo(name, len(rows), table.total, len(text))


def frame_to_text(
    frame: object, *, name: str | None, max_rows: int = DEFAULT_ROWS, max_chars: int
) -> str:
    """Shape, columns and dtypes, then as many head rows as CSV as fit in `max_chars`.

    Only `head(k)` is ever read, so a frame of millions of rows costs what its first rows
    cost. If not even the header fits, the header and "Showing 0 of N rows." are returned.
    """
    return fit_frame(frame, name=name, max_rows=max_rows, max_chars=max_chars)[0]
