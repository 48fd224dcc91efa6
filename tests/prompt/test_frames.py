"""Dataframes as text: exact format, CSV quoting, caps, budget, big frames, determinism."""

from __future__ import annotations

import csv
import io
import time

import pandas as pd
import polars as pl
import pytest

from routing_magics.prompt.frames import fit_frame, frame_to_text, is_frame

ROOMY = 100_000


def sales_pandas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": pd.Series(["North", "South"], dtype=object),
            "units": [12, 7],
            "price": [3.5, 0.1],
        }
    )


def sales_polars() -> pl.DataFrame:
    return pl.DataFrame({"region": ["North", "South"], "units": [12, 7], "price": [3.5, 0.1]})


def csv_rows(text: str) -> list[list[str]]:
    """The rows of the text's ```csv block, parsed back (header first)."""
    body = text.split("```csv\n", 1)[1].rsplit("```", 1)[0]
    return list(csv.reader(io.StringIO(body)))


def test_recognises_pandas_and_polars_frames_and_series_only() -> None:
    class MyFrame(pd.DataFrame):
        pass

    frames = [sales_pandas(), sales_pandas()["units"], sales_polars(), sales_polars()["units"]]
    assert all(is_frame(f) for f in [*frames, MyFrame({"a": [1]})])
    not_frames = [None, "df", [1, 2], {"a": [1]}, sales_polars().lazy(), sales_pandas().index]
    assert not any(is_frame(x) for x in not_frames)


def test_pandas_frame_exact_text() -> None:
    assert frame_to_text(sales_pandas(), name="sales", max_chars=ROOMY) == (
        "Data `sales`: 2 rows × 3 columns\n"
        "Columns: region (object), units (int64), price (float64)\n"
        "Showing all 2 rows.\n"
        "```csv\n"
        "region,units,price\n"
        "North,12,3.5\n"
        "South,7,0.1\n"
        "```"
    )


def test_polars_frame_exact_text_without_name() -> None:
    assert frame_to_text(sales_polars(), name=None, max_chars=ROOMY) == (
        "Data: 2 rows × 3 columns\n"
        "Columns: region (String), units (Int64), price (Float64)\n"
        "Showing all 2 rows.\n"
        "```csv\n"
        "region,units,price\n"
        "North,12,3.5\n"
        "South,7,0.1\n"
        "```"
    )


@pytest.mark.parametrize(
    ("series", "header"),
    [
        (pd.Series([3.5, 0.1], name="price"), "price (float64)"),
        (pl.Series("price", [3.5, 0.1]), "price (Float64)"),
    ],
)
def test_series_is_a_one_column_frame_named_after_it(series: object, header: str) -> None:
    assert frame_to_text(series, name="p", max_chars=ROOMY) == (
        "Data `p`: 2 rows × 1 columns\n"
        f"Columns: {header}\n"
        "Showing all 2 rows.\n"
        "```csv\n"
        "price\n"
        "3.5\n"
        "0.1\n"
        "```"
    )


def test_unnamed_series_column_is_called_value() -> None:
    assert csv_rows(frame_to_text(pd.Series([1, 2]), name="s", max_chars=ROOMY))[0] == ["value"]
    assert csv_rows(frame_to_text(pl.Series([1, 2]), name="s", max_chars=ROOMY))[0] == ["value"]


def test_pandas_non_default_index_becomes_the_first_column() -> None:
    named = sales_pandas().set_index("region")
    text = frame_to_text(named, name="s", max_chars=ROOMY)
    assert "Columns: region (object), units (int64), price (float64)" in text
    assert csv_rows(text) == [
        ["region", "units", "price"],
        ["North", "12", "3.5"],
        ["South", "7", "0.1"],
    ]

    sliced = sales_pandas().iloc[1:]  # RangeIndex starting at 1: the labels matter
    assert csv_rows(frame_to_text(sliced, name="s", max_chars=ROOMY)) == [
        ["index", "region", "units", "price"],
        ["1", "South", "7", "0.1"],
    ]


def test_multiindex_levels_become_columns() -> None:
    index = pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["key", None])
    frame = pd.DataFrame({"v": [10, 20]}, index=index)
    assert csv_rows(frame_to_text(frame, name="m", max_chars=ROOMY)) == [
        ["key", "level_1", "v"],
        ["a", "1", "10"],
        ["b", "2", "20"],
    ]


