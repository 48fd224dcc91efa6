"""A notebook user's one-line errors point at the magics (`%route models`, `%route key`, …)
while api/ advises scripts: each error code through a real InteractiveShell and the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line

SCRIPT_WORDS = ("RoutingClient", "GET /v1/", "partial_text", "Timeouts(")

CODES = [
    ("INVALID_MODEL", 1, "run `%route models` to see the routes you can call"),
    ("AUTHENTICATION_ERROR", 1, "set a valid rk_ key with `%route key` or ROUTING_RUN_API_KEY"),
    (
        "MODEL_NOT_ALLOWED",
        1,
        "pick a route your plan includes (`%route models`) or upgrade your plan",
    ),
    ("DAILY_REQUEST_LIMIT_EXCEEDED", 1, "; `%route usage` shows what is left"),
    ("RATE_LIMIT_EXCEEDED", 3, "wait a minute and run the cell again"),
    ("midstream_error", 1, "the partial answer is kept; run the cell again for a full one"),
    ("drop", 1, "check your network or ROUTING_RUN_BASE_URL, then run the cell again"),
]


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def assert_notebook_advice(message: str, advice: str) -> None:
    assert advice in message, message
    assert not [word for word in SCRIPT_WORDS if word in message], message


@pytest.mark.parametrize(("kind", "times", "advice"), CODES, ids=[c[0] for c in CODES])
def test_each_code_fails_the_cell_with_the_magics_advice(
    h: Harness, emu: Emulator, kind: str, times: int, advice: str
) -> None:
    emu.inject(kind, times=times, after=2)
    message = one_line(h.run("%%route\necho: hello there, routing").error)
    assert_notebook_advice(message, advice)
    assert len(h.chat_requests()) == times  # retried as before: only the words changed


def test_the_daily_cap_says_when_it_resets(h: Harness, emu: Emulator) -> None:
    emu.daily_limit = 0
    message = one_line(h.run("%route route/glm-5 echo: hi").error)
    assert "(DAILY_REQUEST_LIMIT_EXCEEDED)" in message
    assert_notebook_advice(message, "resets at midnight UTC (")
    assert "`%route usage` shows what is left" in message


def test_a_one_line_prompt_gives_the_same_advice(h: Harness, emu: Emulator) -> None:
    emu.inject("AUTHENTICATION_ERROR")
    assert_notebook_advice(one_line(h.run("%route echo: hi").error), "`%route key`")


def test_a_raisers_own_hint_is_kept(h: Harness, emu: Emulator) -> None:
    message = one_line(h.run("%%route route/mistral-smal\necho: hi").error)
    assert "(INVALID_MODEL)" in message and "did you mean route/mistral-small-2503" in message
    emu.daily_limit = 2
    h.shell.user_ns["reviews"] = pd.DataFrame({"text": ["a", "b", "c"]})
    message = one_line(h.run("%%route --each reviews\necho: {text}").error)
    assert "(DAILY_REQUEST_LIMIT_EXCEEDED)" in message and "add --limit 2" in message
    assert h.chat_requests() == []


def test_route_key_with_a_key_that_cannot_be_sent_points_at_route_key(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "rk_two words")
    message = one_line(h.run("%route key").error)
    assert "(MALFORMED_KEY)" in message and message.endswith("`%route key`; nothing changed")
    assert "two words" not in message
