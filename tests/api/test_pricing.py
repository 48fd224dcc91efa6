"""GET /v1/pricing through a real socket: the emulator's prices, several tiers, missing models,
and an endpoint that fails or hangs (no cost, and no wait beyond the short timeout)."""

from __future__ import annotations

import threading

import pytest

from routing_magics.api import errors
from routing_magics.api.client import RoutingClient
from routing_magics.api.pricing import parse_pricing
from routing_magics.api.refresh import Refresher
from routing_magics.emulator import Emulator
from tests.hostile import HostileServer, pricing_down


def entry(model: str, rate_in: object, rate_out: object, tier: str | None = None) -> dict:
    item = {"model": model, "input_per_million": rate_in, "output_per_million": rate_out}
    return item | ({"tier": tier} if tier else {})


def test_costs_come_from_the_prices_the_emulator_serves(emu: Emulator) -> None:
    with RoutingClient("rk_test", emu.base_url, None) as client:
        prices = client.pricing()
    # route/kimi-k2.5 is listed at $0.46 in / $2.42 out per million tokens.
    assert prices.cost("route/kimi-k2.5", 1_000, 500) == pytest.approx(0.00046 + 0.00121)
    assert prices.cost("route/mistral-small-2503", 1_000, 500) is None  # not priced: unknown
    (request,) = [r for r in emu.requests if r.path == "/v1/pricing"]
    assert request.method == "GET"


def test_the_lowest_tier_wins_and_is_named(emu: Emulator) -> None:
    emu.pricing = [
        entry("route/glm-5", 2.0, 6.0, "premium"),
        entry("route/glm-5", 0.79, 2.53, "free"),
        entry("route/glm-5", 1.0, 3.0, "lite"),
        entry("route/kimi-k2.5", 0.46, 2.42),
    ]
    with RoutingClient("rk_test", emu.base_url, None) as client:
        prices = client.pricing()
    assert prices.cost("route/glm-5", 1_000_000, 0) == pytest.approx(0.79)
    assert prices.several_tiers == {"route/glm-5"}


def test_without_tiers_the_first_entry_wins_and_bare_ids_match() -> None:
    prices = parse_pricing({"models": [entry("glm-5", 1, 2), entry("glm-5", 5, 6)]})
    assert prices.cost("route/glm-5", 1_000_000, 1_000_000) == pytest.approx(3.0)


@pytest.mark.parametrize(
    "bad",
    [None, "0.46", True, -1, float("nan"), float("inf"), 1e308, pytest.param(10**400, id="10**400"),
     1_000_000],
)  # fmt: skip
def test_an_entry_without_a_usable_price_means_unknown_never_free(bad: object) -> None:
    prices = parse_pricing({"models": [entry("route/glm-5", bad, 2.0)]})
    assert prices.cost("route/glm-5", 10, 10) is None


@pytest.mark.parametrize("body", [{}, {"models": None}, {"models": ["x", 3, {"model": 5}]}])
def test_odd_bodies_give_an_empty_price_list(body: dict) -> None:
    assert parse_pricing(body).prices == {}


def test_a_failing_endpoint_is_an_error_and_leaves_no_prices() -> None:
    script = pricing_down(hang=False, arrived=threading.Event())
    with HostileServer(script) as server, RoutingClient("rk_test", server.base_url, None) as client:
        with pytest.raises(errors.APIError):
            client.pricing()
        prices = Refresher(client.pricing, max_age=60)
        prices.start()
        assert prices.get(wait=10) is None


def test_a_hanging_endpoint_times_out_and_a_waiter_is_not_held() -> None:
    arrived = threading.Event()
    script = pricing_down(hang=True, arrived=arrived)
    with HostileServer(script) as server, RoutingClient("rk_test", server.base_url, None) as client:
        with pytest.raises(errors.Timeout):
            client.pricing(timeout=0.2)
        prices = Refresher(lambda: client.pricing(timeout=30), max_age=60)
        prices.start()
        assert arrived.wait(10)
        # The server still holds the request, yet the caller has its answer: no prices.
        assert prices.get(wait=0.1) is None
        assert not server.release.is_set()


def test_an_absurd_price_served_reads_as_unknown(emu: Emulator) -> None:
    """1e308 per million is finite, yet any cost by it is infinite or absurd: no price."""
    emu.pricing = [entry("route/kimi-k2.5", 1e308, 1e308), entry("route/glm-5", 0.79, 1e308),
                   entry("route/glm-5.1", 25.0, 75.0)]  # fmt: skip
    with RoutingClient("rk_test", emu.base_url, None) as client:
        prices = client.pricing()
    assert prices.cost("route/kimi-k2.5", 1, 1) is None
    assert prices.cost("route/glm-5", 10**9, 10**9) is None
    assert prices.cost("route/glm-5.1", 1_000_000, 1_000_000) == pytest.approx(100.0)
