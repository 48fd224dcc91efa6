"""The budget's gate in every flow (tests/run/flows.py): once this notebook's spend today has
reached its budget, the next request is refused before it is sent, in one line that says what
was spent, the budget and how to raise it; nothing is written for it, and the next cell works.
Cached answers cost nothing and are never refused.

Cells in a real InteractiveShell against the emulator, with prices of the test's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Harness, one_line
from tests.ledger.test_failure import corrupt
from tests.run.flows import CELLS, EXPECTED, FLOWS, MODEL, answers, chat_count, run_flow, visible

#: $1,000 per million tokens: one request of the spending cell costs at least $0.00005.
PRICED = [{"model": MODEL, "input_per_million": 1000, "output_per_million": 1000}]
SPEND = f"%%route {MODEL}\necho: " + " ".join(f"word{i}" for i in range(50))
#: Reached by any one request of SPEND's size.
TINY = "0.00001"


def spend_past(h: Harness, budget: str = TINY) -> int:
    """Price the route, set `budget`, send one request that reaches it; the chats so far."""
    h.emu.pricing = PRICED
    h.ok("%config RouteMagics.confirm_above_usd = 1000")  # these prices are absurd on purpose
    h.ok(f"%route budget {budget}")
    h.ok(SPEND)  # sent: nothing was spent before it
    return chat_count(h)


def assert_refused(message: str) -> None:
    assert "not sent: this notebook has spent ≈ $" in message
    assert f"of its ${TINY} budget for today" in message
    assert "%route budget AMOUNT" in message and "%route budget off" in message


@pytest.mark.parametrize("flow", FLOWS)
def test_a_request_after_the_budget_is_spent_is_refused_unsent(h: Harness, flow: str) -> None:
    sent = spend_past(h)
    rows = len(h.outcomes())
    cells = run_flow(h, flow)
    # A job's refusal comes when it runs: `%route wait` says how it ended.
    assert_refused(one_line(cells[-1 if flow.startswith("background") else 0].error))
    if flow in ("single", "cache", "tools", "schema", "compare"):  # the one line alone (a batch
        # shows its estimate first, a job its start)
        assert cells[0].outputs == [] and cells[0].stdout == ""
    assert chat_count(h) == sent  # the server saw no request
    assert len(h.outcomes()) == rows  # and the ledger got no row for one that was not sent
    h.ok("%route budget 10")  # raised: the same cells now go
    for cell in run_flow(h, flow):
        assert cell.error is None, cell.error
    assert EXPECTED[flow] in answers(h)


def test_a_cached_answer_is_never_refused(h: Harness) -> None:
    h.emu.pricing = PRICED
    h.ok(CELLS["cache"][0])  # asked and kept; it spent more than the budget set next
    h.ok(f"%route budget {TINY}")
    sent = chat_count(h)
    assert_refused(one_line(h.run(SPEND).error))  # over budget: a fresh request is refused
    cell = h.ok(CELLS["cache"][0])  # but the cache answers
    assert chat_count(h) == sent
    assert EXPECTED["cache"] in answers(h) and "cached" in visible(cell)


def test_a_tool_loop_stops_at_the_step_after_the_budget_is_reached(h: Harness) -> None:
    h.emu.pricing = PRICED
    h.ok(f"%route budget {TINY}")
    cell = h.run(CELLS["tools"][0])
    message = one_line(cell.error)
    assert message.startswith("step 2 of the tool loop: not sent:")
    assert chat_count(h) == 1  # the first step went; the second was refused unsent
    assert 'weather(city="Oslo")' in visible(cell)  # the call the first step asked for ran


def test_a_schema_repair_turn_after_the_budget_is_reached_is_refused(h: Harness) -> None:
    h.emu.pricing = PRICED
    h.ok(f"%route budget {TINY}")
    h.emu.inject("invalid_structured")  # the first answer misses the schema
    cell = h.run(CELLS["schema"][0])
    assert_refused(one_line(cell.error))
    assert chat_count(h) == 1  # the repair turn was not sent


def test_a_batch_stops_at_the_budget_keeping_and_binding_its_answered_rows(h: Harness) -> None:
    h.emu.pricing = PRICED
    h.ok("import pandas as pd\nsix = pd.DataFrame({'text': list('abcdef')})")
    h.ok(f"%route budget {TINY}")
    cell = h.run(
        f"%%route {MODEL} --each six -o out --into answer --concurrency 1 --yes\necho: {{text}}"
    )
    message = one_line(cell.error)
    assert message.startswith("the batch stopped (not sent: this notebook has spent ≈ $")
    kept = [v for v in h.shell.user_ns["out"].tolist() if v is not None]
    assert 1 <= len(kept) < 6 and kept == list("abcdef")[: len(kept)]
    assert h.shell.user_ns["six"]["answer"].tolist()[: len(kept)] == kept
    assert chat_count(h) == len(kept)  # the rest were never sent
    summary = visible(cell)
    assert f"{6 - len(kept)} not sent" in summary and "budget for today" in summary


def test_with_a_broken_ledger_the_budget_still_holds_in_this_kernel(
    h: Harness, tmp_path: Path
) -> None:
    path = corrupt(tmp_path / "broken.sqlite")
    h.ok(f"%config RouteMagics.usage_db = {str(path)!r}")
    h.emu.pricing = PRICED
    shown = h.ok(f"%route budget {TINY}").stdout
    assert "The budget holds in this kernel only: the ledger cannot keep it" in shown
    answered = h.ok(SPEND)  # its row cannot be written: the answer is kept, the spend counted
    assert "usage could not be recorded" in visible(answered)
    sent = chat_count(h)
    assert_refused(one_line(h.run(SPEND).error))
    assert chat_count(h) == sent
