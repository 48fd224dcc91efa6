"""Cell text + {name} values + dataframes + chat history → the OpenAI `messages` list (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from ..api.errors import ConfigurationError, excerpt
from .frames import DEFAULT_ROWS, FrameInfo, fit_frame, frame_to_text, is_frame
from .history import HistoryKind, HistoryLookup, NotebookContext, cells_context

__all__ = [
    "CHARS_PER_TOKEN",
    "FrameInfo",
    "PreparedPrompt",
    "build_messages",
    "estimate_tokens",
    "frame_budget_chars",
    "frame_to_text",
    "interpolate",
    "is_frame",
    "placeholders",
    "prepare_prompt",
    "render_value",
]

CHARS_PER_TOKEN = 4
#: Output room assumed when the cell sets no --max-tokens.
DEFAULT_OUTPUT_RESERVE = 1024
#: Tokens kept free for the estimate's error and the request's framing.
SAFETY_MARGIN_TOKENS = 256
#: Rough per-message framing cost (role, separators) added to each message's estimate.
MESSAGE_OVERHEAD_TOKENS = 4
#: routing.run keeps at most 50 non-system messages; history plus the new prompt stays under that.
MAX_HISTORY_MESSAGES = 48
#: `{frame}` budget for callers of `render_value` that know no context size.
DEFAULT_FRAME_CHARS = 20_000

# One pass, left to right: escaped braces first, then `{identifier}` and `{In[n]}`, `{Out[n]}`,
# `{Err[n]}` (notebook history); anything else is literal.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^\W\d]\w*)\}|\{(In|Out|Err)\[(-?\d+)\]\}")


def estimate_tokens(text: str) -> int:
    """Tokens `text` is assumed to cost: ceil(len / 4)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def interpolate(
    template: str,
    namespace: Mapping[str, object],
    *,
    render_value: Callable[[str, object], str],
    history: HistoryLookup | None = None,
) -> str:
    """Replace `{name}` for names in `namespace`; `{{`/`}}` are braces; the rest stays as written.

    Replaced text is never re-scanned, and only plain identifiers count: `{x.y}`, `{0}` and
    `{a b}` are left alone, so no attribute access or expression is ever evaluated.
    `{In[n]}`, `{Out[n]}` and `{Err[n]}` are filled by `history` when it knows them.
    """

    def replace(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if match.group(2) is not None:
            kind = cast(HistoryKind, match.group(2))
            found = history(kind, int(match.group(3))) if history is not None else None
            return token if found is None else found
        if name is None:
            return token[0]
        return render_value(name, namespace[name]) if name in namespace else token

    return _PLACEHOLDER.sub(replace, template)


def placeholders(template: str) -> list[str]:
    """The `{name}`s `template` uses, once each, in order (`{{`/`}}` escapes skipped)."""
    found = (m.group(1) for m in _PLACEHOLDER.finditer(template))
    return list(dict.fromkeys(n for n in found if n is not None))


def render_value(
    name: str, value: object, *, max_rows: int = DEFAULT_ROWS, max_chars: int = DEFAULT_FRAME_CHARS
) -> str:
    """Default `{name}` rendering: frames as `frame_to_text`, everything else as `str()`."""
    if is_frame(value):
        return frame_to_text(value, name=name, max_rows=max_rows, max_chars=max_chars)
    return text_of(name, value)


def text_of(name: str, value: object) -> str:
    """`str(value)`; a `__str__` that raises becomes one ConfigurationError line."""
    try:
        return str(value)
    except Exception as exc:  # the user's object: anything can come out of its __str__
        try:
            said = excerpt(f"{type(exc).__name__}: {exc}")
        except Exception:  # an exception whose own str() raises
            said = type(exc).__name__
        raise ConfigurationError(
            f"{{{name}}} could not be turned into text: str() raised {said}",
            hint=f"fix {type(value).__name__}.__str__, or interpolate a plain value",
        ) from None


def _output_reserve(max_tokens: int | None) -> int:
    return DEFAULT_OUTPUT_RESERVE if max_tokens is None else max_tokens


def _message_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    return sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in messages)


def _exchanges(history: Sequence[Mapping[str, str]]) -> list[list[dict[str, str]]]:
    """History grouped so each group starts at a user message: trimming keeps pairs together."""
    groups: list[list[dict[str, str]]] = []
    for message in history:
        copy = {"role": str(message["role"]), "content": str(message["content"])}
        if copy["role"] == "user" or not groups:
            groups.append([copy])
        else:
            groups[-1].append(copy)
    return groups


def build_messages(
    prompt: str,
    *,
    system: str | None = None,
    history: Sequence[Mapping[str, str]] = (),
    context_tokens: int,
    max_tokens: int | None,
) -> list[dict[str, str]]:
    """System first, then as much recent history as fits, then the user's prompt.

    Whole exchanges are dropped oldest first until everything fits the context minus the
    output reserve, and at most MAX_HISTORY_MESSAGES remain. The prompt itself is never cut.
    """
    fixed = [{"role": "system", "content": system}] if system else []
    user = {"role": "user", "content": prompt}
    groups = _exchanges(history)
    limit = context_tokens - _output_reserve(max_tokens) - _message_tokens([*fixed, user])
    kept = sum(len(g) for g in groups)
    spent = sum(_message_tokens(g) for g in groups)
    while groups and (kept > MAX_HISTORY_MESSAGES or spent > limit):
        dropped = groups.pop(0)
        kept -= len(dropped)
        spent -= _message_tokens(dropped)
    return [*fixed, *(m for g in groups for m in g), user]


