"""The notebook functions a model may call (`--tools f,g`): their schemas, and running one call.

A call runs in the kernel, in the user's namespace, as `func(**arguments)`. Its result goes
back to the model as `str(value)`, cut to RESULT_CHARS with a note; an exception goes back as
its one line (type and message, no traceback). Nothing a call does can end the loop except
Ctrl-C, which stops it like any answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..api import errors
from ..api.models import ToolCall
from ..display.protocols import ToolCallInfo, ToolState, View
from ..prompt.tool_schema import TOOL_ERROR_PREFIX, JsonSchema, tool_schema

RESULT_CHARS = 4_000
ERROR_CHARS = 300
ARGUMENT_CHARS = 60
#: Deepest `[`/`{` nesting of a call's arguments; deeper ones fail that call (no function's
#: arguments need more, and decoding thousands of levels raises RecursionError).
MAX_ARGUMENT_DEPTH = 32
#: Asks the user a yes/no question (`--confirm`); True runs the call.
Confirm = Callable[[str], bool]


@dataclass
class ToolCallRecord(ToolCall):
    """A call the model asked for and what came of it; `-o` results list these in order."""

    kwargs: dict[str, Any] = field(default_factory=dict)  # the arguments, decoded
    result: str | None = None  # what the model was sent back, when the call ran
    error: str | None = None  # the error's one line, or why it did not run
    step: int = 0

    @property
    def label(self) -> str:
        return call_label(self.name, self.kwargs, self.arguments)


def call_label(
    name: str, kwargs: Mapping[str, Any] | None, raw: str = "", limit: int = ARGUMENT_CHARS
) -> str:
    """The call as Python would read it: `rows_where(city="Oslo", min_amount=50)`, each value
    cut to `limit` characters (0: whole, as --confirm shows it)."""
    limit = limit or len(raw) + sum(len(_literal(v)) for v in (kwargs or {}).values())
    if kwargs is None:
        return f"{name}({_cut(raw, limit)})"
    shown = ", ".join(f"{key}={_cut(_literal(value), limit)}" for key, value in kwargs.items())
    return f"{name}({shown})"


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def capped_result(value: object) -> str:
    """`str(value)`, cut to RESULT_CHARS with a note that says so."""
    text = str(value)
    if len(text) <= RESULT_CHARS:
        return text
    note = f"cut: the result has {len(text):,} characters, the first {RESULT_CHARS:,} are shown"
    return f"{text[:RESULT_CHARS]}\n… ({note})"


def error_line(exc: BaseException) -> str:
    """`ValueError: no such city`: type and the message's first line, no traceback."""
    message = str(exc).strip().split("\n", 1)[0]
    return _cut(f"{type(exc).__name__}: {message}" if message else type(exc).__name__, ERROR_CHARS)


class Toolbox:
    """Named notebook functions, described once per cell, called on the model's request."""

    def __init__(self, functions: Mapping[str, Callable[..., object]]) -> None:
        self.functions = dict(functions)
        self.schemas: list[JsonSchema] = [tool_schema(n, f) for n, f in self.functions.items()]

    @classmethod
    def from_namespace(cls, names: Sequence[str], namespace: Mapping[str, object]) -> Toolbox:
        """The functions `names` name in the notebook; ConfigurationError for any that is not."""
        found: dict[str, Callable[..., object]] = {}
        for name in names:
            value = namespace.get(name)
            if not callable(value):
                kind = type(value).__name__
                article = "an" if kind[:1].lower() in "aeiou" else "a"
                what = "nothing" if name not in namespace else f"{article} {kind}"
                raise errors.ConfigurationError(
                    f"--tools {name}: the notebook has {what} by that name, not a function",
                    hint="define the function in a cell above, then name it in --tools",
                )
            found[name] = value
        return cls(found)

    def run(
        self, call: ToolCall, *, step: int, index: int, view: View, confirm: Confirm | None,
        clean: Callable[[str], str] = str,
    ) -> ToolCallRecord:  # fmt: skip
        """Run one call (asking first under --confirm), drawing its block as it goes; `clean`
        takes credentials out of what the call returned or raised before it is shown or sent."""
        decoded = _decode(call.arguments)
        kwargs = decoded if isinstance(decoded, dict) else None
        record = ToolCallRecord(call.id, call.name, call.arguments, kwargs or {}, step=step)
        label = call_label(call.name, kwargs, call.arguments)

        def draw(state: ToolState, text: str = "") -> None:
            view.tool_call(ToolCallInfo(index, step, label, state, text))

        draw("running")
        func = self.functions.get(call.name)
        if func is None or kwargs is None:
            record.error = (
                f"no tool named {call.name!r}; the tools are {', '.join(self.functions)}"
                if func is None
                else str(decoded)
            )
            draw("failed", record.error)
        elif confirm is not None and not confirm(f"Run {call_label(call.name, kwargs, limit=0)}?"):
            record.error = "the user declined to run this call"
            draw("declined", record.error)
        else:
            try:
                record.result = clean(capped_result(func(**kwargs)))
            except Exception as exc:  # the tool's failure goes to the model, not up the cell
                record.error = clean(error_line(exc))
                draw("failed", record.error)
            else:
                draw("done", record.result)
        return record


def refused(call: ToolCall, *, step: int, asked: int, bound: int) -> ToolCallRecord:
    """A call not run because its turn asked for more than `bound` calls."""
    why = (f"not run: this turn asked for {asked:,} calls and at most {bound} run in one "
           "turn; ask again for the ones still needed")  # fmt: skip
    return ToolCallRecord(call.id, call.name, call.arguments, error=why, step=step)


def _decode(arguments: str) -> dict[str, Any] | str:
    """The arguments as keyword arguments, or the line that says why they are not."""
    if _nested_too_deep(arguments):
        return (f"the arguments are nested deeper than {MAX_ARGUMENT_DEPTH} levels; send "
                "them flatter")  # fmt: skip
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    return f"the arguments are not a JSON object: {_cut(arguments, 200)}"


def _nested_too_deep(text: str) -> bool:
    """Whether `[`/`{` nest deeper than MAX_ARGUMENT_DEPTH, strings skipped: counted, not
    parsed, since parsing is what such a text breaks."""
    if text.count("[") + text.count("{") <= MAX_ARGUMENT_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_ARGUMENT_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def tool_message(record: ToolCallRecord) -> dict[str, Any]:
    """The `role: tool` message that carries a call's result (or its error) to the model."""
    content = record.result if record.result is not None else f"{TOOL_ERROR_PREFIX} {record.error}"
    return {"role": "tool", "tool_call_id": record.id, "content": content}


def assistant_message(text: str, calls: Sequence[ToolCall]) -> dict[str, Any]:
    """The model's turn that asked for `calls`, as it goes back in the next request."""
    wire = [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in calls
    ]
    return {"role": "assistant", "content": text or None, "tool_calls": wire}
