"""`%%route --tools` through a real InteractiveShell against the emulator: the tool loop as a
user sees it (blocks, footer, notices), what the model is sent, the ledger and `-o`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line

TOOLS = '''
SALES = {"Oslo": 17, "Lima": 12}
calls = []

def rows_where(city: str, min_amount: float = 0) -> int:
    """How many sales rows are in `city` with at least `min_amount`."""
    calls.append(("rows_where", city, min_amount))
    return SALES[city]

def mean_amount(city: str) -> float:
    """Mean sale amount in `city`."""
    calls.append(("mean_amount", city))
    if city == "Lima":
        raise ValueError("no amounts for <b>Lima</b>\\nsecond line")
    return 71.5
'''
QUESTION = "How many sales over 50 were there in Oslo and in Lima?"


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        harness.ok(TOOLS)
        yield harness


def ledger_rows(h: Harness) -> list[tuple[int, int, str]]:
    with sqlite3.connect(h.db) as conn:
        query = "SELECT prompt_tokens, completion_tokens, outcome FROM requests ORDER BY id"
        return list(conn.execute(query))


def test_two_calls_in_one_turn_then_the_answer(h: Harness) -> None:
    cell = h.ok(f"%%route --tools rows_where -o r\n{QUESTION}")
    assert h.shell.user_ns["calls"] == [("rows_where", "Oslo", 50), ("rows_where", "Lima", 50)]
    shown = [d["text/plain"] for d in cell.final if d["text/plain"]]
    assert shown[:2] == [
        'rows_where(city="Oslo", min_amount=50) → 17',
        'rows_where(city="Lima", min_amount=50) → 12',
    ]
    assert '`rows_where(city="Oslo", min_amount=50)` → 17' in shown[2]
    assert " out · 2 steps · " in shown[-1] and "notebook total " in shown[-1]
    # The model got the schema, then its own calls and one tool message per call.
    first, second = (r.body for r in h.chat_requests())
    assert first["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool", "tool"]
    assert [m["content"] for m in second["messages"][2:]] == ["17", "12"]
    result = h.shell.user_ns["r"]
    assert result.steps == 2 and "→ 17" in result.text
    assert [(c.name, c.kwargs, c.result, c.error) for c in result.tool_calls] == [
        ("rows_where", {"city": "Oslo", "min_amount": 50}, "17", None),
        ("rows_where", {"city": "Lima", "min_amount": 50}, "12", None),
    ]


def test_multi_step_loop_sums_usage_and_writes_a_row_per_request(h: Harness) -> None:
    cell = h.ok(f"%%route route/kimi-k2.5 --tools rows_where,mean_amount -o r\n{QUESTION}")
    rows = ledger_rows(h)
    assert [r[2] for r in rows] == ["ok", "ok", "ok"]
    result = h.shell.user_ns["r"]
    assert result.usage.prompt_tokens == sum(r[0] for r in rows)
    assert result.usage.completion_tokens == sum(r[1] for r in rows)
    footer = cell.final_plain().splitlines()[-1]
    assert f"{sum(r[0] for r in rows):,} in / {sum(r[1] for r in rows):,} out · 3 steps" in footer
    assert [c.name for c in result.tool_calls] == ["rows_where"] * 2 + ["mean_amount"] * 2
    # Each step's reasoning is folded above its own calls.
    html = cell.final_html()
    assert html.count('<details class="routing-magics-reasoning') == 3
    assert html.index("rows_where(city") < html.index("mean_amount(city")


def test_a_tool_that_raises_goes_back_as_one_line_and_is_shown_escaped(h: Harness) -> None:
    cell = h.ok(f"%%route --tools mean_amount -o r\n{QUESTION}")
    failed = h.shell.user_ns["r"].tool_calls[1]
    assert failed.result is None
    assert failed.error == "ValueError: no amounts for <b>Lima</b>"
    tool_messages = [m for m in h.chat_requests()[-1].body["messages"] if m["role"] == "tool"]
    assert tool_messages[1]["content"] == "Error: ValueError: no amounts for <b>Lima</b>"
    html = cell.final_html()
    assert "<b>Lima" not in html and "&lt;b&gt;Lima&lt;/b&gt;" in html
    assert "routing-magics-tool-failed" in html and "Traceback" not in cell.everything()
    assert "failed (ValueError: no amounts for &lt;b&gt;Lima" in html  # the answer says so


def test_the_step_bound_says_so_and_keeps_what_ran(h: Harness) -> None:
    cell = h.ok(f"%%route --tools rows_where,mean_amount --max-steps 2 -o r\n{QUESTION}")
    plain = cell.final_plain()
    assert "Stopped after 2 steps (--max-steps 2): the model still asked for mean_amount" in plain
    assert h.shell.user_ns["calls"] == [("rows_where", "Oslo", 50), ("rows_where", "Lima", 50)]
    assert len(h.chat_requests()) == 2 and h.outcomes() == ["ok", "ok"]
    assert h.shell.user_ns["r"].steps == 2


def test_no_stream_keeps_tool_calls(h: Harness) -> None:
    h.ok(f"%%route --tools rows_where --no-stream -o r\n{QUESTION}")
    result = h.shell.user_ns["r"]
    assert [c.result for c in result.tool_calls] == ["17", "12"]
    assert all(not r.body["stream"] for r in h.chat_requests())


def test_bad_tools_fail_before_any_request(h: Harness) -> None:
    h.ok("def bad(df: object) -> int:\n    return 1\nnot_a_function = 3")
    for line, expected in [
        ("--tools missing", "--tools missing: the notebook has nothing by that name"),
        ("--tools not_a_function", "--tools not_a_function: the notebook has an int"),
        ("--tools bad", "--tools bad: parameter `df` has a type the model cannot send"),
        ("--tools rows_where --max-steps 0", "--max-steps 0: give at least 1"),
        ("--confirm", "--max-steps and --confirm go with --tools"),
    ]:
        assert one_line(h.run(f"%%route {line}\nhi").error).startswith(expected)
    assert h.chat_requests() == []


def test_a_failed_step_says_which_and_keeps_the_calls_shown(h: Harness) -> None:
    h.emu.daily_limit = 1  # the second request fails
    cell = h.run(f"%%route --tools rows_where\n{QUESTION}")
    message = one_line(cell.error)
    assert message.startswith("step 2 of the tool loop: ") and "DAILY_REQUEST_LIMIT" in message
    assert 'rows_where(city="Lima", min_amount=50) → 12' in cell.final_plain()
    footer = cell.final_plain().splitlines()[-1]
    assert "2 steps ·" in footer and " · error" in footer
    assert h.outcomes() == ["ok", "DAILY_REQUEST_LIMIT_EXCEEDED"]
    h.emu.daily_limit = 1500
    h.ok("%%route\necho: still works")


def test_confirm_declined_runs_nothing_and_tells_the_model(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or "n")
    h.ok(f"%%route --tools rows_where --confirm -o r\n{QUESTION}")
    assert asked == [
        'Run rows_where(city="Oslo", min_amount=50)? [y/N] ',
        'Run rows_where(city="Lima", min_amount=50)? [y/N] ',
    ]
    assert h.shell.user_ns["calls"] == []
    assert [c.error for c in h.shell.user_ns["r"].tool_calls] == [
        "the user declined to run this call"
    ] * 2
    monkeypatch.setattr("builtins.input", lambda q: "y")
    h.ok(f"%%route --tools rows_where --confirm\n{QUESTION}")
    assert len(h.shell.user_ns["calls"]) == 2


def test_route_tools_sets_the_notebooks_default_set(h: Harness) -> None:
    assert "rows_where, mean_amount" in h.ok("%route tools rows_where mean_amount").stdout
    h.ok(f"%%route -o r\n{QUESTION}")
    assert h.shell.user_ns["r"].steps == 3
    h.ok(f"%route {QUESTION[:-1]} please.")
    assert h.chat_requests()[-1].body["tools"]
    assert "none" in h.ok("%route tools none").stdout
    h.ok("%%route\necho: plain")
    assert "tools" not in h.chat_requests()[-1].body
    assert one_line(h.run("%route tools nope").error).startswith("--tools nope")


def test_long_results_are_cut_with_a_note(h: Harness) -> None:
    h.ok("def big(city: str) -> str:\n    return 'x' * 10_000")
    h.ok(f"%%route --tools big -o r\n{QUESTION}")
    sent = json.dumps(h.chat_requests()[-1].body)
    assert "x" * 4000 in sent and "x" * 4001 not in sent
    assert "cut: the result has 10,000 characters, the first 4,000 are shown" in sent


def test_confirm_shows_arguments_whole_while_the_block_cuts_them(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.ok("def note(text: str) -> str:\n    return 'noted'")
    question = "please write down that the quarterly numbers look fine to everyone here today"
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or "y")
    cell = h.ok(f"%%route --tools note --confirm\n{question}")
    assert asked == [f"Run note(text={json.dumps(question)})? [y/N] "]
    block = next(line for line in cell.final_plain().splitlines() if line.startswith("note("))
    assert "…" in block and question not in block
