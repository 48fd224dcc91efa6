"""A batch's answers as a column: a Series aligned to the frame's index, or one column per key.

pandas frames give a pandas Series (object dtype, `None` where a row has no answer) on the
frame's own index; polars frames a polars Series in row order. With `--format json` each answer
is parsed; when the parsed answers are objects, the result is a DataFrame with one column per
key. `--into COL` writes the result into a pandas frame in place; polars frames are immutable,
so a new frame comes back instead.

The model's keys name columns, so they are checked as a user's input would be: a key that is
empty, blank, too long or not printable names no column, and at most MAX_JSON_COLUMNS keys make
columns. `--into` never replaces a column that exists unless the cell says `--overwrite`.
"""

from __future__ import annotations

import json
from typing import Any

from ...api.errors import ConfigurationError
from ...display.render import code_blocks
from .outcomes import BatchResult

#: The most columns the keys of `--format json` answers make (for `-o` and `--into` alike); the
#: other keys are left out, and the cell says so in one line.
MAX_JSON_COLUMNS = 50
#: The longest key that names a column.
MAX_KEY_CHARS = 64
#: The value answers() and write_into() give, with the notes the cell prints (one line each).
Noted = tuple[object, list[str]]


def check_into(
    frame_name: str, frame: object, into: str | None, out: str | None, *, fmt: str = "markdown",
    overwrite: bool = False,
) -> None:  # fmt: skip
    """Fail before any request when `--into` cannot work on this frame, or would replace a
    column without `--overwrite` (JSON objects name their columns later: write_into checks)."""
    if into is None:
        return
    library, shape = _kind(frame)
    if shape != "DataFrame":
        raise ConfigurationError(f"--into {into}: {frame_name} is a Series; --into needs a frame")
    if library == "polars" and out is None:
        raise ConfigurationError(
            f"--into {into}: polars frames cannot change in place; add -o NAME to bind a new "
            f"frame with the column {into!r}"
        )
    if fmt != "json" and not overwrite and into in _columns(frame):
        raise ConfigurationError(
            f"--into {into}: {frame_name} already has a column {into!r}; add --overwrite to "
            "replace it, or name a new column"
        )


def parse_json(text: str) -> tuple[object, str | None]:
    """An answer parsed as JSON (its first fenced block, if any): (value, None), or (None, why
    not). Nesting too deep for Python counts as not JSON, as it would for any reader."""
    # Only an answer with a fence is parsed as markdown: one of 100,000 brackets would take
    # seconds to, and is no JSON anyway.
    blocks = code_blocks(text) if "```" in text or "~~~" in text else []
    try:
        return json.loads(blocks[0] if blocks else text), None
    except (ValueError, RecursionError) as exc:
        why = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        return None, f"the answer is not valid JSON ({why})"


def answers(result: BatchResult, name: str, fmt: str = "markdown") -> Noted:
    """The answers as a Series (or, for JSON objects, a DataFrame) aligned to the frame, and
    notes on the keys that made no column."""
    if fmt == "json":
        values = [o.value if o.status in ("ok", "cached") else None for o in result.outcomes]
    else:
        values = [o.text if o.status in ("ok", "cached") else None for o in result.outcomes]
    library, _ = _kind(result.rows.frame)
    if result.schema is not None:
        from .typed import typed_table

        return typed_table(result, result.schema, library), []
    objects = [v for v in values if v is not None]
    if objects and all(isinstance(v, dict) for v in objects):
        keys, notes = json_columns(objects)
        return _table(result, values, keys, library), notes
    if library == "polars":
        import polars as pl

        return pl.Series(name, values, dtype=pl.Object if fmt == "json" else pl.String), []
    import pandas as pd

    return pd.Series(values, index=result.rows.frame.index, name=name, dtype=object), []


def json_columns(objects: list[Any]) -> tuple[list[str], list[str]]:
    """The keys that make columns (usable names, first seen first, at most MAX_JSON_COLUMNS),
    and a note on each kind of key left out."""
    seen = list(dict.fromkeys(key for value in objects for key in value))
    usable = [key for key in seen if _names_a_column(key)]
    odd = [key for key in seen if not _names_a_column(key)]
    notes = []
    if odd:
        verb = "names" if len(odd) == 1 else "name"
        notes.append(f"--format json: {_keys(len(odd))} {verb} no column (empty, blank, too "
                     f"long or not printable), so left out: {_some(odd)}")  # fmt: skip
    if len(usable) > MAX_JSON_COLUMNS:
        notes.append(
            f"--format json: the answers have {_keys(len(usable))}; the first "
            f"{MAX_JSON_COLUMNS} make columns and the other {len(usable) - MAX_JSON_COLUMNS:,} "
            f"are left out ({_some(usable[MAX_JSON_COLUMNS:])}); ask for fewer keys"
        )
    return usable[:MAX_JSON_COLUMNS], notes


def write_into(
    frame: Any, value: Any, column: str, *, frame_name: str = "the frame",
    overwrite: bool = False, joiner: str = "_",
) -> Noted:  # fmt: skip
    """Put `value` into `frame` as column `column` (objects: `column + joiner + key` per key); a
    column that exists is kept unless `overwrite`. Returns the frame (polars: a new one) and
    notes."""
    table = _kind(value)[1] == "DataFrame"
    wanted = {f"{column}{joiner}{key}": key for key in value.columns} if table else {column: None}
    kept = [] if overwrite else [name for name in wanted if name in _columns(frame)]
    parts = {name: value[key] if table else value for name, key in wanted.items()
             if name not in kept}  # fmt: skip
    notes = [_kept_note(column, kept, frame_name)] if kept else []
    if _kind(frame)[0] == "pandas":
        for name, part in parts.items():
            frame[name] = part
        return frame, notes
    import polars as pl

    new = frame.with_columns([pl.Series(part).alias(name) for name, part in parts.items()])
    notes.append("polars frames cannot change in place: -o holds a new frame with the answers")
    return new, notes


def _names_a_column(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_CHARS and key.isprintable() and key.strip() == key


def _keys(count: int) -> str:
    return f"{count:,} key" if count == 1 else f"{count:,} keys"


def _some(keys: list[str], shown: int = 3) -> str:
    """The first few keys as Python writes them (control characters escaped, long ones cut)."""
    parts = [repr(key if len(key) <= 20 else key[:20] + "…") for key in keys[:shown]]
    return ", ".join(parts + (["…"] if len(keys) > shown else []))


def _kept_note(column: str, kept: list[str], frame_name: str) -> str:
    names = ", ".join(kept[:5]) + (f" and {len(kept) - 5:,} more" if len(kept) > 5 else "")
    which = "the column" if len(kept) == 1 else "the columns"
    them = "it" if len(kept) == 1 else "them"
    return (
        f"--into {column}: kept {which} {names} that {frame_name} has; add --overwrite to "
        f"replace {them}"
    )


def _columns(frame: Any) -> list[object]:
    return list(frame.columns)


def _table(result: BatchResult, values: list[object], keys: list[str], library: str) -> object:
    records = [{k: (v.get(k) if isinstance(v, dict) else None) for k in keys} for v in values]
    if library == "polars":
        import polars as pl

        return pl.DataFrame(records, schema=keys) if records else pl.DataFrame()
    import pandas as pd

    return pd.DataFrame.from_records(records, index=result.rows.frame.index, columns=keys)


def _kind(obj: object) -> tuple[str, str]:
    from ...prompt.frames import frame_kind

    return frame_kind(obj) or ("", "")
