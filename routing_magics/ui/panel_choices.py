"""The panel's pickers as text (pure): route labels, the notebook's contexts and their cost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..prompt.frames import DEFAULT_ROWS, fit_frame, is_frame
from ..prompt.prepare import estimate_tokens, frame_budget_chars

if TYPE_CHECKING:
    from ..api.catalog import Route

#: IPython's own names in user_ns that are not the user's data.
HIDDEN_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
NO_CONTEXT = ""


def short_count(n: int) -> str:
    """A size at a glance: 950, 1.2k, 131k, 1.5M."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}".removesuffix(".0") + "k"
    if n < 1_000_000:
        return f"{round(n / 1000)}k"
    return f"{n / 1_000_000:.1f}".removesuffix(".0") + "M"


def route_label(route: Route) -> str:
    """E.g. 'route/kimi-k2.5 · 131k · reasoning · Free'."""
    facts = [route.id, short_count(route.context)]
    if route.reasoning:
        facts.append("reasoning")
    return " · ".join([*facts, route.tier_label])


def context_choices(namespace: Mapping[str, object]) -> list[tuple[str, str]]:
    """The notebook's DataFrames/Series and strings, by name, after a '(none)' choice."""
    choices = [("(none)", NO_CONTEXT)]
    for name in sorted(n for n in namespace if isinstance(n, str)):
        if name.startswith("_") or name in HIDDEN_NAMES:
            continue
        value = namespace[name]
        if is_frame(value):
            shape = " × ".join(f"{n:,}" for n in getattr(value, "shape", ()))
            choices.append((f"{name} · {type(value).__name__} {shape}", name))
        elif isinstance(value, str):
            choices.append((f"{name} · text, {len(value):,} chars", name))
    return choices


def context_size(
    name: str, value: object, *, context_tokens: int, max_tokens: int | None, other_text: str
) -> str:
    """What the context costs once fitted, e.g. '50 of 1,000,000 rows · ~1.2k tokens of 128k'."""
    of = f"of {short_count(context_tokens)}"
    if is_frame(value):
        budget = frame_budget_chars(
            context_tokens=context_tokens, max_tokens=max_tokens, other_text=other_text
        )
        text, info = fit_frame(value, name=name, max_rows=DEFAULT_ROWS, max_chars=budget)
        rows = f"{info.rows_shown:,} of {info.rows_total:,} rows"
        return f"{rows} · ~{short_count(estimate_tokens(text))} tokens {of}"
    text = str(value)
    return f"{len(text):,} chars · ~{short_count(estimate_tokens(text))} tokens {of}"
