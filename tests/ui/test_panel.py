"""The widget panel, driven in-process (no front end) against the emulator."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from routing_magics.config import Settings
from routing_magics.emulator import Emulator, RecordedRequest
from routing_magics.session import Session
from routing_magics.ui.panel import RoutePanel


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    """IPython's shell; names a test adds to user_ns are removed afterwards."""
    shell = InteractiveShell.instance()
    before = set(shell.user_ns)
    yield shell
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]


@pytest.fixture
def session(emu: Emulator, tmp_path: Path) -> Iterator[Session]:
    settings = Settings(
        api_key="rk_test",
        base_url=emu.base_url,
        fallback_base_url=None,
        usage_db=str(tmp_path / "u.sqlite"),
    )
    session = Session(settings, notebook="test-nb")
    yield session
    session.close()


@pytest.fixture
def panel(session: Session, shell: InteractiveShell) -> Iterator[RoutePanel]:
    panel = RoutePanel(session, shell)
    yield panel
    panel.stop()
    panel.wait(5)
    panel.close()


def answer_html(panel: RoutePanel) -> list[str]:
    return [child.value for child in panel.answer.children]


def outcomes(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "u.sqlite") as conn:
        return [row[0] for row in conn.execute("SELECT outcome FROM requests ORDER BY id")]


def test_picker_lists_every_route_with_context_reasoning_and_tier(panel: RoutePanel) -> None:
    labels = dict(panel.model_picker.options)
    assert len(labels) == 11
    assert "route/kimi-k2.5 · 131k · reasoning · Free" in labels
    assert "route/glm-5 · 200k · reasoning · Free" in labels
    assert "route/mistral-small-2503 · 128k · Premium" in labels
    assert labels["route/deepseek-v4-pro · 164k · reasoning · Lite"] == "route/deepseek-v4-pro"
    assert panel.model_picker.value == "route/mistral-small-2503"
    assert "routing-magics-panel" in panel._dom_classes


def test_picking_sets_the_default_and_use_model_moves_the_picker(
    panel: RoutePanel, session: Session
) -> None:
    panel.model_picker.value = "route/kimi-k2.5"
    assert session.default_model == "route/kimi-k2.5"
    session.use_model("route/glm-5")
    assert panel.model_picker.value == "route/glm-5"
    panel.close()
    assert session._model_listeners == []
    session.use_model("route/deepseek-v3.2")  # a closed panel no longer follows
    assert panel.model_picker.value == "route/glm-5"


def test_send_streams_the_answer_and_footer_and_updates_totals(
    panel: RoutePanel, tmp_path: Path
) -> None:
    assert "no requests yet" in panel.usage.value
    panel.prompt.value = "echo: Hello **world** <script>alert(1)</script>"
    panel.send_button.click()
    assert panel.wait(10)
    shown = "".join(answer_html(panel))
    assert "Hello <strong>world</strong>" in shown
    assert "<script>" not in shown
    assert re.search(r"routing-magics-footer.*route/mistral-small-2503.* in / \d+ out", shown)
    assert panel.result is not None and panel.result.text.startswith("Hello **world**")
    assert "route/mistral-small-2503" in panel.usage.value
    assert "no requests yet" not in panel.usage.value
    assert panel.error.value == ""
    assert not panel.send_button.disabled and panel.stop_button.disabled
    assert outcomes(tmp_path) == ["ok"]


def test_a_new_send_clears_the_previous_answer(panel: RoutePanel) -> None:
    panel.send("echo: first answer")
    assert panel.wait(10)
    panel.send("echo: second answer")
    assert panel.wait(10)
    shown = "".join(answer_html(panel))
    assert "second answer" in shown and "first answer" not in shown


