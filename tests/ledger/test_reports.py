"""Ledger reports: records, tokens per day (gaps kept) and per hour; CSV and DataFrame export."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.ledger import Ledger, UsageRow
from routing_magics.ledger.export import COLUMNS, to_frame, write_csv
from routing_magics.ledger.reports import records, tokens_per_day, tokens_per_hour

NOON = datetime(2026, 12, 2, 12, 0)


def row(notebook: str, model: str, tokens: int, when: datetime, **extra: object) -> UsageRow:
    fields: dict = dict(
        notebook=notebook, model=model, endpoint="https://api.routing.run/v1", provider="crof",
        prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2, total_tokens=tokens,
        estimated=False, ttft_ms=120, latency_ms=900, outcome="ok", ts=when.timestamp(),
    )  # fmt: skip
    return UsageRow(**(fields | extra))


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    with Ledger(tmp_path / "u.sqlite") as opened:
        opened.record(row("a.ipynb", "route/glm-5", 100, NOON - timedelta(days=2)))
        opened.record(row("a.ipynb", "route/glm-5", 40, NOON))
        opened.record(row("a.ipynb", "route/kimi-k2.5", 10, NOON.replace(hour=9)))
        opened.record(row("b.ipynb", "route/glm-5", 7, NOON, provider=None, latency_ms=None))
        opened.record(row("a.ipynb", "route/glm-5", 999, NOON - timedelta(days=40)))
        yield opened


def test_tokens_per_day_cover_30_days_with_gaps_as_zeros(ledger: Ledger) -> None:
    days = tokens_per_day(ledger, "a.ipynb", now=NOON.timestamp())
    assert len(days.labels) == 30 and days.labels[-1] == "2026-12-02"
    assert days.labels[0] == "2026-11-03"
    assert list(days.tokens) == ["route/glm-5", "route/kimi-k2.5"]  # most tokens first
    assert days.tokens["route/glm-5"][-3:] == [100, 0, 40]  # the day between is a gap
    assert sum(days.tokens["route/glm-5"]) == 140  # 40 days ago is out of the window
    everyone = tokens_per_day(ledger, None, now=NOON.timestamp())
    assert everyone.tokens["route/glm-5"][-1] == 47


def test_tokens_per_hour_are_todays(ledger: Ledger) -> None:
    hours = tokens_per_hour(ledger, "a.ipynb", now=NOON.timestamp())
    assert hours.labels[0] == "00:00" and len(hours.labels) == 24
    assert hours.tokens["route/kimi-k2.5"][9] == 10 and hours.tokens["route/glm-5"][12] == 40
    assert sum(hours.tokens["route/glm-5"]) == 40


def test_records_are_one_notebooks_or_all_oldest_first(ledger: Ledger) -> None:
    mine = records(ledger, "a.ipynb")
    assert [r.total_tokens for r in mine] == [999, 100, 10, 40]
    assert len(records(ledger, None)) == 5


def test_the_dataframe_has_one_typed_row_per_request(ledger: Ledger) -> None:
    rows = records(ledger, None)
    frame = to_frame(rows, [0.5, None, 0.25, 0.125, 1.0])
    assert tuple(frame.columns) == COLUMNS
    assert isinstance(frame["time"].dtype, pd.DatetimeTZDtype) and str(frame["time"].dt.tz) == "UTC"
    assert frame["time"].iloc[-1] == pd.Timestamp(NOON.timestamp(), unit="s", tz="UTC")
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert frame[name].dtype == "int64"
    assert frame["latency_ms"].dtype == "Int64" and frame["latency_ms"].isna().sum() == 1
    assert frame["estimated"].dtype == bool and frame["cost_usd"].dtype == "float64"
    assert frame["cost_usd"].isna().tolist() == [False, True, False, False, False]
    assert frame["model"].dtype == "string" and frame["provider"].isna().sum() == 1


def test_the_csv_round_trips(ledger: Ledger, tmp_path: Path) -> None:
    rows = records(ledger, None)
    costs = [0.5, None, 0.25, 0.125, 1e-6]
    path = tmp_path / "usage.csv"
    assert write_csv(path, rows, costs) == 5
    back = pd.read_csv(path)
    assert tuple(back.columns) == COLUMNS
    assert back["total_tokens"].tolist() == [r.total_tokens for r in rows]
    assert back["cost_usd"].tolist()[2:] == costs[2:] and pd.isna(back["cost_usd"][1])
    assert pd.to_datetime(back["time"]).iloc[-1] == pd.Timestamp(
        NOON.timestamp(), unit="s", tz="UTC"
    )
    with path.open(newline="") as source:
        first = next(csv.DictReader(source))
    assert first["notebook"] == "a.ipynb" and first["estimated"] == "False"
