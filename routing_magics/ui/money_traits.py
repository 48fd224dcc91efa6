"""The settings of money, as traitlets RouteMagics inherits: `%config
RouteMagics.daily_budget_usd = 2` sets a default budget for every notebook (ui/budget.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from traitlets import Bool, Float, HasTraits, observe

if TYPE_CHECKING:
    from ..session import Session

#: Above this estimated cost a batch asks before sending. A dollar is far above what a batch of
#: a notebook's size usually costs (the example notebooks' cost fractions of a cent; 1,000
#: short rows on a mid-priced route cost cents), and well below a mistake worth a question
#: (tens of thousands of rows, or a dear route with long answers).
DEFAULT_CONFIRM_ABOVE_USD = 1.0


class MoneyTraits(HasTraits):
    """The batch cost question's threshold and the budget's defaults."""

    session: Session  # set by RouteMagics

    confirm_above_usd = Float(
        DEFAULT_CONFIRM_ABOVE_USD,
        allow_none=True,
        help="A batch whose estimated cost is above this (USD) asks yes/no before sending "
        "(--yes skips it); None never asks.",
    ).tag(config=True)
    daily_budget_usd = Float(
        None,
        allow_none=True,
        help="Every notebook's budget for today in USD, unless `%route budget` sets its own; "
        "None: no budget.",
    ).tag(config=True)
    budget_refuses_unpriced = Bool(
        False,
        help="With a budget, refuse requests to routes with no known price (their spend "
        "cannot be counted); False sends them and says so once.",
    ).tag(config=True)

    @observe("daily_budget_usd", "budget_refuses_unpriced")
    def _money_changed(self, change: dict[str, object]) -> None:
        if hasattr(self, "session"):
            self.apply_money()

    def apply_money(self) -> None:
        """Hand the budget settings to the session's budget."""
        budget = self.session.budget
        budget.default_usd = self.daily_budget_usd
        budget.refuse_unpriced = self.budget_refuses_unpriced
