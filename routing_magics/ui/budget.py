"""`%route budget [USD|off]`: this notebook's budget for today, and what it has spent."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ..budget import PRICE_WAIT, Spend
from ..display.money import estimate, usd

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..session import Session


def budget(session: Session, shell: InteractiveShell, rest: str) -> None:
    """Show spent vs budget; `USD` sets today's budget, `+USD` today's spend plus USD; `off`
    removes it (a default too)."""
    word = rest.strip()
    trouble = None
    if word == "off":
        trouble = session.budget.set(None)
        print("No budget for this notebook today.")
    elif word.startswith("+"):
        more = _amount(word.removeprefix("+"), word)
        trouble = session.budget.set(session.budget.spent(PRICE_WAIT).usd + more)
    elif word:
        trouble = session.budget.set(_amount(word, word))
    print(spend_line(session.budget.spent(PRICE_WAIT)))
    if trouble:
        print(trouble)


def _amount(text: str, word: str) -> float:
    try:
        amount = float(text.removeprefix("$").replace(",", ""))
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount) or amount <= 0:
        raise UsageError(f"%route budget {word}: give an amount in USD, e.g. `%route budget 2` "
                         "(or +0.5: today's spend plus that), or `%route budget off`")  # fmt: skip
    return amount


def spend_line(spend: Spend) -> str:
    """'This notebook today: ≈ $0.012 spent of its $1 budget (≈ $0.988 left).'"""
    spent = estimate(spend.usd) if spend.prices_known else "unknown (no prices from routing.run)"
    if spend.budget is None or spend.left is None:
        line = f"This notebook today: {spent} spent, no budget (`%route budget USD` sets one)."
    else:
        line = (f"This notebook today: {spent} spent of its {usd(spend.budget)} budget "
                f"({estimate(spend.left)} left).")  # fmt: skip
    if spend.unpriced and spend.prices_known:
        line += f" Not counted: {', '.join(spend.unpriced)} (no known price, so unknown, not free)."
    return line