def frame_budget_chars(*, context_tokens: int, max_tokens: int | None, other_text: str) -> int:
    """Characters left for dataframe text once the output, other text and a margin are set aside."""
    reserve = _output_reserve(max_tokens) + estimate_tokens(other_text) + SAFETY_MARGIN_TOKENS
    return max(0, (context_tokens - reserve) * CHARS_PER_TOKEN)


@dataclass(frozen=True)
class PreparedPrompt:
    """What a cell sends: the messages, the user's text, and the frames it shows."""

    messages: list[dict[str, str]]
    user_text: str
    frames: list[FrameInfo]
    #: history messages left out to fit the context (the caller may say so)
    history_dropped: int = 0


def _frame_references(template: str, namespace: Mapping[str, object]) -> list[str]:
    """Names of frames interpolated by `template`, once per occurrence, in order."""
    return [
        name
        for match in _PLACEHOLDER.finditer(template)
        if (name := match.group(1)) is not None and name in namespace and is_frame(namespace[name])
    ]


def check_rows(rows: int) -> None:
    """The one check of `--rows`, for a cell and a batch alike."""
    if rows < 1:
        raise ConfigurationError(f"--rows {rows}: show at least 1 row (e.g. --rows 50)")


def _check_df(df_name: str | None, rows: int, namespace: Mapping[str, object]) -> None:
    check_rows(rows)
    if df_name is None:
        return
    if df_name not in namespace:
        raise ConfigurationError(f"--df {df_name}: no variable named '{df_name}' in the notebook")
    value = namespace[df_name]
    if not is_frame(value):
        kind = type(value).__name__
        raise ConfigurationError(
            f"--df {df_name}: {df_name} is a {kind}, not a pandas/polars DataFrame or Series"
        )


def _fit_frames(
    names: list[str], namespace: Mapping[str, object], rows: int, budget: int
) -> dict[str, tuple[str, FrameInfo]]:
    """Each distinct frame fitted once to an even share of the budget per occurrence."""
    share = budget // len(names) if names else 0
    return {
        name: fit_frame(namespace[name], name=name, max_rows=rows, max_chars=share)
        for name in dict.fromkeys(names)
    }


def prepare_prompt(
    template: str,
    namespace: Mapping[str, object],
    *,
    df_name: str | None,
    rows: int,
    context_tokens: int,
    max_tokens: int | None,
    system: str | None,
    history: Sequence[Mapping[str, str]] = (),
    notebook: NotebookContext | None = None,
) -> PreparedPrompt:
    """The cell's messages: `{name}` filled in, `--df` appended, frames (and `--cells`) fitted
    to what the system prompt and the cell's text leave free; then older history gives way."""
    _check_df(df_name, rows, namespace)
    plain = _PlainValues()
    lookup = notebook.lookup if notebook is not None else None
    filled = interpolate(template, namespace, render_value=plain, history=lookup)
    references = _frame_references(template, namespace) + ([df_name] if df_name else [])
    budget = frame_budget_chars(
        context_tokens=context_tokens, max_tokens=max_tokens, other_text=(system or "") + filled
    )
    context = _cells_text(notebook, budget // 2 if references else budget)
    fitted = _fit_frames(references, namespace, rows, budget - len(context))

    def render(name: str, value: object) -> str:
        return fitted[name][0] if name in fitted else plain(name, value)

    text = interpolate(template, namespace, render_value=render, history=lookup).strip()
    user_text = _user_message(context, text, fitted[df_name][0] if df_name else "")
    messages = build_messages(
        user_text, system=system, history=history,
        context_tokens=context_tokens, max_tokens=max_tokens,
    )  # fmt: skip
    dropped = len(history) - (len(messages) - 1 - (1 if system else 0))
    return PreparedPrompt(messages, user_text, [info for _, info in fitted.values()], dropped)


def _cells_text(notebook: NotebookContext | None, budget: int) -> str:
    """`--cells` context (half the budget when frames share it), or ''."""
    return cells_context(notebook.cells, budget) if notebook and notebook.cells else ""


def _user_message(context: str, text: str, frame_text: str) -> str:
    """The `--cells` context, the cell's text, then the `--df` frame; never empty."""
    body = "\n\n".join(part for part in (text, frame_text) if part)
    if not body:
        raise ConfigurationError("the cell is empty: write a prompt below %%route")
    return f"{context}\n\n{body}" if context else body


class _PlainValues:
    """`{name}` as `str(value)`, each name rendered once; frames as nothing (fitted later)."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, name: str, value: object) -> str:
        if is_frame(value):
            return ""
        if name not in self._cache:
            self._cache[name] = text_of(name, value)
        return self._cache[name]
