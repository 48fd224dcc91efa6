"""`%%route` / `%route` through a real IPython InteractiveShell, against the emulator.

Each test gets a fresh RouteMagics configured from the environment with a random key; the
fixture checks afterwards that the key never showed up in an output, an error or the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.emulator import Emulator
from routing_magics.ledger import Ledger
from tests.helpers import Harness, magic_harness, one_line


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def last_body(h: Harness) -> dict:
    return h.chat_requests()[-1].body


def user_text(h: Harness) -> str:
    return last_body(h)["messages"][-1]["content"]


# --- options -------------------------------------------------------------------------------


def test_model_positional_default_and_route_use(h: Harness) -> None:
    cell = h.ok("%%route\necho: hi")
    assert last_body(h)["model"] == "route/mistral-small-2503"
    assert "hi" in cell.final_html()
    h.ok("%%route route/kimi-k2.5\necho: hi")
    assert last_body(h)["model"] == "route/kimi-k2.5"
    use = h.ok("%route use route/glm-5")
    assert "route/glm-5" in use.stdout
    h.ok("%%route\necho: hi")
    assert last_body(h)["model"] == "route/glm-5"


def test_system_temperature_and_max_tokens_reach_the_request(h: Harness) -> None:
    h.ok('%%route -s "Answer like a pirate." -t 0.3 -m 77\necho: hi')
    body = last_body(h)
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    assert body["messages"][-1] == {"role": "user", "content": "echo: hi"}
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 77


def test_out_binds_a_result_object(h: Harness) -> None:
    h.ok("%%route route/kimi-k2.5 -o result\necho: the answer")
    result = h.shell.user_ns["result"]
    assert result.text == "the answer"
    assert str(result) == "the answer"
    assert "repeated back exactly" in result.reasoning
    assert result.model == "route/kimi-k2.5"
    assert result.provider == "crof"
    assert result.finish_reason == "stop"
    assert result.usage.completion_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert isinstance(result.latency_ms, int) and result.latency_ms >= 0


def test_df_sends_a_fitted_frame_with_a_showing_line(h: Harness) -> None:
    h.shell.user_ns["big"] = pd.DataFrame({"x": range(200_000), "label": ["row"] * 200_000})
    h.ok("%%route --df big\nWhat is the mean of x?")
    text = user_text(h)
    assert text.startswith("What is the mean of x?")
    assert "200000 rows × 2 columns" in text
    assert "Showing 50 of 200000 rows." in text  # the default --rows cap
    h.ok("%%route --df big --rows 7\nWhat is the mean of x?")
    assert "Showing 7 of 200000 rows." in user_text(h)


def test_df_never_sends_more_than_the_context_holds(h: Harness) -> None:
    wide = pd.DataFrame({f"column_{i}": range(100_000) for i in range(20)})
    h.shell.user_ns["wide"] = wide
    h.ok("%%route route/minimax-m2.5 --df wide --rows 100000\nSummarise.")
    size = len(json.dumps(last_body(h)["messages"]))
    assert 100_000 < size < 100_000 * 4  # minimax-m2.5's context is 100k tokens ≈ 400k chars
    assert "Showing " in user_text(h) and " of 100000 rows." in user_text(h)


def test_interpolation_of_names_and_literal_braces(h: Harness) -> None:
    h.shell.user_ns["city"] = "Lisbon"
    h.ok("%%route\necho: {city} {{city}} {unknown} {city.upper}")
    assert user_text(h) == "echo: Lisbon {city} {unknown} {city.upper}"


def test_line_prompt_interpolates_once_like_a_cell(h: Harness) -> None:
    h.shell.user_ns["city"] = "Lisbon"
    h.shell.user_ns["template"] = "{city}"
    h.ok("%route echo: {{city}} is {city}")
    assert user_text(h) == "echo: {city} is Lisbon"
    h.ok("%route echo: {template}")
    assert user_text(h) == "echo: {city}"  # one pass: a value's braces are not expanded again


def test_chat_continues_and_route_reset_forgets(h: Harness) -> None:
    h.ok("%%route --chat\necho: first")
    h.ok("%%route --chat\necho: second")
    assert last_body(h)["messages"] == [
        {"role": "user", "content": "echo: first"},
        {"role": "assistant", "content": "first"},
        {"role": "user", "content": "echo: second"},
    ]
    h.ok("%%route\necho: alone")  # without --chat: a fresh conversation
    assert len(last_body(h)["messages"]) == 1
    reset = h.ok("%route reset")
    assert "2 exchanges" in reset.stdout
    h.ok("%%route --chat\necho: third")
    assert last_body(h)["messages"] == [{"role": "user", "content": "echo: third"}]


def test_no_stream_asks_for_one_reply_and_shows_it(h: Harness) -> None:
    cell = h.ok("%%route --no-stream -o r\necho: whole **answer**")
    assert last_body(h)["stream"] is False
    assert "<strong>answer</strong>" in cell.final_html()
    assert h.shell.user_ns["r"].text == "whole **answer**"


def test_format_code_puts_the_code_in_the_next_cell(h: Harness) -> None:
    h.ok("%%route --format code\necho: Here:\n```python\nprint(1)\n```\nDone.")
    assert h.shell.rl_next_input == "print(1)"


def test_format_text_shows_preformatted_text(h: Harness) -> None:
    cell = h.ok("%%route --format text\necho: **not bold** <b>x</b>")
    html = cell.final_html()
    pre = '<pre class="routing-magics-text tex2jax_ignore mathjax_ignore">'
    assert pre + "**not bold** &lt;b&gt;x&lt;/b&gt;</pre>" in html
    assert "<strong>" not in html


def test_format_json_accepts_json_and_fails_the_cell_on_anything_else(h: Harness) -> None:
    h.ok('%%route --format json\necho: {{"a": 1}}')
    cell = h.run("%%route --format json\necho: not json")
    message = one_line(cell.error)
    assert "not valid JSON" in message
    assert "not json" in cell.final_plain()  # the answer itself stays visible


# --- validation: nothing is sent ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%%route\n   \n", "empty"),
        ("%%route route/mistral-smal\necho: hi", "route/mistral-small-2503"),
        ("%%route -t 5\necho: hi", "temperature"),
        ("%%route -m 0\necho: hi", "max tokens"),
        ("%%route -o 1x\necho: hi", "not a Python variable name"),
        ("%%route --df nowhere\nhi", "no variable named 'nowhere'"),
        ("%%route --df city\nhi", "is a str"),
        ("%%route --format bogus\nhi", "markdown, text, code, json"),
        ("%%route --rows 0\nhi", "--rows 0"),
        ("%route", "subcommand"),
        ("%route use route/nope", "unknown model"),
    ],
)
def test_bad_input_fails_before_any_request(h: Harness, source: str, expected: str) -> None:
    h.shell.user_ns["city"] = "Lisbon"
    cell = h.run(source)
    assert expected in one_line(cell.error)
    assert h.chat_requests() == []  # (an unknown model may look at GET /models first)
    assert not h.db.exists() or h.outcomes() == []


# --- line subcommands -----------------------------------------------------------------------


def test_route_models_lists_the_eleven_routes(h: Harness) -> None:
    cell = h.ok("%route models")
    (table,) = cell.final
    lines = table["text/plain"].splitlines()
    assert len([line for line in lines if line.startswith("route/")]) == 11
    assert "route/kimi-k2.5" in table["text/html"]
    assert any(line.startswith("route/mistral-small-2503") and "*" in line for line in lines)


def test_route_usage_all_and_reset(h: Harness) -> None:
    h.ok("%%route\necho: one two three")
    usage = h.ok("%route usage")
    assert "route/mistral-small-2503" in usage.final_plain()
    assert "Premium plan" in usage.final_plain()  # the account table from GET /user/requests
    assert "route/mistral-small-2503" in h.ok("%route usage --all").final_plain()
    assert "Forgot 1 usage rows" in h.ok("%route usage --reset").stdout
    assert "no requests yet" in h.ok("%route usage").final_plain()
    assert "unknown option --bogus" in one_line(h.run("%route usage --bogus").error)


def test_route_config_shows_the_key_as_set_only(h: Harness) -> None:
    cell = h.ok("%route config")
    (table,) = cell.final
    lines = table["text/plain"].splitlines()
    assert any(line.split() == ["api", "key", "set"] for line in lines)
    assert any(h.emu.base_url in line for line in lines)
    assert h.key not in cell.everything()


def test_route_help_prints_the_usage(h: Harness) -> None:
    out = h.ok("%route help").stdout
    for word in ("models", "use MODEL", "usage", "reset", "{name}"):
        assert word in out


def test_one_shot_line_prompt(h: Harness) -> None:
    cell = h.ok("%route route/kimi-k2.5 echo: hi there")
    assert last_body(h)["model"] == "route/kimi-k2.5"
    assert user_text(h) == "echo: hi there"
    assert "hi there" in cell.final_html()
    h.ok("%route echo: default model")
    assert last_body(h)["model"] == "route/mistral-small-2503"


def test_route_key_asks_with_getpass_and_never_echoes_it(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_key = "rk_" + "0123456789abcdef" * 4
    answers = iter(["not-a-key", "", new_key])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert "start with rk_" in one_line(h.run("%route key").error)
    assert "no key entered" in one_line(h.run("%route key").error)
    cell = h.ok("%route key")
    assert h.emu.base_url in cell.stdout
    h.ok("%%route\necho: still works")
    assert all(new_key not in c.everything() for c in h.cells)
    assert new_key.encode() not in h.db.read_bytes()


# --- the key --------------------------------------------------------------------------------


def test_the_key_never_appears_anywhere(h: Harness, emu: Emulator) -> None:
    emu.inject("AUTHENTICATION_ERROR")
    h.run("%%route route/kimi-k2.5\necho: hi")
    emu.inject("midstream_error", after=3)
    h.run("%%route\necho: one two three four five six")
    h.ok("%%route route/kimi-k2.5 -o r\necho: fine")
    h.ok("%route config")
    h.ok("%route usage --all")
    h.run("%route use nope")
    h.ok("%config RouteMagics")  # every trait with its value
    h.assert_key_never_shown()
    assert repr(h.magics.session.settings).count("rk_") == 0
    assert h.key not in repr(h.magics.session.client)
    assert h.key not in repr(h.shell.user_ns["r"])
    with Ledger(h.db) as ledger:
        assert ledger.notebook_total(h.magics.session.notebook).requests == 3


# --- review fixes: line form, options line, settings changed mid-session -------------------


def test_line_form_tells_a_prompt_from_a_model_or_subcommand(h: Harness) -> None:
    h.ok("%route 1/2 + 1/3 = ... ")  # a slash in a prompt is not a model
    assert user_text(h) == "1/2 + 1/3 = ..."
    h.ok("%route help me write a haiku")  # a subcommand word opening a longer line is a prompt
    assert user_text(h) == "help me write a haiku"
    assert "after the model" in one_line(h.run("%route route/kimi-k2.5").error)
    assert "%%route" in one_line(h.run("%route -m 5 route/kimi-k2.5 echo: hi").error)
    assert len(h.chat_requests()) == 2


def test_the_options_line_takes_notebook_values(h: Harness) -> None:
    h.shell.user_ns.update(persona="Answer like a pirate.", n=33)
    h.ok('%%route -s "{persona}" -m {n}\necho: hi')
    body = last_body(h)
    assert body["messages"][0]["content"] == "Answer like a pirate." and body["max_tokens"] == 33


def test_a_refused_request_is_recorded_with_no_tokens(h: Harness) -> None:
    h.emu.inject("MODEL_NOT_ALLOWED")
    h.run("%%route\necho: hi")
    totals = Ledger(h.db).totals_by_model(None)
    assert [(t.requests, t.total_tokens, t.errors) for t in totals] == [(1, 0, 1)]


def test_a_new_usage_db_takes_effect_at_once(h: Harness, tmp_path: Path) -> None:
    h.ok("%%route\necho: one")
    other = tmp_path / "other.sqlite"
    h.ok(f"%config RouteMagics.usage_db = {str(other)!r}")
    h.ok("%%route\necho: two")
    assert [t.requests for t in Ledger(other).totals_by_model(None)] == [1]
    assert str(other) in h.ok("%route config").final_plain()


def test_models_lists_only_what_the_key_may_call(h: Harness) -> None:
    h.emu.plan = "free"
    shown = h.ok("%route models").final_plain()
    assert "route/glm-5" in shown and "route/mistral-large-3" not in shown


def test_usage_all_breaks_totals_down_by_notebook_and_refuses_reset(h: Harness) -> None:
    h.ok("%%route\necho: one")
    assert "By notebook" in h.ok("%route usage --all").final_plain()
    assert "drop --all" in one_line(h.run("%route usage --all --reset").error)
