"""Dollar amounts as text: always an estimate, and never "$0" for an unknown price."""

from __future__ import annotations

import math

#: Shown where a model has no known price.
UNKNOWN = "—"
COST_NOTE = (
    "Costs are estimates from routing.run's published prices (GET /v1/pricing); "
    "the service's bill is what counts."
)


def usd(amount: float) -> str:
    """'$0.00042', '$0.031', '$1.25', '$1,234': two significant figures below a dollar."""
    if amount <= 0:
        return "$0"
    if amount < 0.000_01:
        return "<$0.00001"
    if amount < 1:  # two significant figures, never in exponent notation
        decimals = 1 - math.floor(math.log10(amount))
        return "$" + f"{amount:.{decimals}f}".rstrip("0").rstrip(".")
    return f"${amount:,.2f}" if amount < 1000 else f"${amount:,.0f}"


def estimate(amount: float | None) -> str:
    """'≈ $0.031', or '—' when the price is unknown."""
    return UNKNOWN if amount is None else f"≈ {usd(amount)}"
