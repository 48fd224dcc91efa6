"""A structured batch's answers as typed columns: one per schema field, aligned to the frame.

Dtypes come from the schema: integer → nullable Int64, number → Float64, boolean → boolean,
string → string, anything else (lists, nested objects) → object. A row without a validated
answer has missing values in every column.
"""

from __future__ import annotations

from typing import Any

from ...display.structured import as_plain
from ...prompt.schema import Schema
from .outcomes import BatchResult

_PANDAS = {"integer": "Int64", "number": "Float64", "boolean": "boolean", "string": "string"}


def typed_table(result: BatchResult, schema: Schema, library: str) -> object:
    """The validated objects as a frame of typed columns (pandas on the frame's index)."""
    fields = schema.fields
    plain = [as_plain(o.value) if o.status in ("ok", "cached") else None for o in result.outcomes]
    columns = {f: [v.get(f) if isinstance(v, dict) else None for v in plain] for f in fields}
    types = {f: _json_type(schema, f) for f in fields}
    if library == "polars":
        return _polars(columns, types)
    import pandas as pd

    index = result.rows.frame.index
    return pd.DataFrame(
        {f: pd.Series(values, index=index, dtype=_PANDAS.get(types[f], object))
         for f, values in columns.items()},
        index=index,
    )  # fmt: skip


def _polars(columns: dict[str, list[Any]], types: dict[str, str]) -> object:
    import polars as pl

    kinds = {"integer": pl.Int64, "number": pl.Float64, "boolean": pl.Boolean, "string": pl.String}
    return pl.DataFrame(
        [
            pl.Series(f, values, dtype=kinds.get(types[f], pl.Object))
            for f, values in columns.items()
        ]
    )


def _json_type(schema: Schema, field: str) -> str:
    """The field's JSON type; a nullable one (`anyOf` with null, as pydantic writes Optional)
    counts as its other type."""
    spec = schema.json_schema.get("properties", {}).get(field, {})
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "anyOf" in spec:
        kind = next((a.get("type") for a in spec["anyOf"] if a.get("type") != "null"), None)
    return kind if isinstance(kind, str) else ""
