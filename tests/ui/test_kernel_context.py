"""Tool calling and notebook history through a real Jupyter kernel against the emulator:
what a notebook frontend receives (iopub, stdin, the execute reply's payload)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from queue import Empty

import pytest

from routing_magics.emulator import Emulator
from tests.ui.test_kernel import Kernel, Run, assert_replay_matches, keyed_kernel

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX kernels only")

TOOLS = '''
SALES = {"Oslo": 17, "Lima": 12}

def rows_where(city: str, min_amount: float = 0) -> int:
    """How many sales rows are in `city` with at least `min_amount`."""
    return SALES[city]

def mean_amount(city: str) -> float:
    """Mean sale amount in `city`."""
    if city == "Lima":
        raise KeyError(city)
    return 71.5
'''
QUESTION = "How many sales over 50 were there in Oslo and in Lima?"


def run(kernel: Kernel, code: str, answers: tuple[str, ...] = ()) -> tuple[Run, list[str]]:
    """Execute with history (numbered, like a notebook), answering input() prompts in order."""
    kc = kernel.kc
    msg_id = kc.execute(code, store_history=True, allow_stdin=bool(answers))
    result, prompts, pending = Run(), [], list(answers)
    while True:
        if pending:
            try:
                request = kc.get_stdin_msg(timeout=0.05)
            except Empty:
                request = None
            if request is not None:
                prompts.append(request["content"]["prompt"])
                kc.input(pending.pop(0))
        try:
            msg = kc.get_iopub_msg(timeout=0.05 if pending else 30)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        result.messages.append(msg)
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            result.reply = reply["content"]
            kernel.runs.append(result)
            return result, prompts


def ok(kernel: Kernel, code: str, answers: tuple[str, ...] = ()) -> tuple[Run, list[str]]:
    done = run(kernel, code, answers)
    assert done[0].reply["status"] == "ok", done[0].reply
    return done


def plain(run: Run) -> list[str]:
    return [out["data"]["text/plain"] for out in run.stored() if out["data"]["text/plain"]]


def rows(kernel: Kernel) -> list[tuple[int, int, str]]:
    if not kernel.db.exists():
        return []
    with sqlite3.connect(kernel.db) as conn:
        query = "SELECT prompt_tokens, completion_tokens, outcome FROM requests ORDER BY id"
        return list(conn.execute(query))


@pytest.fixture(scope="module")
def kernel(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with keyed_kernel(emulator, tmp_path_factory.mktemp("kernel-context")) as k:
        ok(k, TOOLS)
        yield k


def test_one_step_loop_shows_the_call_and_replays_under_nbval(
    kernel: Kernel, emu: Emulator
) -> None:
    before = len(rows(kernel))
    cell, _ = ok(kernel, "%%route --tools rows_where\nHow many sales were there in Oslo?")
    shown = plain(cell)
    assert shown[0] == 'rows_where(city="Oslo") → 17'
    assert shown[1].startswith("According to `rows_where`, 17.")
    assert "· 2 steps ·" in shown[-1]
    assert_replay_matches(cell)
    html = json.dumps([d["data"]["text/html"] for d in cell.displays])
    assert '<details class=\\"routing-magics-tool routing-magics-tool-done\\">' in html
    assert len(rows(kernel)) == before + 2


def test_multi_step_loop_two_calls_a_raising_tool_usage_summed(
    kernel: Kernel, emu: Emulator
) -> None:
    before = len(rows(kernel))
    cell, _ = ok(kernel, f"%%route --tools rows_where,mean_amount -o r\n{QUESTION}")
    assert plain(cell)[:4] == [
        'rows_where(city="Oslo", min_amount=50) → 17',
        'rows_where(city="Lima", min_amount=50) → 12',
        'mean_amount(city="Oslo") → 71.5',
        "mean_amount(city=\"Lima\") raised KeyError: 'Lima'",
    ]
    assert_replay_matches(cell)
    new = rows(kernel)[before:]
    assert [r[2] for r in new] == ["ok"] * 3
    summed = f"{sum(r[0] for r in new):,} in / {sum(r[1] for r in new):,} out · 3 steps"
    assert summed in plain(cell)[-1]
    result, _ = ok(
        kernel, "print([(c.name, c.result, c.error) for c in r.tool_calls][-1], r.steps)"
    )
    assert result.stream("stdout") == "('mean_amount', None, \"KeyError: 'Lima'\") 3\n"


def test_step_bound_and_confirm_declined(kernel: Kernel, emu: Emulator) -> None:
    bound, _ = ok(kernel, f"%%route --tools rows_where --max-steps 1\n{QUESTION}")
    assert "Stopped after 1 step (--max-steps 1)" in "\n".join(plain(bound))
    cell, prompts = ok(
        kernel, f"%%route --tools rows_where --confirm -o c\n{QUESTION}", answers=("n", "y")
    )
    assert prompts == [
        'Run rows_where(city="Oslo", min_amount=50)? [y/N] ',
        'Run rows_where(city="Lima", min_amount=50)? [y/N] ',
    ]
    assert plain(cell)[:2] == [
        'rows_where(city="Oslo", min_amount=50) not run: the user declined to run this call',
        'rows_where(city="Lima", min_amount=50) → 12',
    ]
    # nbval and nbclient run without stdin: --confirm then fails in one line, before a call.
    nostdin, _ = run(kernel, f"%%route --tools rows_where --confirm\n{QUESTION}")
    assert nostdin.usage_error().startswith("--confirm needs an input box")


def test_in_out_err_with_negative_indexes(kernel: Kernel, emu: Emulator) -> None:
    first, _ = ok(kernel, "x = 41\nx + 1")
    n = first.reply["execution_count"]
    run(kernel, "def f():\n    return 1 / 0\nf()")
    ok(kernel, f"%%route -o e\necho: {{In[{n}]}} | {{Out[{n}]}} | {{Err[-1]}} | {{In[-2]}}")
    shown, _ = ok(kernel, "print(e.text)")
    assert shown.stream("stdout") == (
        "x = 41\nx + 1 | 42 | ZeroDivisionError: division by zero\n"
        f"  In[{n + 1}], line 3, in <module>: f()\n  In[{n + 1}], line 2, in f: return 1 / 0"
        " | x = 41\nx + 1\n"
    )


def test_cells_with_a_print_and_a_failure(kernel: Kernel, emu: Emulator) -> None:
    ok(kernel, "print('counted', 3)\n'done'")
    run(kernel, "int('three')")
    ok(kernel, "%%route --cells 2\nWhat went wrong?")
    chats = [r for r in emu.requests if r.path == "/v1/chat/completions"]
    text = chats[-1].body["messages"][-1]["content"]
    assert text.startswith("The notebook's last 2 cells, oldest first:")
    assert text.endswith("\n\nWhat went wrong?")
    assert "print('counted', 3)\n'done'\n```\nOutput:\n```\ncounted 3\n'done'\n```" in text
    assert "ValueError: invalid literal for int() with base 10: 'three'" in text
    assert "Traceback" not in text and "\x1b[" not in text


def test_route_fix_on_a_real_error_and_apply_creates_the_cell(
    kernel: Kernel, emu: Emulator
) -> None:
    failed, _ = run(kernel, "total = 40 + 2\nprint(totl)")
    assert failed.reply["status"] == "error"
    explained, _ = ok(kernel, "%route fix")
    assert "misspelling of `total`" in "\n".join(plain(explained))
    assert not explained.reply.get("payload")
    applied, _ = ok(kernel, "%route fix --apply")
    payload = applied.reply["payload"]
    assert [p["source"] for p in payload] == ["set_next_input"]
    assert payload[0]["text"] == "total = 40 + 2\nprint(total)" and not payload[0]["replace"]
