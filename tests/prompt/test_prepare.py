"""Cell text → messages: interpolation, budgets, chat memory, history trimming, errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import polars as pl
import pytest

from routing_magics.api.catalog import Catalog
from routing_magics.api.errors import ConfigurationError
from routing_magics.prompt.prepare import (
    PreparedPrompt,
    build_messages,
    estimate_tokens,
    frame_budget_chars,
    frame_to_text,
    interpolate,
    prepare_prompt,
    render_value,
)

CONTEXT_100K = Catalog().context_of("route/minimax-m2.5")


def fill(template: str, namespace: Mapping[str, object]) -> str:
    return interpolate(template, namespace, render_value=lambda _name, value: str(value))


def sales() -> pd.DataFrame:
    return pd.DataFrame({"region": ["North", "South", "East"], "units": [12, 7, 3]})


def exchange(n: int, size: int = 10) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": f"q{n} " + "x" * size},
        {"role": "assistant", "content": f"a{n} " + "y" * size},
    ]


def prepare(template: str, namespace: Mapping[str, object], **options: Any) -> PreparedPrompt:
    settings: dict[str, Any] = {
        "df_name": None,
        "rows": 50,
        "context_tokens": CONTEXT_100K,
        "max_tokens": None,
        "system": None,
        "history": (),
    }
    return prepare_prompt(template, namespace, **{**settings, **options})


# ---------------------------------------------------------------------------- interpolation


def test_estimate_tokens_rounds_up() -> None:
    assert [estimate_tokens("x" * n) for n in (0, 1, 4, 5, 8)] == [0, 1, 1, 2, 2]


def test_known_names_are_replaced_unknown_left_as_written() -> None:
    assert fill("{a} and {b} but not {missing}", {"a": 1, "b": "two"}) == (
        "1 and two but not {missing}"
    )


def test_doubled_braces_are_literal_braces() -> None:
    assert fill("{{a}} is {a}; {{{a}}}", {"a": 5}) == "{a} is 5; {5}"


@pytest.mark.parametrize(
    "text", ["{a b}", "{0}", "{a.real}", '{"json": 1}', "{a[0]}", "{ a }", "{"]
)
def test_non_identifiers_stay_as_written(text: str) -> None:
    assert fill(text, {"a": 5, "0": "zero", "a b": "x"}) == text


def test_one_pass_values_are_not_rescanned() -> None:
    assert fill("{template}", {"template": "{secret} {{x}}", "secret": "s3"}) == "{secret} {{x}}"


def test_each_value_rendered_with_its_name() -> None:
    seen: list[str] = []

    def render(name: str, value: object) -> str:
        seen.append(name)
        return f"<{name}={value}>"

    assert interpolate("{x}-{y}-{x}", {"x": 1, "y": 2}, render_value=render) == "<x=1>-<y=2>-<x=1>"
    assert seen == ["x", "y", "x"]


def test_default_render_value_uses_str_or_frame_text() -> None:
    assert render_value("n", 3.5) == "3.5"
    frame = sales()
    assert render_value("sales", frame) == frame_to_text(frame, name="sales", max_chars=20_000)


# ------------------------------------------------------------------------------- budgets


def test_frame_budget_formula() -> None:
    other = "x" * 400  # 100 tokens
    assert frame_budget_chars(context_tokens=100_000, max_tokens=None, other_text=other) == (
        (100_000 - 1024 - 100 - 256) * 4
    )
    assert frame_budget_chars(context_tokens=100_000, max_tokens=4000, other_text=other) == (
        (100_000 - 4000 - 100 - 256) * 4
    )
    assert frame_budget_chars(context_tokens=1000, max_tokens=2000, other_text="") == 0


# ------------------------------------------------------------------------------ messages


def test_messages_are_system_then_history_then_user() -> None:
    history = exchange(1)
    messages = build_messages(
        "now?", system="be brief", history=history, context_tokens=100_000, max_tokens=None
    )
    assert messages == [
        {"role": "system", "content": "be brief"},
        *history,
        {"role": "user", "content": "now?"},
    ]
    assert build_messages("now?", context_tokens=100_000, max_tokens=None) == [
        {"role": "user", "content": "now?"}
    ]


def test_history_trimming_keeps_newest_pairs_and_the_system_prompt() -> None:
    history = [m for n in range(10) for m in exchange(n, size=400)]  # ~100 tokens a message
    messages = build_messages(
        "latest", system="sys", history=history, context_tokens=1024 + 700, max_tokens=None
    )
    assert messages[0] == {"role": "system", "content": "sys"}
    assert messages[-1] == {"role": "user", "content": "latest"}
    kept = messages[1:-1]
    assert 0 < len(kept) < len(history)
    assert len(kept) % 2 == 0
    assert kept == history[-len(kept) :]
    assert sum(estimate_tokens(m["content"]) for m in messages) <= 700


def test_output_reserve_follows_max_tokens() -> None:
    history = [m for n in range(10) for m in exchange(n, size=400)]
    roomy = build_messages("q", history=history, context_tokens=3000, max_tokens=100)
    tight = build_messages("q", history=history, context_tokens=3000, max_tokens=2500)
    assert len(tight) < len(roomy)


def test_history_is_capped_at_48_messages() -> None:
    history = [m for n in range(40) for m in exchange(n)]
    messages = build_messages(
        "q", system="s", history=history, context_tokens=1_000_000, max_tokens=None
    )
    assert messages[1:-1] == history[-48:]
    assert len([m for m in messages if m["role"] != "system"]) <= 50


def test_trimming_never_splits_an_exchange() -> None:
    history = [
        {"role": "assistant", "content": "orphan " * 50},
        *exchange(1, size=2000),
        *exchange(2),
    ]
    messages = build_messages("q", history=history, context_tokens=1024 + 200, max_tokens=None)
    assert messages == [*exchange(2), {"role": "user", "content": "q"}]


def test_the_prompt_is_never_dropped_even_if_too_long() -> None:
    messages = build_messages(
        "z" * 10_000, history=exchange(1), context_tokens=1500, max_tokens=None
    )
    assert messages == [{"role": "user", "content": "z" * 10_000}]


# --------------------------------------------------------------------------- preparation


def test_df_is_appended_after_a_blank_line() -> None:
    frame = sales()
    prepared = prepare("Which region sells most?", {"sales": frame}, df_name="sales")
    text = frame_to_text(frame, name="sales", max_chars=10_000)
    assert prepared.user_text == "Which region sells most?\n\n" + text
    assert prepared.messages == [{"role": "user", "content": prepared.user_text}]
    assert [(f.name, f.rows_shown, f.rows_total) for f in prepared.frames] == [("sales", 3, 3)]


def test_interpolated_frame_gets_the_same_text_as_df() -> None:
    frame = pl.DataFrame({"x": [1, 2]})
    inline = prepare("Look: {frame}", {"frame": frame})
    appended = prepare("Look:", {"frame": frame}, df_name="frame")
    assert inline.user_text == appended.user_text.replace("\n\n", " ", 1)


def test_df_alone_is_a_prompt() -> None:
    prepared = prepare("   \n", {"sales": sales()}, df_name="sales")
    assert prepared.user_text.startswith("Data `sales`: 3 rows × 2 columns")


def test_system_and_history_are_sent() -> None:
    prepared = prepare("next {n}", {"n": 2}, system="terse", history=exchange(1))
    assert prepared.messages == [
        {"role": "system", "content": "terse"},
        *exchange(1),
        {"role": "user", "content": "next 2"},
    ]
    assert prepared.history_dropped == 0


def test_frames_share_the_budget_and_fit_a_small_context() -> None:
    big = pd.DataFrame({"n": range(10_000)})
    namespace = {"a": big, "b": big.copy()}
    prepared = prepare("{a} vs {b}", namespace, rows=10_000, context_tokens=3000, max_tokens=500)
    budget = frame_budget_chars(context_tokens=3000, max_tokens=500, other_text=" vs ")
    assert [f.name for f in prepared.frames] == ["a", "b"]
    assert all(0 < f.rows_shown < 10_000 and f.chars <= budget // 2 for f in prepared.frames)
    assert estimate_tokens(prepared.user_text) <= 3000 - 500


def test_a_million_row_frame_fits_a_100k_route() -> None:
    frame = pd.DataFrame({"id": range(1_000_000), "price": 2.5})
    prepared = prepare("Summarise", {"big": frame}, df_name="big", rows=1_000_000)
    (info,) = prepared.frames
    assert 0 < info.rows_shown < 1_000_000
    assert f"Showing {info.rows_shown} of 1000000 rows." in prepared.user_text
    budget = frame_budget_chars(
        context_tokens=CONTEXT_100K, max_tokens=None, other_text="Summarise"
    )
    assert info.chars <= budget


def test_long_history_gives_way_to_the_cell() -> None:
    history = [m for n in range(10) for m in exchange(n, size=4000)]
    prepared = prepare("q", {}, history=history, context_tokens=6000, max_tokens=None)
    assert prepared.history_dropped > 0
    assert prepared.messages[-1] == {"role": "user", "content": "q"}
    assert len(prepared.messages) - 1 == len(history) - prepared.history_dropped


@pytest.mark.parametrize(
    ("template", "options", "message"),
    [
        (" \n\t", {}, "the cell is empty: write a prompt below %%route"),
        ("hi", {"df_name": "sales"}, "--df sales: no variable named 'sales' in the notebook"),
        ("hi", {"df_name": "x"}, "--df x: x is a str, not a pandas/polars DataFrame or Series"),
        ("hi", {"rows": 0}, "--rows 0"),
    ],
)
def test_configuration_errors(template: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        prepare(template, {"x": "text"}, **options)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
