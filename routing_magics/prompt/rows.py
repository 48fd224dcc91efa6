"""Row templates for `--each`: one prompt per row of a frame, through prepare.py's `{name}`.

In a row's prompt `{col}` is that row's value of column `col`, `{row}` the whole row as
`col: value` lines and `{index}` the row's index label; a column wins over those two, and all
three win over notebook names. Other `{name}`s and `{{ }}` behave as in any cell. Neither pandas
nor polars is imported: frames are read through their own methods.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ..api.errors import ConfigurationError
from .frames import frame_kind
from .prepare import placeholders

#: Names every row template may use besides the frame's columns.
ROW_NAMES = ("row", "index")


@dataclass(frozen=True)
class FrameRows:
    """A frame read row by row: its library, column names and index labels."""

    frame: Any
    library: str  # "pandas" | "polars"
    shape: str  # "DataFrame" | "Series"
    columns: list[str]
    labels: list[object]

    def __len__(self) -> int:
        return len(self.labels)

    def fields(self) -> Iterator[dict[str, object]]:
        """Each row as {column: value}, in order."""
        frame = self.frame
        if self.shape == "Series":
            column = self.columns[0]
            values = frame.tolist() if self.library == "pandas" else frame.to_list()
            yield from ({column: v} for v in values)
            return
        rows = (
            frame.itertuples(index=False, name=None)
            if self.library == "pandas"
            else frame.iter_rows()
        )
        for values in rows:
            yield dict(zip(self.columns, values, strict=True))


def frame_rows(name: str, value: object) -> FrameRows:
    """`value` (the notebook's `name`) as FrameRows; ConfigurationError if it is not a frame."""
    kind = frame_kind(value)
    if kind is None:
        what = type(value).__name__
        raise ConfigurationError(
            f"--each {name}: {name} is a {what}, not a pandas/polars DataFrame or Series"
        )
    library, shape = kind
    frame: Any = value
    if shape == "Series":
        # pandas names an unnamed Series None, polars ""
        columns = [str(frame.name) if frame.name not in (None, "") else "value"]
    else:
        columns = [str(c) for c in frame.columns]
    if library == "pandas":
        labels: list[object] = frame.index.tolist()
    else:
        labels = list(range(len(frame)))
    return FrameRows(frame, library, shape, columns, labels)


def check_row_template(
    template: str, rows: FrameRows, frame_name: str, namespace: Mapping[str, object]
) -> None:
    """Fail before any request when the template names something no row can fill."""
    if not template.strip():
        raise ConfigurationError("the cell is empty: write the prompt for each row")
    known = set(rows.columns) | set(ROW_NAMES)
    unknown = [n for n in placeholders(template) if n not in known and n not in namespace]
    if unknown:
        shown = ", ".join(rows.columns[:12]) + (", …" if len(rows.columns) > 12 else "")
        raise ConfigurationError(
            f"{{{unknown[0]}}} is not a column of {frame_name} (columns: {shown}) nor a "
            f"notebook variable; write {{{{{unknown[0]}}}}} for literal braces"
        )


def row_text(fields: Mapping[str, object]) -> str:
    """`{row}`: the whole row as `col: value` lines."""
    return "\n".join(f"{column}: {value}" for column, value in fields.items())


def row_namespace(
    fields: Mapping[str, object], label: object, namespace: Mapping[str, object]
) -> Mapping[str, object]:
    """What `{name}` reads for one row: its fields, then `row`/`index`, then the notebook."""
    specials: dict[str, object] = {"row": row_text(fields), "index": label}
    # The notebook's namespace is read, never copied or written: a cast, not a dict() per row.
    return ChainMap(dict(fields), specials, cast("MutableMapping[str, object]", namespace))


def labels_text(labels: Sequence[object], limit: int = 5) -> str:
    """A short list of index labels for messages: `3, 7, 12 and 4 more`."""
    shown = ", ".join(str(label) for label in labels[:limit])
    more = len(labels) - limit
    return f"{shown} and {more} more" if more > 0 else shown
