"""A notebook's budget (routing_magics/budget.py) over a real ledger file and routing.run's price
format: what is set survives a restart, what is spent is counted once, unpriced routes are
unknown rather than free, and the gate refuses once the budget is reached."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.api.pricing import PriceList, parse_pricing
from routing_magics.api.refresh import Refresher
from routing_magics.budget import UNPRICED_ROUTE, Budget, OverBudget
from routing_magics.ledger import MIGRATIONS, Ledger, UsageRow, migrate
from routing_magics.ledger.budgets import day_start, today

#: $100 per million tokens each way: a thousand tokens cost a dime.
PRICES = {"models": [{"model": "route/dear", "input_per_million": 100,
                      "output_per_million": 100}]}  # fmt: skip


def row(model: str = "route/dear", tokens: int = 1000, notebook: str = "a.ipynb",
        ts: float | None = None) -> UsageRow:  # fmt: skip
    half, when = tokens // 2, ts if ts is not None else time.time()
    return UsageRow(notebook, model, "https://x/v1", None, half, tokens - half, tokens, False,
                    None, None, "ok", when)  # fmt: skip


class Books:
    """A ledger file and a budget over it, reopened as a restarted kernel would."""

    def __init__(self, path: Path, notebook: str = "a.ipynb") -> None:
        self.path, self.notebook = path, notebook
        self.ledger = Ledger(path)
        self.prices: Refresher[PriceList] = Refresher(lambda: parse_pricing(PRICES), max_age=60)
        self.budget = Budget(lambda: self.ledger, lambda: self.notebook, self.prices)

    def restart(self) -> Books:
        self.ledger.close()
        return Books(self.path, self.notebook)


@pytest.fixture
def books(tmp_path: Path) -> Iterator[Books]:
    opened = Books(tmp_path / "u.sqlite")
    yield opened
    opened.ledger.close()


def test_a_budget_set_today_survives_a_restart_and_off_hides_the_default(books: Books) -> None:
    assert books.budget.limit() is None
    assert books.budget.set(0.5) is None  # kept by the ledger: no line to say
    books = books.restart()
    assert books.budget.limit() == 0.5
    books.budget.default_usd = 3.0
    assert books.budget.limit() == 0.5  # its own wins over the default
    books.budget.set(None)
    assert books.restart().budget.limit() is None  # off, even with a default
    books.notebook = "b.ipynb"
    books.budget.default_usd = 3.0
    assert books.budget.limit() == 3.0  # another notebook gets the default


def test_spend_counts_todays_rows_once_whether_pending_or_written(books: Books) -> None:
    yesterday = day_start(today()) - 3600
    books.ledger.record_many([row(ts=yesterday), row(notebook="other.ipynb")])
    books.budget.set(1.0)
    assert books.budget.spent(5).usd == 0  # yesterday's and another notebook's rows: not today's
    taken = [row(), row()]
    for r in taken:
        books.budget.note(r, r.model, r.prompt_tokens, r.completion_tokens)
        books.budget.note(r, r.model, r.prompt_tokens, r.completion_tokens)  # once is once
    assert books.budget.spent().usd == pytest.approx(0.2)  # pending: taken, not yet written
    books.budget.write_rows(taken, lambda: books.ledger.record_many(taken))
    assert books.budget.spent().usd == pytest.approx(0.2)  # written: still counted once
    assert books.budget.spent().left == pytest.approx(0.8)


def test_a_failed_write_keeps_its_rows_counted(books: Books) -> None:
    books.budget.set(1.0)
    taken = [row(tokens=3000)]
    books.budget.note(taken[0], "route/dear", 1500, 1500)

    def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        books.budget.write_rows(taken, broken)
    assert books.budget.spent(5).usd == pytest.approx(0.3)


def test_the_gate_refuses_once_the_budget_is_reached(books: Books) -> None:
    books.budget.check("route/dear")  # no budget: never refused
    books.budget.set(0.25)
    books.ledger.record_many([row(tokens=2000)])
    books.budget.check("route/dear")  # $0.20 of $0.25: goes
    books.ledger.record_many([row(tokens=500)])
    with pytest.raises(OverBudget) as refused:
        books.budget.check("route/dear")
    message = str(refused.value)
    assert "spent ≈ $0.25 of its $0.25 budget for today" in message
    assert "%route budget AMOUNT" in message and "\n" not in message
    assert refused.value.code == "BUDGET_EXCEEDED"


def test_unpriced_routes_are_unknown_not_free_said_once_refused_only_when_asked(
    books: Books,
) -> None:
    books.budget.set(1.0)
    books.ledger.record_many([row("route/cheap?", tokens=10**9)])  # no price: not counted
    spend = books.budget.spent(5)
    assert spend.usd == 0 and spend.unpriced == ("route/cheap?",)
    books.budget.check("route/cheap?")  # counted as unknown, sent
    notice = books.budget.unpriced_notice(["route/cheap?"])
    assert notice is not None and "no known price" in notice and "not free" in notice
    assert books.budget.unpriced_notice(["route/cheap?"]) is None  # said once
    books.budget.refuse_unpriced = True
    with pytest.raises(OverBudget) as refused:
        books.budget.check("route/cheap?")
    assert refused.value.code == UNPRICED_ROUTE
    books.budget.check("route/dear")  # a priced route still goes


def test_without_a_budget_no_notice(books: Books) -> None:
    books.prices.start()
    books.prices.get(5)
    assert books.budget.unpriced_notice(["route/cheap?"]) is None


def test_migration_adds_budgets_to_a_ledger_of_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:3]:  # a file as the previous release left it
        step(conn)
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO requests (ts, notebook, model, endpoint, prompt_tokens, completion_tokens,"
        " total_tokens, estimated, outcome) VALUES (?, 'a.ipynb', 'route/dear', 'e', 500, 500,"
        " 1000, 0, 'ok')",
        (time.time(),),
    )
    migrate(conn)
    conn.close()
    books = Books(path)
    books.budget.set(0.1)
    with pytest.raises(OverBudget):  # the old row counts: $0.10 of $0.10
        books.budget.check("route/dear")
    books.ledger.close()
