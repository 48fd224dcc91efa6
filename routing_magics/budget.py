"""This notebook's budget for today, and the gate every request passes before it is sent.

`%route budget USD` sets a notebook's budget for the local day (kept in the ledger's file, so a
restarted kernel keeps it); `RouteMagics.daily_budget_usd` is the default for notebooks that set
none. The spend is an estimate: the notebook's tokens today, per model, at routing.run's
prices (GET /v1/pricing). Tokens on a route without a known price are counted as unknown, never
as free: the gate lets such a request go unless `refuse_unpriced` asks otherwise, and the flows
say so once per route.

`Budget.check` is the gate: every `Exchange` a flow sends calls it first (run/exchange.py), so a
request that would start once the spend has reached the budget is refused unsent, whatever the
flow. Rows a batch has taken but not yet written are counted too (`note`, `write_rows`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .api import errors
from .api.pricing import PriceList
from .api.refresh import Refresher
from .display.money import usd
from .ledger import Ledger, LedgerUnavailable, UsageRow
from .ledger.budgets import (
    Tokens,
    day_start,
    last_id,
    read_budget,
    today,
    tokens_since,
    write_budget,
)

#: The ledger's outcome words for a request the budget refused (it is never sent nor written).
BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
UNPRICED_ROUTE = "UNPRICED_ROUTE"
#: Longest the gate waits for GET /v1/pricing, once a session, and only when a budget is set.
PRICE_WAIT = 5.0
_LEDGER_TROUBLE = (LedgerUnavailable, sqlite3.Error, OSError)


class OverBudget(errors.ConfigurationError):
    """A request refused before sending: the notebook's budget for today is spent, or the route
    has no known price and the budget was told to refuse those."""

    default_code = BUDGET_EXCEEDED


@dataclass(frozen=True)
class Spend:
    """This notebook's estimated spend today against its budget (None: no budget)."""

    usd: float  # over the routes with a known price
    budget: float | None
    unpriced: tuple[str, ...] = ()  # routes used today without a known price: not counted
    prices_known: bool = True

    @property
    def left(self) -> float | None:
        return None if self.budget is None else max(0.0, self.budget - self.usd)

    @property
    def reached(self) -> bool:
        return self.budget is not None and self.usd >= self.budget


