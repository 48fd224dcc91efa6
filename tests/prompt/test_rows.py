"""prompt/rows.py: frames read row by row and the names a row template may use."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from routing_magics.api.errors import ConfigurationError
from routing_magics.prompt.prepare import interpolate
from routing_magics.prompt.rows import check_row_template, frame_rows, row_namespace


def fill(template: str, ns: object) -> str:
    return interpolate(template, ns, render_value=lambda n, v: str(v))  # type: ignore[arg-type]


def test_pandas_rows_keep_their_index_labels_and_fields() -> None:
    rows = frame_rows("df", pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=["p", "q"]))
    assert rows.labels == ["p", "q"] and rows.columns == ["a", "b"]
    assert list(rows.fields()) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


def test_polars_frames_and_series_of_both_libraries() -> None:
    rows = frame_rows("pf", pl.DataFrame({"a": [1, 2]}))
    assert rows.labels == [0, 1] and list(rows.fields()) == [{"a": 1}, {"a": 2}]
    named = frame_rows("s", pd.Series([3, 4], name="n", index=[7, 8]))
    assert named.columns == ["n"] and named.labels == [7, 8]
    assert list(frame_rows("s", pl.Series([5])).fields()) == [{"value": 5}]


def test_a_column_wins_over_row_index_and_notebook_names() -> None:
    ns = row_namespace({"text": "row's", "index": "col"}, 9, {"text": "notebook's", "x": 1})
    assert fill("{text}|{index}|{x}|{{text}}|{unknown}", ns) == "row's|col|1|{text}|{unknown}"
    plain = row_namespace({"a": 1, "b": 2}, "lbl", {})
    assert fill("{row}\n{index}", plain) == "a: 1\nb: 2\nlbl"


def test_a_template_naming_no_column_or_variable_fails_with_what_to_write() -> None:
    rows = frame_rows("df", pd.DataFrame({"text": ["a"]}))
    check_row_template("{text} {row} {index} {known}", rows, "df", {"known": 1})
    with pytest.raises(ConfigurationError) as caught:
        check_row_template("{txt}", rows, "df", {})
    assert str(caught.value) == (
        "{txt} is not a column of df (columns: text) nor a notebook variable; "
        "write {{txt}} for literal braces"
    )
    with pytest.raises(ConfigurationError, match="not a pandas/polars"):
        frame_rows("x", [1, 2])
