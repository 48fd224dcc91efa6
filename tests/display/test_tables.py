"""usage_view.py: the per-model usage table, as text and as escaped HTML with bars."""

from __future__ import annotations

from routing_magics.display.tables import usage_table
from routing_magics.ledger import ModelTotals


def test_usage_table_escapes_model_ids_and_draws_bars() -> None:
    hostile = "<script>alert(1)</script>"
    totals = [
        ModelTotals("route/alpha", 3, 1000, 200, 1200, 850.0, False, 0),
        ModelTotals(hostile, 1, 500, 100, 600, 2500.0, True, 1),
    ]

    bundle = usage_table(totals, title="Usage for <b>a.ipynb</b>")

    page = bundle["text/html"]
    assert "<script" not in page and "<b>a.ipynb" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "width:100.0%" in page and "width:50.0%" in page
    text = bundle["text/plain"]
    assert hostile in text and "route/alpha" in text
    assert "1,200" in text and "850 ms" in text and "2.5 s" in text and "≈600" in text
    alpha_line = next(line for line in text.splitlines() if line.startswith("route/alpha"))
    hostile_line = next(line for line in text.splitlines() if line.startswith(hostile))
    assert len(alpha_line) == len(hostile_line)  # columns line up


def test_usage_table_with_no_requests() -> None:
    bundle = usage_table([], title="Usage")
    assert "no requests yet" in bundle["text/plain"]
    assert "no requests yet" in bundle["text/html"]
