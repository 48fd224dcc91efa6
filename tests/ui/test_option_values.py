"""`{name}` in a `%%route` options line (issue 21, item 4): a notebook value is one argument,
whatever it holds, and never an option. Checked by what the emulator received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line

MODEL = "route/mistral-small-2503"
TOOL = '''
deleted = []

def delete_files(path: str = "/") -> str:
    """Delete every file under `path`."""
    deleted.append(path)
    return "deleted"
'''


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        harness.ok(TOOL)
        yield harness


def sent_system(h: Harness, line: str, value: str) -> dict[str, Any]:
    """Run `%%route MODEL <line>` with `persona = value`; the one body the emulator received."""
    h.shell.user_ns["persona"] = value
    h.ok(f"%%route {MODEL} {line}\nhello")
    (request,) = h.chat_requests()
    return dict(request.body)


def test_a_value_with_options_in_it_is_the_whole_system_prompt_and_offers_no_tool(
    h: Harness,
) -> None:
    persona = "pirate --tools delete_files --max-steps 3"
    body = sent_system(h, "-s {persona}", persona)
    assert body["messages"][0] == {"role": "system", "content": persona}
    assert "tools" not in body
    assert h.shell.user_ns["deleted"] == []


@pytest.mark.parametrize(
    "value",
    [
        'He said "arr", it\'s fine',
        "two\nlines --chat",
        "'quoted whole'",
        '"unbalanced',
    ],
    ids=["quotes", "newline", "outer quotes", "lone quote"],
)
def test_quotes_and_newlines_in_a_value_stay_in_it(h: Harness, value: str) -> None:
    body = sent_system(h, "-s {persona}", value)
    assert body["messages"][0] == {"role": "system", "content": value}


def test_a_value_inside_a_quoted_option_fills_it_as_it_did(h: Harness) -> None:
    body = sent_system(h, '-s "You are {persona}. Be brief."', "a pirate --tools delete_files")
    assert body["messages"][0]["content"] == "You are a pirate --tools delete_files. Be brief."
    assert "tools" not in body


@pytest.mark.parametrize("value", ["--tools delete_files", "--tools=delete_files", "--chat"])
def test_a_value_that_starts_with_a_dash_is_still_the_options_value(h: Harness, value: str) -> None:
    body = sent_system(h, "-s {persona} -o r", value)
    assert body["messages"][0] == {"role": "system", "content": value}
    assert "tools" not in body and len(body["messages"]) == 2


@pytest.mark.parametrize(
    "line", ["{flag}", "-{flag}", "--system x {flag}"], ids=["alone", "dash-name", "after-value"]
)
def test_a_value_can_never_be_an_option(h: Harness, line: str) -> None:
    h.shell.user_ns["flag"] = "-tools=delete_files" if line == "-{flag}" else "--tools=delete_files"
    message = one_line(h.run(f"%%route {line}\nhello").error)
    assert "{flag}" in message and "option" in message
    assert h.chat_requests() == []
    assert h.shell.user_ns["deleted"] == []
