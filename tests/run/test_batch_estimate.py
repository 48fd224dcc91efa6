"""A batch's cost before it is sent (run/batch/estimate.py): rows × models × tokens × prices,
with how it was estimated, and unknown (never zero) where a route has no price."""

from __future__ import annotations

import pytest

from routing_magics.api.models import ChatRequest
from routing_magics.api.pricing import parse_pricing
from routing_magics.prompt.prepare import estimate_tokens
from routing_magics.run.batch.estimate import ASSUMED_OUTPUT_TOKENS, budget_line, estimate_batch

PRICES = parse_pricing({"models": [
    {"model": "route/a", "input_per_million": 1.0, "output_per_million": 2.0},
    {"model": "route/b", "input_per_million": 10.0, "output_per_million": 20.0},
]})  # fmt: skip


def rows(n: int, max_tokens: int | None = None) -> list[ChatRequest]:
    params = {} if max_tokens is None else {"max_tokens": max_tokens}
    return [
        ChatRequest("route/a", [{"role": "user", "content": f"Classify review {i}."}], params)
        for i in range(n)
    ]


def test_one_model_bounded_by_max_tokens() -> None:
    requests = rows(40, max_tokens=200)
    tokens_in = sum(estimate_tokens(str(r.messages[0]["content"])) for r in requests)
    found = estimate_batch(requests, ["route/a"], PRICES)
    assert found.requests == 40
    assert found.cost_usd == pytest.approx((tokens_in * 1.0 + 40 * 200 * 2.0) / 1e6)
    line = found.describe()
    assert line.startswith("Estimate: ≈ $0.016 for 40 requests (40 rows × route/a)")
    assert f"≈ {tokens_in:,} tokens in, from the requests" in line
    assert "up to 200 out a row (-m)" in line and "\n" not in line


def test_rows_times_models_with_an_assumed_output_when_no_max_tokens() -> None:
    requests = rows(10)
    one = estimate_batch(requests, ["route/a"], PRICES)
    both = estimate_batch(requests, ["route/a", "route/b"], PRICES)
    assert both.requests == 20
    assert both.cost_usd == pytest.approx(one.cost_usd * 11)  # route/b costs ten times route/a
    assert f"≈ {ASSUMED_OUTPUT_TOKENS} out a row (assumed; -m sets it)" in both.describe()
    assert "(10 rows × route/a, route/b)" in both.describe()
    assert "tokens in per model" in both.describe()


def test_an_unpriced_route_is_unknown_not_zero() -> None:
    mixed = estimate_batch(rows(5), ["route/a", "route/x"], PRICES)
    assert mixed.unpriced == ("route/x",)
    assert mixed.cost_usd == estimate_batch(rows(5), ["route/a"], PRICES).cost_usd
    assert "(priced routes only)" in mixed.describe()
    assert "route/x: no known price" in mixed.describe()
    alone = estimate_batch(rows(5), ["route/x"], PRICES)
    assert alone.cost_usd is None and alone.describe().startswith("Estimate: cost unknown")
    fetched_none = estimate_batch(rows(5), ["route/a"], None)
    assert fetched_none.cost_usd is None
    assert fetched_none.describe().endswith("no prices from routing.run")


def test_budget_line_says_when_the_batch_will_be_stopped() -> None:
    assert budget_line(0.5, 1.0, 0.2) == "This notebook's budget has ≈ $0.5 of $1.00 left today."
    stops = budget_line(0.5, 1.0, 0.7)
    assert stops.endswith("the batch stops when it is spent (answered rows are kept).")