@pytest.mark.parametrize("make", [pd.DataFrame, pl.DataFrame])
def test_csv_quoting_round_trips_awkward_values(make: type) -> None:
    awkward = ["a,b", 'say "hi"', "two\nlines", "plain"]
    text = frame_to_text(make({"note": awkward}), name="n", max_chars=ROOMY)
    assert [row[0] for row in csv_rows(text)] == ["note", *awkward]


@pytest.mark.parametrize("make", [pd.DataFrame, pl.DataFrame])
def test_long_values_are_cut_with_an_ellipsis(make: type) -> None:
    text = frame_to_text(make({"t": ["x" * 500, "short"]}), name="t", max_chars=ROOMY)
    long_cell, short_cell = (row[0] for row in csv_rows(text)[1:])
    assert long_cell == "x" * 79 + "…"
    assert short_cell == "short"


def test_missing_values_are_empty_and_floats_are_shortest() -> None:
    frame = pd.DataFrame({"f": [0.1, None, 1e20], "s": pd.Series([None, "x", pd.NA], dtype=object)})
    assert csv_rows(frame_to_text(frame, name="f", max_chars=ROOMY))[1:] == [
        ["0.1", ""],
        ["", "x"],
        ["1e+20", ""],
    ]
    polars32 = pl.DataFrame({"g": [0.1, None]}, schema={"g": pl.Float32})
    assert csv_rows(frame_to_text(polars32, name="g", max_chars=ROOMY))[1:] == [["0.1"], [""]]


@pytest.mark.parametrize("make", [pd.DataFrame, pl.DataFrame])
def test_rows_are_capped_at_max_rows(make: type) -> None:
    text = frame_to_text(make({"n": list(range(100))}), name="n", max_rows=10, max_chars=ROOMY)
    assert "Showing 10 of 100 rows." in text
    assert csv_rows(text)[1:] == [[str(i)] for i in range(10)]


@pytest.mark.parametrize("max_chars", [150, 200, 300, 500, 1000])
def test_text_stays_within_max_chars(max_chars: int) -> None:
    frame = pd.DataFrame({"word": [f"word number {i}" for i in range(200)]})
    text, info = fit_frame(frame, name="w", max_rows=200, max_chars=max_chars)
    assert len(text) <= max_chars
    assert info.chars == len(text)
    assert f"Showing {info.rows_shown} of 200 rows." in text
    assert len(csv_rows(text)) - 1 == info.rows_shown > 0


def test_more_room_shows_more_rows() -> None:
    frame = pl.DataFrame({"n": list(range(1000))})
    shown = [
        fit_frame(frame, name="n", max_rows=1000, max_chars=c)[1].rows_shown
        for c in (200, 400, 800)
    ]
    assert shown[0] < shown[1] < shown[2]


def test_header_that_does_not_fit_still_says_showing_zero() -> None:
    assert frame_to_text(sales_pandas(), name="sales", max_chars=10) == (
        "Data `sales`: 2 rows × 3 columns\n"
        "Columns: region (object), units (int64), price (float64)\n"
        "Showing 0 of 2 rows."
    )


def test_empty_frame() -> None:
    assert frame_to_text(
        pl.DataFrame({"a": []}, schema={"a": pl.Int64}), name="e", max_chars=ROOMY
    ) == ("Data `e`: 0 rows × 1 columns\nColumns: a (Int64)\nShowing all 0 rows.")


def million_rows(library: str) -> object:
    data = {"id": range(1_000_000), "region": "North", "price": 2.5}
    if library == "pandas":
        return pd.DataFrame(data)
    return pl.DataFrame({"id": range(1_000_000)}).with_columns(
        region=pl.lit("North"), price=pl.lit(2.5)
    )


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_a_million_rows_reads_only_the_head(library: str) -> None:
    frame = million_rows(library)
    started = time.perf_counter()
    text = frame_to_text(frame, name="big", max_chars=20_000)
    assert time.perf_counter() - started < 1.0  # generous: serialising it all takes seconds
    assert "Data `big`: 1000000 rows × 3 columns" in text
    assert "Showing 50 of 1000000 rows." in text
    assert csv_rows(text)[-1] == ["49", "North", "2.5"]


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_frame_text_is_deterministic(library: str) -> None:
    first = frame_to_text(million_rows(library), name="big", max_rows=500, max_chars=9_000)
    again = frame_to_text(million_rows(library), name="big", max_rows=500, max_chars=9_000)
    assert first == again
