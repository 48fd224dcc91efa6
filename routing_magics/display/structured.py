"""A structured answer shown in a cell: a small key/value table, every value escaped, nested
values folded under a <details> of their own JSON."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Mapping
from typing import Any

from . import styles

Bundle = dict[str, str]
#: Longest value shown whole in a cell of the table; the rest is cut with an ellipsis.
VALUE_CHARS = 400


def as_plain(data: object) -> Any:
    """The object as JSON-ready values: a pydantic model, a dataclass or a dict alike."""
    dump = getattr(data, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return dataclasses.asdict(data)
    return data


def object_bundle(data: object, title: str = "") -> Bundle:
    """Text and escaped HTML of the object's fields, in order."""
    plain = as_plain(data)
    fields = plain if isinstance(plain, Mapping) else {"value": plain}
    rows = [(str(k), v) for k, v in fields.items()]
    width = max((len(k) for k, _ in rows), default=0)
    text = "\n".join([title] * bool(title) + [f"{k.ljust(width)}  {_short(v)}" for k, v in rows])
    left = 'style="text-align:left"'
    body = "".join(
        f"<tr><th {left}>{html.escape(k)}</th><td {left}>{_cell(v)}</td></tr>" for k, v in rows
    )
    cap = f'<caption style="text-align:left">{html.escape(title)}</caption>' if title else ""
    return {
        "text/plain": text,
        "text/html": (
            f'<div class="routing-magics-object {styles.NO_MATH}" style="{styles.SCROLL_X}">'
            f"<table>{cap}{body}</table></div>"
        ),
    }


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _cell(value: object) -> str:
    if isinstance(value, (dict, list)) and value:
        kind = f"{len(value)} fields" if isinstance(value, dict) else f"{len(value)} items"
        inner = html.escape(json.dumps(value, ensure_ascii=False, indent=1))
        return f"<details><summary>{kind}</summary><pre>{inner}</pre></details>"
    return html.escape(_short(value))
