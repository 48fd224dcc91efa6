"""Odd input through a real InteractiveShell: names -o must not take, unbalanced quotes, values
whose str() raises, keys that cannot be headers, control sequences in server error text, and
credentials in a base URL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line
from tests.hostile import HostileServer, chunk, reply, sse


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


@pytest.fixture
def text_h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch, display="text") as harness:
        yield harness


@pytest.mark.parametrize(
    "name", ["__builtins__", "get_ipython", "In", "Out", "exit", "print", "_", "_1", "_i1", "_oh"]
)
def test_out_refuses_names_that_would_break_the_shell(h: Harness, name: str) -> None:
    before = h.shell.user_ns.get(name)
    message = one_line(h.run(f"%%route -o {name}\necho: hi").error)
    assert f"-o {name}" in message and "try -o answer" in message
    assert h.shell.user_ns.get(name) is before
    assert h.chat_requests() == []  # refused before any request
    h.ok("%%route -o answer\necho: later cells work")
    assert str(h.shell.user_ns["answer"]) == "later cells work"


EVERY_OUT = {
    "cell": "%%route -o {name}\necho: hi",
    "tools": "%%route --tools double -o {name}\necho: hi",
    "dry run": "%%route --dry-run -o {name}\necho: hi",
    "batch": "%%route --each frame -o {name}\necho: {{text}}",
    "usage": "%route usage -o {name}",
}


@pytest.mark.parametrize("flow", list(EVERY_OUT))
@pytest.mark.parametrize("name", ["get_ipython", "In", "print"])
def test_every_o_refuses_the_names_of_python_and_ipython(h: Harness, flow: str, name: str) -> None:
    import pandas as pd

    h.shell.user_ns["frame"] = pd.DataFrame({"text": ["a", "b"]})
    h.shell.user_ns["double"] = lambda x: 2 * x
    before = h.shell.user_ns.get(name)
    message = one_line(h.run(EVERY_OUT[flow].format(name=name)).error)
    assert f"-o {name}: that name belongs to Python or IPython" in message
    assert h.shell.user_ns.get(name) is before
    assert h.chat_requests() == []  # refused before any request
    h.ok("%route usage")  # later magics still work


def test_an_unbalanced_quote_in_the_options_is_one_line(h: Harness) -> None:
    message = one_line(h.run('%%route -s "Be brief\necho: hi').error)
    assert "No closing quotation" in message and "close the quote" in message


class Hostile:
    def __str__(self) -> str:
        raise RuntimeError("no text for you\nsecond line")


def test_a_value_whose_str_raises_is_one_line_in_the_prompt_and_the_options(h: Harness) -> None:
    h.shell.user_ns["obj"] = Hostile()
    message = one_line(h.run("%%route\nsummarize {obj}").error)
    assert "{obj} could not be turned into text" in message and "RuntimeError" in message
    message = one_line(h.run("%%route -s {obj}\necho: hi").error)
    assert "{obj} could not be turned into text" in message
    assert h.chat_requests() == []


@pytest.mark.parametrize("bad", ["rk_clé_secrète", "rk_two words", "rk_tab\there"])
def test_route_key_refuses_a_key_that_cannot_be_sent(
    h: Harness, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": bad)
    message = one_line(h.run("%route key").error)
    assert "non-ASCII" in message and "nothing changed" in message
    assert bad not in message
    h.ok("%%route\necho: the old key still works")


def test_control_sequences_in_server_error_text_never_reach_the_terminal(
    text_h: Harness,
) -> None:
    body = b"\x1b]0;pwned\x07\x1b[2J\x1b[31mno such thing\r\x1b[0m\x9b2J"
    with HostileServer(reply(400, body, "text/plain", x_error_code="INVALID_REQUEST")) as bad:
        text_h.ok(f"%config RouteMagics.base_url = {bad.base_url!r}")
        cell = text_h.run("%%route\necho: hi")
    message = one_line(cell.error)
    assert "no such thing" in message
    assert not any(ch in message for ch in "\x1b\x07\r\x9b")


def test_credentials_in_the_base_url_reach_no_output_metadata_or_ledger(
    h: Harness, emu: Emulator
) -> None:
    secret_url = emu.base_url.replace("http://", "http://proxyuser:pa55word@")
    h.ok(f"%config RouteMagics.base_url = {secret_url!r}")
    cell = h.ok("%%route\necho: through the proxy")
    assert "through the proxy" in cell.final_plain()
    config = h.ok("%route config")
    for shown in (cell, config):
        assert "pa55word" not in shown.everything() and "proxyuser" not in shown.everything()
    metadata = [o.metadata for o in cell.outputs if o.metadata]
    assert any(emu.base_url in repr(m) for m in metadata)
    with sqlite3.connect(h.db) as conn:
        endpoints = [r[0] for r in conn.execute("SELECT endpoint FROM requests")]
    conn.close()
    assert endpoints == [emu.base_url]
    assert b"pa55word" not in h.db.read_bytes()


def test_odd_usage_numbers_still_leave_a_ledger_row(h: Harness) -> None:
    odd = '{"prompt_tokens": 1e309, "completion_tokens": NaN, "total_tokens": 1' + "0" * 23 + "}"
    body = (
        sse(chunk("counted", finish="stop"))
        + f'data: {{"choices": [], "usage": {odd}}}\n\n'.encode()
    )
    with HostileServer(reply(200, body, "text/event-stream")) as bad:
        h.ok(f"%config RouteMagics.base_url = {bad.base_url!r}")
        cell = h.ok("%%route\nhi")
    assert "counted" in cell.final_plain()
    with sqlite3.connect(h.db) as conn:
        rows = conn.execute("SELECT prompt_tokens, total_tokens, outcome FROM requests").fetchall()
    conn.close()
    assert rows == [(0, 0, "ok")]


def test_the_answer_deadline_is_a_setting(
    h: Harness, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert h.magics.session.client.timeouts.answer == 1800.0
    h.ok("%config RouteMagics.answer_deadline = 0.5")
    assert h.magics.session.client.timeouts.answer == 0.5
    emu.token_rate = 4
    message = one_line(h.run("%%route\necho: " + "slow " * 40).error)
    assert "did not finish the answer within 0.5 s" in message and "TIMEOUT" in message
    assert "answer deadline" in h.ok("%route config").final_plain()