class Budget:
    """A notebook's budget for today (`limit`, `set`), its spend (`spent`) and the gate."""

    def __init__(
        self, ledger: Callable[[], Ledger], notebook: Callable[[], str],
        prices: Refresher[PriceList],
    ) -> None:  # fmt: skip
        self._ledger, self._notebook, self._prices = ledger, notebook, prices
        self.default_usd: float | None = None  # RouteMagics.daily_budget_usd
        self.refuse_unpriced = False  # RouteMagics.budget_refuses_unpriced
        self._lock = threading.RLock()
        self._pending: dict[str, list[int]] = {}  # tokens noted, not yet in the ledger
        self._kept: dict[tuple[str, str], float | None] = {}  # set here, if the ledger fails
        self._read: Tokens = {}  # today's rows in the ledger, up to id `_read_upto`
        self._read_upto, self._read_key = 0, ("", "")
        self._said: set[str] = set()
        self._noted: weakref.WeakSet[object] = weakref.WeakSet()

    def limit(self) -> float | None:
        """Today's budget in USD for this notebook: its own, else the default; None: none."""
        key = (self._notebook(), today())
        try:
            found, usd = read_budget(self._ledger(), *key)
        except _LEDGER_TROUBLE:
            found, usd = key in self._kept, self._kept.get(key)
        return usd if found else self.default_usd

    def set(self, usd: float | None) -> str | None:
        """Set today's budget (None: off, even over a default); a line if the ledger failed."""
        key = (self._notebook(), today())
        self._kept[key] = usd
        try:
            write_budget(self._ledger(), *key, usd)
        except _LEDGER_TROUBLE as exc:
            return f"The budget holds in this kernel only: the ledger cannot keep it ({exc})."
        return None

    def spent(self, wait: float = 0.0) -> Spend:
        """Today's estimated spend (waiting up to `wait` s for prices) against the budget."""
        budget = self.limit()
        self._prices.start()  # fetched once a day; a no-op while fresh
        prices = self._prices.get(wait)
        total, unpriced = 0.0, []
        for model, (prompt, completion) in sorted(self._tokens().items()):
            cost = prices.cost(model, prompt, completion) if prices is not None else None
            if cost is None:
                unpriced += [model] if prompt + completion > 0 else []
            else:
                total += cost
        return Spend(total, budget, tuple(unpriced), prices is not None)

    def check(self, model: str) -> None:
        """The gate: raise OverBudget when a request to `model` must not be sent."""
        if self.limit() is None:
            return
        with self._lock:  # a batch's flush waits: its rows are in the ledger or pending, once
            spend = self.spent(PRICE_WAIT)
        if spend.reached:
            raise OverBudget(
                f"not sent: this notebook has spent ≈ {usd(spend.usd)} of its "
                f"{usd(spend.budget or 0)} budget for today",
                hint="raise it with `%route budget AMOUNT` (USD) or remove it with "
                "`%route budget off`",
            )
        if self.refuse_unpriced and not self.priced(model):
            raise OverBudget(
                f"not sent: {model} has no known price, and this notebook's budget refuses "
                "unpriced routes",
                hint="choose a priced route, or `%config RouteMagics.budget_refuses_unpriced = "
                "False` to count it as unknown",
                code=UNPRICED_ROUTE,
            )

    def priced(self, model: str) -> bool:
        """Whether `model` has a known price (prices already fetched; no wait)."""
        prices = self._prices.value
        return prices is not None and prices.price_of(model) is not None

    def unpriced_notice(self, models: Sequence[str]) -> str | None:
        """Once per route and session, with a budget set: the line that says a route's spend
        is unknown (not free) and the budget cannot limit it."""
        if self.limit() is None:
            return None
        new = [m for m in dict.fromkeys(models) if not self.priced(m) and m not in self._said]
        self._said.update(new)
        if not new:
            return None
        names = ", ".join(new)
        return (
            f"{names} {'has' if len(new) == 1 else 'have'} no known price: what "
            f"{'it spends' if len(new) == 1 else 'they spend'} counts as unknown, not free, "
            "and the budget cannot limit it "
            "(`%config RouteMagics.budget_refuses_unpriced = True` refuses such routes)."
        )

    def note(
        self, exchange: object, model: str, prompt_tokens: int, completion_tokens: int
    ) -> None:
        """Count an exchange's tokens until its row is written (a batch writes a few dozen rows
        at a time); once, whoever notes it first: a batch's sender as the answer ends, so the
        next row's check sees it, or the recorder as it takes the row."""
        with self._lock:
            if exchange in self._noted:
                return
            self._noted.add(exchange)
            pending = self._pending.setdefault(model, [0, 0])
            pending[0] += prompt_tokens
            pending[1] += completion_tokens

    def write_rows(self, rows: Sequence[UsageRow], write: Callable[[], None]) -> None:
        """Run `write` (the rows into the ledger), then stop counting them as pending; a
        failed write keeps them pending, so this kernel still counts what it spent."""
        with self._lock:
            write()
            for row in rows:
                pending = self._pending.get(row.model)
                if pending is not None:
                    pending[0] -= row.prompt_tokens
                    pending[1] -= row.completion_tokens

    def _tokens(self) -> Tokens:
        """Today's tokens per model: the ledger's rows and the ones still pending."""
        with self._lock:  # one reader at a time: a batch's senders check at once
            with contextlib.suppress(*_LEDGER_TROUBLE):  # then the last read stands, and what
                self._read_new()  # this kernel spent since is pending
            tokens = dict(self._read)
            for model, (prompt, completion) in self._pending.items():
                was = tokens.get(model, (0, 0))
                tokens[model] = (was[0] + prompt, was[1] + completion)
        return tokens

    def _read_new(self) -> None:
        """Add the ledger's rows written since the last read (all of today's on a new day or
        notebook): a check costs the new rows, not the whole day's. Rows `%route usage --reset`
        forgets stay counted here: forgetting them spends no less."""
        ledger, key = self._ledger(), (self._notebook(), today())
        if key != self._read_key:
            self._read, self._read_upto, self._read_key = {}, 0, key
        upto = last_id(ledger)
        if upto == self._read_upto:
            return
        new = tokens_since(ledger, key[0], day_start(key[1]), upto, after=self._read_upto)
        for model, (prompt, completion) in new.items():
            was = self._read.get(model, (0, 0))
            self._read[model] = (was[0] + prompt, was[1] + completion)
        self._read_upto = upto
