"""Structured answers (`--schema`): ask for a schema, read the answer, validate it, repair once.

The model is asked through one function it must call (the tool path) or through the system
message (the text path); `via_for` picks per route. The answer is read from that call's
arguments or from the first JSON object of the text (fenced or bare), then validated: pydantic
for pydantic models, dataclasses and TypedDicts, jsonschema for JSON Schema dicts and concise
specs. An answer that does not validate gets a bounded number of repair turns: the conversation,
the answer and the errors, asking for a corrected object. Nothing else is guessed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ..api import errors
from ..api.models import ChatRequest, Completion
from ..prompt.schema import (
    ANSWER_TOOL,
    Schema,
    answer_tool,
    forced_choice,
    repair_text,
    schema_from_spec,
    schema_instruction,
    schema_of,
)

Via = Literal["auto", "tool", "text"]
#: Repair turns after an answer that does not match, when the cell does not say.
DEFAULT_REPAIRS = 1
#: Most validation errors quoted back to the model in a repair turn.
PROBLEMS_QUOTED = 8
_FENCED = re.compile(r"```(?:json|JSON)?\s*\n(.*?)\n\s*```", re.S)


@dataclass(frozen=True)
class StructuredUse:
    """One cell's schema, the way it asks for it, and how many repair turns it allows."""

    schema: Schema
    via: Via = "auto"  # resolved per route by `for_route` before anything is sent
    repairs: int = DEFAULT_REPAIRS

    def for_route(self, takes_tools: bool) -> StructuredUse:
        """`auto` becomes the tool path where the route takes tools, else the text path."""
        if self.via != "auto":
            return self
        return replace(self, via="tool" if takes_tools else "text")

    def cache_format(self) -> str:
        """What the answers cache keys on besides the request: the schema and the path."""
        return f"schema:{self.via}:{self.schema.key()}"


@dataclass(frozen=True)
class Verdict:
    """An answer checked: the validated object, the raw JSON it came from, or the problems."""

    data: Any = None
    raw: Any = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def structured_use(spec: object, namespace: Mapping[str, object]) -> StructuredUse:
    """A Python face's `schema=`: a spec string (a notebook name or a concise spec), or the
    schema object itself."""
    if isinstance(spec, str):
        return StructuredUse(schema_from_spec(spec, namespace))
    return StructuredUse(schema_of(spec, getattr(spec, "__name__", "schema")))


def ask_with(request: ChatRequest, use: StructuredUse) -> ChatRequest:
    """`request` asking for the schema: the forced tool, or the instruction in the system."""
    if use.via == "tool":
        params = {**request.params, "tools": [answer_tool(use.schema)],
                  "tool_choice": forced_choice()}  # fmt: skip
        return replace(request, params=params)
    instruction = schema_instruction(use.schema)
    messages = [dict(m) for m in request.messages]
    if messages and messages[0].get("role") == "system":
        messages[0]["content"] = f"{messages[0].get('content') or ''}\n\n{instruction}".strip()
    else:
        messages.insert(0, {"role": "system", "content": instruction})
    return replace(request, messages=messages)


def check(use: StructuredUse, done: Completion) -> Verdict:
    """Read the answer's object and validate it against the schema."""
    raw, problem = read_object(done)
    if problem is not None:
        return Verdict(problems=(problem,))
    data, problems = validate(use.schema, raw)
    return Verdict(data, raw, tuple(problems))


def read_object(done: Completion) -> tuple[Any, str | None]:
    """The answer's JSON object: the answer tool's arguments, else the text's first object."""
    calls = [c for c in done.tool_calls if c.name == ANSWER_TOOL] or done.tool_calls
    sources = [calls[0].arguments] if calls else []
    sources += [m.group(1) for m in _FENCED.finditer(done.text)] + [done.text]
    for source in sources:
        value = _first_object(source)
        if value is not None:
            return value, None
    return None, "the answer holds no JSON object"


def _first_object(text: str) -> dict[str, Any] | None:
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text, start)
        except (ValueError, RecursionError):
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else None
    return None


def validate(schema: Schema, raw: Any) -> tuple[Any, list[str]]:
    """(the object, []) when `raw` matches; (None, the problems, path first) when not."""
    if schema.target is not None:
        return _validate_pydantic(schema.target, raw)
    found = sorted(_json_validator(schema.key()).iter_errors(raw), key=str)
    problems = [f"{_path(e.absolute_path) or 'the object'}: {e.message}" for e in found]
    return (None, problems) if problems else (raw, [])


@functools.lru_cache(maxsize=64)
def _adapter(target: Any) -> Any:
    """pydantic's validator for `target`, built once (building costs far more than using)."""
    from pydantic import TypeAdapter

    return TypeAdapter(target)


@functools.lru_cache(maxsize=64)
def _json_validator(schema_text: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_text))


def _validate_pydantic(target: Any, raw: Any) -> tuple[Any, list[str]]:
    from pydantic import ValidationError

    try:
        return _adapter(target).validate_python(raw), []
    except ValidationError as exc:
        return None, [f"{_path(e['loc']) or 'the object'}: {e['msg']}" for e in exc.errors()]


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


def repair_messages(use: StructuredUse, done: Completion, verdict: Verdict) -> list[dict[str, Any]]:
    """The answer as the model gave it, then the problems: the next turn's new messages."""
    text = repair_text(list(verdict.problems[:PROBLEMS_QUOTED]))
    calls = [c for c in done.tool_calls if c.name == ANSWER_TOOL]
    if use.via == "tool" and calls:
        call = calls[0]
        wire = {"id": call.id or "call_0", "type": "function",
                "function": {"name": call.name, "arguments": call.arguments}}  # fmt: skip
        return [
            {"role": "assistant", "content": done.text or None, "tool_calls": [wire]},
            {"role": "tool", "tool_call_id": call.id or "call_0", "content": text},
        ]
    return [{"role": "assistant", "content": done.text}, {"role": "user", "content": text}]


def mismatch(use: StructuredUse, verdict: Verdict) -> errors.RoutingError:
    """The one-line failure of an answer still not matching after its repair turns."""
    turns = f"after {use.repairs} repair turn" + ("" if use.repairs == 1 else "s")
    return errors.RoutingError(
        f"the answer does not match {use.schema.label} {turns}: {verdict.problems[0]}",
        hint="the raw answer is kept in -o's .text; try another route or a simpler schema",
        code="SCHEMA_MISMATCH",
    )


def canonical_text(raw: Any) -> str:
    """The validated object's JSON, as the answers cache keeps a structured answer."""
    return json.dumps(raw, ensure_ascii=False, sort_keys=True)
