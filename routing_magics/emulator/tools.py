"""Tool calling: call the first offered tool with arguments read from the user's text."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_WORD_RE = re.compile(r"[A-Za-z][\w'’-]*")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


def _function(tool: Any) -> Mapping[str, Any] | None:
    if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping):
        function = tool["function"]
        return function if isinstance(function.get("name"), str) else None
    return None


def chosen_function(tools: Sequence[Any], tool_choice: Any) -> Mapping[str, Any] | None:
    """The tool to call: the one `tool_choice` names, else the first; None for 'none'."""
    if tool_choice == "none":
        return None
    functions = [f for f in map(_function, tools) if f is not None]
    if isinstance(tool_choice, Mapping):
        wanted = (tool_choice.get("function") or {}).get("name")
        functions = [f for f in functions if f["name"] == wanted] or functions
    return functions[0] if functions else None


def proper_noun(text: str) -> str | None:
    """The first capitalised word that is not the text's first word, with the ones after it."""
    words = [(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    for i, (word, start, _) in enumerate(words[1:], start=1):
        if word[0].isupper() and word != "I":
            end = words[i][2]
            for nxt, nxt_start, nxt_end in words[i + 1 :]:
                gap = text[end:nxt_start]
                if not nxt[0].isupper() or gap != " ":
                    break
                end = nxt_end
            return text[start:end].rstrip("'’")
    return None


def argument_value(schema: Mapping[str, Any], text: str) -> Any:
    """A value for one property of the tool's parameter schema, taken from `text`."""
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    number = _NUMBER_RE.search(text)
    if kind == "integer":
        return int(float(number.group())) if number else 1
    if kind == "number":
        return float(number.group()) if number else 1.0
    if kind == "boolean":
        return True
    if kind in ("array", "object"):
        return [] if kind == "array" else {}
    return proper_noun(text) or " ".join(text.split())[:100]


def plan_tool_call(tools: Sequence[Any], tool_choice: Any, user_text: str) -> ToolCall | None:
    """A call of the chosen tool with each required property filled from `user_text`."""
    function = chosen_function(tools, tool_choice)
    if function is None:
        return None
    parameters = function.get("parameters")
    parameters = parameters if isinstance(parameters, Mapping) else {}
    properties = parameters.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = [r for r in parameters.get("required") or () if isinstance(r, str)]
    arguments = {name: argument_value(properties.get(name) or {}, user_text) for name in required}
    encoded = json.dumps(arguments, ensure_ascii=False)
    digest = hashlib.sha256(f"{function['name']}{encoded}".encode()).hexdigest()
    return ToolCall(id=f"call_{digest[:24]}", name=function["name"], arguments=encoded)


def tool_call_reasoning(call: ToolCall, question: str) -> str:
    return (
        f"The user asks: “{question}”. The `{call.name}` tool can answer this better than I "
        f"can from memory, so I'll call it with {call.arguments} and answer once it returns."
    )


def _tool_name(messages: Sequence[Mapping[str, Any]], call_id: Any) -> str:
    for message in messages:
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping) and call.get("id") == call_id:
                return str((call.get("function") or {}).get("name") or "tool")
    return "tool"


def describe_result(text: str) -> str:
    """A tool result in prose: a JSON object becomes 'key is value, …'."""
    try:
        value = json.loads(text)
    except ValueError:
        return " ".join(text.split())
    if isinstance(value, Mapping) and value:
        parts = [
            f"{k} is {json.dumps(v) if isinstance(v, (dict, list)) else v}"
            for k, v in value.items()
        ]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return " ".join(text.split())


def answer_from_tool_result(
    messages: Sequence[Mapping[str, Any]], question: str
) -> tuple[str, str]:
    """(prose answer, reasoning) when the last message carries a tool's result."""
    last = messages[-1]
    content = last.get("content")
    text = content if isinstance(content, str) else json.dumps(content)
    name = _tool_name(messages, last.get("tool_call_id"))
    answer = f"According to `{name}`, {describe_result(text)}. That answers “{question}”."
    thoughts = (
        f"The `{name}` tool has returned its result. I'll answer the user's question "
        f"“{question}” in plain prose from that result, without calling the tool again."
    )
    return answer, thoughts