def test_stop_ends_the_stream_at_once_and_keeps_the_partial_answer(
    panel: RoutePanel, emu: Emulator, tmp_path: Path
) -> None:
    emu.token_rate = 50  # 400 words take ~8 s
    panel.send("echo: " + "word " * 400)
    deadline = time.monotonic() + 5
    while "word word word" not in "".join(answer_html(panel)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert panel.send_button.disabled
    assert not panel.stop_button.disabled
    started = time.monotonic()
    panel.stop_button.click()
    assert panel.wait(5)
    assert time.monotonic() - started < 1.5
    shown = "".join(answer_html(panel))
    assert "word word" in shown
    assert re.search(r"routing-magics-footer.*stopped", shown)
    assert panel.result is None  # the request did not finish
    assert panel.error.value == ""  # stopping is not an error: the view says it
    assert outcomes(tmp_path) == ["stopped"]
    assert not panel.send_button.disabled and panel.stop_button.disabled


def test_an_api_error_shows_in_the_error_line_and_send_comes_back(
    panel: RoutePanel, emu: Emulator, tmp_path: Path
) -> None:
    emu.inject("MODEL_NOT_ALLOWED")
    panel.send("echo: hi")
    assert panel.wait(10)
    assert "MODEL_NOT_ALLOWED" in panel.error.value
    assert "(`%route models`)" in panel.error.value  # the notebook's advice, not a script's
    assert not panel.send_button.disabled and panel.stop_button.disabled
    assert outcomes(tmp_path) == ["MODEL_NOT_ALLOWED"]
    panel.send("echo: again")
    assert panel.wait(10)
    assert panel.error.value == ""
    assert "again" in "".join(answer_html(panel))


def test_an_unexpected_exception_is_shown_not_lost(
    panel: RoutePanel, shell: InteractiveShell
) -> None:
    class Unprintable(str):
        def __str__(self) -> str:
            raise TypeError("cannot print <this>")

    shell.user_ns["odd"] = Unprintable("x")
    panel.refresh.click()
    panel.context.value = "odd"
    panel.send("echo: look")
    assert panel.wait(10)
    assert "TypeError: cannot print &lt;this&gt;" in panel.error.value
    assert not panel.send_button.disabled


def test_an_empty_prompt_is_refused_before_any_request(panel: RoutePanel, emu: Emulator) -> None:
    panel.send("   ")
    assert panel.wait(1)
    assert "the prompt is empty" in panel.error.value
    assert emu.requests == []


def test_the_context_picker_lists_frames_and_strings_with_their_fitted_size(
    session: Session, shell: InteractiveShell
) -> None:
    shell.user_ns["sales"] = pd.DataFrame({"units": range(1_000_000), "price": 2.5})
    shell.user_ns["notes"] = "Q3 was slow."
    shell.user_ns["_scratch"] = pd.DataFrame({"a": [1]})
    shell.user_ns["count"] = 3
    panel = RoutePanel(session, shell)
    choices = dict(panel.context.options)
    assert choices["sales · DataFrame 1,000,000 × 2"] == "sales"
    assert choices["notes · text, 12 chars"] == "notes"
    assert set(choices.values()) & {"_scratch", "count", "In", "Out", "get_ipython"} == set()
    panel.context.value = "sales"
    assert re.fullmatch(
        r"50 of 1,000,000 rows · ~[\d.]+k? tokens of 128k", panel.context_size.value
    )
    panel.model_picker.value = "route/glm-5"
    assert panel.context_size.value.endswith("tokens of 200k")
    shell.user_ns["later"] = "added after the panel"
    panel.refresh.click()
    assert "later" in dict(panel.context.options).values()
    assert panel.context.value == "sales"
    panel.close()


def test_the_chosen_context_goes_into_the_request(
    panel: RoutePanel, shell: InteractiveShell, emu: Emulator
) -> None:
    shell.user_ns["sales"] = pd.DataFrame({"units": [3, 5, 7]})
    shell.user_ns["notes"] = "keep {braces} as written"
    panel.refresh_context()
    panel.context.value = "sales"
    panel.send("echo: the data")
    assert panel.wait(10)
    panel.context.value = "notes"
    panel.send("echo: the notes")
    assert panel.wait(10)
    first, second = (r.json["messages"][-1]["content"] for r in _chats(emu))
    assert first.startswith("echo: the data\n\nData `sales`: 3 rows × 1 columns")
    assert second == "echo: the notes\n\nkeep {braces} as written"


def test_settings_reach_the_request(panel: RoutePanel, emu: Emulator, session: Session) -> None:
    panel.system.value = "Be brief."
    panel.set_temperature.value = True
    panel.temperature.value = 0.3
    panel.max_tokens.value = 64
    panel.chat.value = True
    panel.send("echo: one")
    assert panel.wait(10)
    body = _chats(emu)[-1].json
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["temperature"] == pytest.approx(0.3)
    assert body["max_tokens"] == 64
    assert len(session.memory) == 1
    panel.set_temperature.value = False
    panel.max_tokens.value = 0
    panel.chat.value = False
    panel.send("echo: two")
    assert panel.wait(10)
    body = _chats(emu)[-1].json
    assert "temperature" not in body
    assert len(session.memory) == 1


def test_the_text_repr_is_short_and_the_same_every_run(
    panel: RoutePanel, session: Session, shell: InteractiveShell
) -> None:
    other = RoutePanel(session, shell)
    bundles = [p._repr_mimebundle_() for p in (panel, other)]
    assert [b["text/plain"] for b in bundles] == ["RoutePanel(model=route/mistral-small-2503)"] * 2
    # The widget-view part carries a fresh model id; nbval skips that key by default.
    ids = {b["application/vnd.jupyter.widget-view+json"]["model_id"] for b in bundles}
    assert len(ids) == 2
    panel.send("echo: anything")
    assert panel.wait(10)
    assert repr(panel) == "RoutePanel(model=route/mistral-small-2503)"
    other.close()


def test_stop_right_after_send_stops_before_the_answer_starts(
    panel: RoutePanel, emu: Emulator, tmp_path: Path
) -> None:
    emu.token_rate = 50
    panel.send("echo: " + "word " * 400)
    panel.stop()  # usually before the worker has a stream to close: it closes it on arrival
    assert panel.wait(5)
    assert panel.result is None
    assert outcomes(tmp_path) == ["stopped"]
    assert not panel.send_button.disabled


def _chats(emu: Emulator) -> list[RecordedRequest]:
    """The chat requests the emulator saw (prices and account counts are asked too)."""
    return [r for r in emu.requests if r.path == "/v1/chat/completions"]


def test_the_panel_lists_running_jobs_with_a_stop_button_each(
    session: Session, shell: InteractiveShell, emu: Emulator
) -> None:
    from routing_magics.run.jobs import jobs_of

    registry = jobs_of(session)
    panel = RoutePanel(session, shell)
    try:
        assert panel.jobs.children == ()
        job = registry.start("In[4] --each reviews", "route/glm-5", lambda j: j.stop_event.wait(10))
        [row] = panel.jobs.children
        assert row.children[0].value.startswith("job 1 · In[4] --each reviews · route/glm-5 · ")
        panel.jobs.stop_buttons[job.id].click()
        assert job.wait(0.5) and job.state == "stopped"
        assert panel.jobs.children == ()  # redrawn when the job ended
    finally:
        registry.stop_all()
        panel.close()
