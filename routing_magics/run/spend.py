"""What an answer cost and how near the account is to its caps: the footer's estimates.

Both come from optional lookups (GET /pricing, GET /user/requests) fetched in the background;
the footer waits for them only briefly, and says nothing when they are unknown.
"""

from __future__ import annotations

import sqlite3
import time

from ..api.account import cap_warning
from ..api.models import Completion
from ..api.pricing import PriceList
from ..display.protocols import CostInfo
from ..ledger import LedgerUnavailable
from ..session import Session

#: Longest the footer waits for both lookups together (prices were asked with the request).
FOOTER_WAIT = 1.0


def start_lookups(session: Session) -> None:
    """Ask for prices alongside the request (once per session); returns at once."""
    session.prices.start()


def notebook_cost(prices: PriceList, session: Session) -> tuple[float | None, bool]:
    """This notebook's estimated USD over its priced models, and whether any model is unpriced."""
    total, priced, unpriced = 0.0, False, False
    for t in session.ledger.totals_by_model(session.notebook):
        cost = prices.cost(t.model, t.prompt_tokens, t.completion_tokens)
        if cost is None:
            unpriced = unpriced or t.total_tokens > 0
        else:
            total, priced = total + cost, True
    return (total if priced else None), (priced and unpriced)


def cost_info(session: Session, done: Completion, wait: float = FOOTER_WAIT) -> CostInfo | None:
    """The footer's cost estimates; None when no prices are known (fetch failed or slow)."""
    try:
        prices = session.prices.get(wait)
    except KeyboardInterrupt:  # the answer is whole; a Ctrl-C now only skips the estimate
        prices = None
    if prices is None:
        return None
    usage = done.usage
    answer = prices.cost(done.model, usage.prompt_tokens, usage.completion_tokens)
    try:
        notebook, partial = notebook_cost(prices, session)
    except (LedgerUnavailable, sqlite3.Error, OSError):  # costs the notebook figure, not the footer
        notebook, partial = None, False
    spend = session.budget.spent()  # the budget reads the ledger guarded: never raises for it
    return CostInfo(answer, notebook, partial, spend.budget, spend.left)


def account_warning(session: Session, wait: float = FOOTER_WAIT) -> str | None:
    """'1,212 of 1,500 requests used today' past 80% of a cap, from what is known."""
    session.account.start()  # re-asks at most once a minute, after this request has counted
    known = session.account.value is not None  # then never wait: what we know will do
    try:
        info = session.account_now(0.0 if known else wait)
    except KeyboardInterrupt:  # as above: skip the warning, keep the footer
        info = None
    return cap_warning(info) if info is not None else None


def footer_extras(session: Session, done: Completion) -> tuple[CostInfo | None, str | None]:
    """Cost and cap warning for the footer, waiting at most FOOTER_WAIT for both together."""
    deadline = time.monotonic() + FOOTER_WAIT
    cost = cost_info(session, done)
    return cost, account_warning(session, max(0.0, deadline - time.monotonic()))
