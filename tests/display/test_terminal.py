"""display/terminal.py: an answer printed as it arrives, without control sequences."""

from __future__ import annotations

import pytest

from routing_magics.display.terminal import TextView
from tests.display.test_live import FOOTER, Fed


def test_text_view_prints_as_it_arrives() -> None:
    written: list[str] = []
    view = Fed(TextView(write=written.append))
    view.reasoning("hmm")
    view.content("Hello")
    assert "".join(written).endswith("Hello")
    view.content(" \x1b[2Jworld\r")
    assert "".join(written).endswith("Hello [2Jworld")  # no escape sequences reach the terminal
    view.reasoning("late thought")
    view.finish(FOOTER, notice="stopped")
    view.finish(FOOTER)
    assert "".join(written) == (
        "Reasoning:\nhmm\n\nAnswer:\nHello [2Jworld\nstopped\n"
        "[route/mistral-small-2503 · routing-inference · 1.2 s · 120 in / 340 out · "
        "notebook total 2,410 tokens · offline emulator]\n"
    )


def test_text_view_without_reasoning() -> None:
    written: list[str] = []
    view = Fed(TextView(write=written.append, show_reasoning=False))
    view.reasoning("hidden")
    view.content("Answer\n")
    view.finish(FOOTER)
    assert "".join(written).startswith("Answer\n[route/")


def test_text_view_writes_to_the_current_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    view = Fed(TextView())
    view.content("streamed")
    assert capsys.readouterr().out == "streamed"
