"""GET /v1/pricing → per-model prices, and what a request cost by them (an estimate).

routing.run lists `{"models": [{model, input_per_million, output_per_million, …}]}` in USD per
million tokens. A model may have several entries (one per plan tier): the lowest tier's is kept,
and `PriceList.several_tiers` names those models so the UI can say so. Entries without a usable
number are skipped, so their model reads as "no known price", never as free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .catalog import PLANS

#: The highest price per million tokens taken as real: the dearest route known costs $25 a
#: million output tokens (facts §4c), so a price 40 times that is a server's mistake or worse,
#: and reads as unknown. It also keeps the cost of any count the wire allows (2**53) finite.
MAX_PER_MILLION = 1_000.0


@dataclass(frozen=True)
class Price:
    """USD per million tokens for one model."""

    model: str
    input_per_million: float
    output_per_million: float
    tier: str | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Estimated USD for one request's tokens."""
        spent = prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        return spent / 1_000_000


@dataclass(frozen=True)
class PriceList:
    """Prices keyed by model id without `route/`, with the time they were fetched (UTC)."""

    prices: Mapping[str, Price]
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    several_tiers: frozenset[str] = frozenset()

    def price_of(self, model: str) -> Price | None:
        """The price of `model`; ids match with or without the `route/` prefix."""
        return self.prices.get(_bare(model))

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Estimated USD, or None when the model has no known price (never 0 for "unknown")."""
        price = self.price_of(model)
        cost = None if price is None else price.cost(prompt_tokens, completion_tokens)
        return cost if cost is not None and math.isfinite(cost) else None


def _bare(model: str) -> str:
    return model.removeprefix("route/")


def _rate(value: Any) -> float | None:
    """A price from the JSON: a number from 0 to MAX_PER_MILLION; anything else is no price."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= MAX_PER_MILLION else None  # also False for NaN


def _tier_rank(tier: str | None) -> int:
    """Cheapest plan first; entries without a known tier keep their order after known ones."""
    if tier and tier.lower() in PLANS:
        return PLANS.index(tier.lower())
    return len(PLANS)


def _price(item: Mapping[str, Any]) -> Price | None:
    model = item.get("model") or item.get("id")
    rate_in = _rate(item.get("input_per_million"))
    rate_out = _rate(item.get("output_per_million"))
    if not isinstance(model, str) or not model or rate_in is None or rate_out is None:
        return None
    tier = item.get("tier", item.get("plan_tier"))
    return Price(model, rate_in, rate_out, tier if isinstance(tier, str) else None)


def parse_pricing(data: Mapping[str, Any], fetched_at: datetime | None = None) -> PriceList:
    """A PriceList from GET /v1/pricing's JSON; the lowest tier's entry wins per model."""
    items = data.get("models")
    chosen: dict[str, Price] = {}
    seen: dict[str, int] = {}
    for item in items if isinstance(items, list) else []:
        price = _price(item) if isinstance(item, Mapping) else None
        if price is None:
            continue
        key = _bare(price.model)  # "route/x" and "x" name one model
        seen[key] = seen.get(key, 0) + 1
        kept = chosen.get(key)
        if kept is None or _tier_rank(price.tier) < _tier_rank(kept.tier):
            chosen[key] = price
    several = frozenset(chosen[key].model for key, n in seen.items() if n > 1)
    when = fetched_at or datetime.now(timezone.utc)
    return PriceList(chosen, when, several)
