"""Structured answers (`--schema`): one object that matches the schema the request carries.

The two ways prompt/schema.py asks, found by its constants:

    tool path   `tools` offers ANSWER_TOOL and `tool_choice` forces it → one call of it, whose
                arguments are the object (this wins over the `--tools` demo calls in tools.py)
    text path   a system message holds SCHEMA_HEADING, then the schema in a ```json block →
                the object as the whole answer, in a ```json fence as models often write it

A repair turn (REPAIR_HEADING in the last tool or user message) is answered the same way: the
values come from the last user message that is not a repair, so the object is the one a first
answer would have been. A careless answer (the `invalid_structured` fault) spoils the object:
a number or boolean field says "n/a", the last required field is left out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..prompt.schema import ANSWER_TOOL, REPAIR_HEADING, SCHEMA_HEADING
from .fill import fill, resolve, type_of
from .tools import ToolCall
from .words import source_of

Message = Mapping[str, Any]
_FENCED_SCHEMA = re.compile(r"```json[ \t]*\n(.*?)\n```", re.DOTALL)
_SPOILABLE = frozenset({"number", "integer", "boolean", "null"})


@dataclass(frozen=True)
class Task:
    """What a structured request asks: the schema, the path, the prompt and any repair."""

    schema: Mapping[str, Any]
    via_tool: bool
    prompt: str
    problem: str  # a repair turn's first listed problem; "" for a first answer
    turn: int  # the assistant messages so far, so each turn's call gets its own id


def _text(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, Mapping)]
        return "".join(p for p in parts if isinstance(p, str))
    return content if isinstance(content, str) else ""


def forced_schema(tools: Sequence[Any], tool_choice: Any) -> Mapping[str, Any] | None:
    """The parameters of ANSWER_TOOL when `tool_choice` forces it and `tools` offers it."""
    if not isinstance(tool_choice, Mapping):
        return None
    if (tool_choice.get("function") or {}).get("name") != ANSWER_TOOL:
        return None
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and function.get("name") == ANSWER_TOOL:
            parameters = function.get("parameters")
            return parameters if isinstance(parameters, Mapping) else {"type": "object"}
    return None


def text_schema(messages: Sequence[Message]) -> Mapping[str, Any] | None:
    """The schema fenced after SCHEMA_HEADING in the last system message holding one."""
    for message in reversed(messages):
        text = _text(message)
        if message.get("role") not in ("system", "developer") or SCHEMA_HEADING not in text:
            continue
        found = _FENCED_SCHEMA.search(text, text.rindex(SCHEMA_HEADING))
        try:
            schema = json.loads(found.group(1)) if found else None
        except (ValueError, RecursionError):
            return None
        return schema if isinstance(schema, Mapping) else None
    return None


def find_task(messages: Sequence[Message], tools: Sequence[Any], tool_choice: Any) -> Task | None:
    """The structured task a request asks for, or None when it asks for none."""
    schema = forced_schema(tools, tool_choice)
    via_tool = schema is not None
    schema = schema if via_tool else text_schema(messages)
    if schema is None:
        return None
    users = [_text(m) for m in messages if m.get("role") == "user"]
    prompts = [u for u in users if REPAIR_HEADING not in u]
    last = _text(messages[-1]) if messages else ""
    problem = ""
    if REPAIR_HEADING in last:
        lines = last.split(REPAIR_HEADING, 1)[1].strip().splitlines()
        problem = lines[0].lstrip("- ").strip() if lines else ""
        problem = problem or "it did not match"
    turn = sum(m.get("role") == "assistant" for m in messages)
    return Task(schema, via_tool, prompts[-1] if prompts else "", problem, turn)


def asks_for_structure(messages: Sequence[Message], tools: Sequence[Any], tool_choice: Any) -> bool:
    return find_task(messages, tools, tool_choice) is not None


def reply(task: Task, careless: bool = False) -> tuple[str, str, tuple[ToolCall, ...]]:
    """(content, reasoning, tool calls) answering `task`; `careless` spoils the object."""
    value = fill(task.schema, source_of(task.prompt))
    if careless:
        value = spoil(value, task.schema)
    thoughts = reasoning(task, value)
    if task.via_tool:
        arguments = json.dumps(value, ensure_ascii=False)
        seed = f"{ANSWER_TOOL}·{task.turn}·{arguments}".encode()
        call_id = f"call_{hashlib.sha256(seed).hexdigest()[:24]}"
        return "", thoughts, (ToolCall(call_id, ANSWER_TOOL, arguments),)
    body = json.dumps(value, ensure_ascii=False, indent=2)
    return f"```json\n{body}\n```", thoughts, ()


def reasoning(task: Task, value: Any) -> str:
    fields = ", ".join(f"`{k}`" for k in value) if isinstance(value, dict) else "the value"
    how = f"through the `{ANSWER_TOOL}` tool" if task.via_tool else "as one JSON object"
    if task.problem:
        return (
            f"My last answer did not match the schema ({task.problem}). I'll answer {how} "
            f"again with every field of the right type: {fields}."
        )
    prompt = " ".join(task.prompt.split())
    gist = prompt if len(prompt) <= 80 else prompt[:79] + "…"
    return f"The user wants {fields} for “{gist}”, answered {how}, so I'll read each from it."


def spoil(value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` made invalid the way careless models do: "n/a" for a number, a field left out."""
    schema = resolve(schema, schema)  # a recursive pydantic model's root is a $ref
    properties = schema.get("properties")
    if not isinstance(value, dict) or not isinstance(properties, Mapping):
        return "n/a"  # not even an object: no schema of this kind accepts it
    required = [r for r in schema.get("required") or () if r in value]
    numeric = [
        n for n in sorted(value, key=lambda n: n not in required)
        if isinstance(properties.get(n), Mapping) and _spoilable(properties[n])
    ]  # fmt: skip
    spoilt = dict(value)
    if numeric:
        spoilt[numeric[0]] = "n/a"
    missing = [r for r in required if r not in numeric[:1]]
    if missing:
        del spoilt[missing[-1]]
    return spoilt if numeric or missing else "n/a"


def _spoilable(field: Mapping[str, Any]) -> bool:
    """Whether the string "n/a" breaks `field`: every type it allows is not a string."""
    choices = field.get("anyOf") or field.get("oneOf") or [field]
    kinds: set[str | None] = set()
    for choice in choices if isinstance(choices, list) else [field]:
        if not isinstance(choice, Mapping) or "$ref" in choice or "enum" in choice:
            return False
        kind = choice.get("type")
        kinds.update(kind if isinstance(kind, list) else [type_of(choice)])
    return bool(kinds) and kinds <= _SPOILABLE and "const" not in field
