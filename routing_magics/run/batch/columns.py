"""A batch's answers as a column: a Series aligned to the frame's index, or one column per key.

pandas frames give a pandas Series (object dtype, `None` where a row has no answer) on the
frame's own index; polars frames a polars Series in row order. With `--format json` each answer
is parsed; when the parsed answers are objects, the result is a DataFrame with one column per
key. `--into COL` writes the result into a pandas frame in place; polars frames are immutable,
so a new frame comes back instead.
"""

from __future__ import annotations

import json
from typing import Any

from ...api.errors import ConfigurationError
from ...display.render import code_blocks
from .outcomes import BatchResult

#: What `--into` did, for the cell to say: (the bound value, a note for the user or None).
IntoResult = tuple[object, str | None]


def check_into(frame_name: str, frame: object, into: str | None, out: str | None) -> None:
    """Fail before any request when `--into` cannot work on this frame."""
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


def answers(result: BatchResult, name: str, fmt: str = "markdown") -> object:
    """The answers as a Series (or, for JSON objects, a DataFrame) aligned to the frame."""
    if fmt == "json":
        values = [o.value if o.status in ("ok", "cached") else None for o in result.outcomes]
    else:
        values = [o.text if o.status in ("ok", "cached") else None for o in result.outcomes]
    library, _ = _kind(result.rows.frame)
    if result.schema is not None:
        from .typed import typed_table

        return typed_table(result, result.schema, library)
    objects = [v for v in values if v is not None]
    if objects and all(isinstance(v, dict) for v in objects):
        return _table(result, values, library)
    if library == "polars":
        import polars as pl

        return pl.Series(name, values, dtype=pl.Object if fmt == "json" else pl.String)
    import pandas as pd

    return pd.Series(values, index=result.rows.frame.index, name=name, dtype=object)


def write_into(frame: Any, value: Any, column: str, joiner: str = "_") -> IntoResult:
    """Put `value` into `frame` as column `column` (objects: `column + joiner + key` per key)."""
    library, _ = _kind(frame)
    if library == "pandas":
        if _kind(value)[1] == "DataFrame":
            for key in value.columns:
                frame[f"{column}{joiner}{key}"] = value[key]
        else:
            frame[column] = value
        return frame, None
    import polars as pl

    if _kind(value)[1] == "DataFrame":
        new = frame.with_columns([value[k].alias(f"{column}{joiner}{k}") for k in value.columns])
    else:
        new = frame.with_columns(pl.Series(column, value))
    return new, "polars frames cannot change in place: -o holds a new frame with the answers"


def _table(result: BatchResult, values: list[object], library: str) -> object:
    keys = list(dict.fromkeys(k for v in values if isinstance(v, dict) for k in v))
    records = [{k: (v.get(k) if isinstance(v, dict) else None) for k in keys} for v in values]
    if library == "polars":
        import polars as pl

        return pl.DataFrame(records, schema=keys) if records else pl.DataFrame()
    import pandas as pd

    return pd.DataFrame.from_records(records, index=result.rows.frame.index, columns=keys)


def _kind(obj: object) -> tuple[str, str]:
    from ...prompt.frames import frame_kind

    return frame_kind(obj) or ("", "")
