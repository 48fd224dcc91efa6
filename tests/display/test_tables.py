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


def test_cost_column_shows_estimates_a_dash_for_unpriced_and_a_total() -> None:
    totals = [
        ModelTotals("route/kimi-k2.5", 2, 1_000, 500, 1_500, 700.0, False, 0),
        ModelTotals("route/mistral-small-2503", 1, 10, 20, 30, 500.0, False, 0),
    ]
    costs = {"route/kimi-k2.5": 0.00167, "route/mistral-small-2503": None}
    bundle = usage_table(totals, title="Usage", costs=costs, cost_note="Prices of DATE.")
    lines = bundle["text/plain"].splitlines()
    assert lines[1].endswith("≈ cost")
    assert lines[2].startswith("route/kimi-k2.5") and lines[2].endswith("$0.0017")
    assert lines[3].startswith("route/mistral-small-2503") and lines[3].endswith("—")
    assert lines[4].startswith("total") and lines[4].endswith("$0.0017")
    assert "$0 " not in bundle["text/plain"] and not bundle["text/plain"].count("$0\n")
    assert lines[5] == "—: no published price. Prices of DATE."
    html = bundle["text/html"]
    assert 'class="routing-magics-usage tex2jax_ignore mathjax_ignore"' in html  # no MathJax
    assert '<td style="text-align:right">—</td>' in html


def test_without_prices_there_is_no_cost_column() -> None:
    totals = [ModelTotals("route/glm-5", 1, 1, 2, 3, None, False, 0)]
    bundle = usage_table(totals, title="Usage", cost_note="No costs: prices unknown.")
    assert "cost" not in bundle["text/plain"].splitlines()[1]
    assert bundle["text/plain"].endswith("No costs: prices unknown.")
