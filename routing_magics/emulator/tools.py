"""Tool calling: call the offered tools in turn with arguments read from the user's text.

Each turn calls the first offered tool not yet called since the user's last message, so two
tools make a two-step loop; a text naming several places ("in Oslo and in Lima") gets one
call per name in the same turn. Once every tool has answered, the reply is made from their
results (an `Error: …` result is reported as the tool's failure).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..prompt.tool_schema import TOOL_ERROR_PREFIX

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


def proper_nouns(text: str, limit: int = 4) -> list[str]:
    """Distinct proper nouns of `text` in order (see proper_noun), at most `limit`."""
    found: list[str] = []
    rest = text
    while len(found) < limit:
        noun = proper_noun(rest)
        if noun is None:
            break
        if noun not in found:
            found.append(noun)
        rest = "x " + rest[rest.index(noun) + len(noun) :]  # "x": the next word is not first
    return found


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
        value = float(number.group()) if number else 1.0
        return int(value) if value.is_integer() else value
    if kind == "boolean":
        return True
    if kind in ("array", "object"):
        return [] if kind == "array" else {}
    return proper_noun(text) or " ".join(text.split())[:100]


def _arguments(function: Mapping[str, Any], user_text: str) -> list[dict[str, Any]]:
    """One argument set per proper noun for the first free-text string property, else one:
    every required property, and optional numbers the text holds."""
    parameters = function.get("parameters")
    parameters = parameters if isinstance(parameters, Mapping) else {}
    properties = parameters.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = [r for r in parameters.get("required") or () if isinstance(r, str)]
    number = _NUMBER_RE.search(user_text) is not None
    arguments: dict[str, Any] = {}
    for name, schema in properties.items():
        schema = schema if isinstance(schema, Mapping) else {}
        if name in required or (number and schema.get("type") in ("integer", "number")):
            arguments[name] = argument_value(schema, user_text)
    texts = [
        n for n in required
        if (properties.get(n) or {}).get("type") == "string" and "enum" not in properties[n]
    ]  # fmt: skip
    nouns = proper_nouns(user_text)
    if not texts or len(nouns) < 2:
        return [arguments]
    return [{**arguments, texts[0]: noun} for noun in nouns]


def _call(name: str, arguments: Mapping[str, Any]) -> ToolCall:
    encoded = json.dumps(arguments, ensure_ascii=False)
    digest = hashlib.sha256(f"{name}{encoded}".encode()).hexdigest()
    return ToolCall(id=f"call_{digest[:24]}", name=name, arguments=encoded)


def called_since_user(messages: Sequence[Mapping[str, Any]]) -> set[str]:
    """Names of the tools called since the user's last message."""
    names: set[str] = set()
    for message in reversed(messages):
        if message.get("role") == "user":
            break
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping):
                names.add(str((call.get("function") or {}).get("name")))
    return names


def plan_tool_call(tools: Sequence[Any], tool_choice: Any, user_text: str) -> ToolCall | None:
    """A call of the chosen tool with each required property filled from `user_text`."""
    function = chosen_function(tools, tool_choice)
    return None if function is None else _call(function["name"], _arguments(function, user_text)[0])


def plan_tool_calls(
    tools: Sequence[Any], tool_choice: Any, messages: Sequence[Mapping[str, Any]], user_text: str
) -> tuple[ToolCall, ...]:
    """This turn's calls: the first chosen tool not yet called since the user spoke."""
    called = called_since_user(messages)
    remaining = [
        t for t in tools if (_function(t) or {}).get("name") not in called
    ]  # fmt: skip
    if called and isinstance(tool_choice, Mapping):
        return ()  # the named tool has answered
    function = chosen_function(remaining, tool_choice) if remaining else None
    if function is None:
        return ()
    return tuple(_call(function["name"], a) for a in _arguments(function, user_text))


def tool_call_reasoning(calls: Sequence[ToolCall], question: str) -> str:
    args = " and ".join(c.arguments for c in calls)
    return (
        f"The user asks: “{question}”. The `{calls[0].name}` tool can answer this better than I "
        f"can from memory, so I'll call it with {args} and answer once it returns."
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


def _call_label(messages: Sequence[Mapping[str, Any]], call_id: Any) -> str:
    """`name(key="value", …)` for the call with `call_id`."""
    for message in messages:
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping) and call.get("id") == call_id:
                function = call.get("function") or {}
                try:
                    args = json.loads(function.get("arguments") or "{}")
                except ValueError:
                    args = {}
                shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in
                                  (args.items() if isinstance(args, dict) else ()))  # fmt: skip
                return f"{function.get('name') or 'tool'}({shown})"
    return "tool()"


def _results(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The tool messages since the user's last message, in order."""
    found: list[Mapping[str, Any]] = []
    for message in reversed(messages):
        if message.get("role") == "user":
            break
        if message.get("role") == "tool":
            found.insert(0, message)
    return found


def _result_line(messages: Sequence[Mapping[str, Any]], result: Mapping[str, Any]) -> str:
    content = result.get("content")
    text = content if isinstance(content, str) else json.dumps(content)
    label = _call_label(messages, result.get("tool_call_id"))
    if text.startswith(TOOL_ERROR_PREFIX):
        why = text.removeprefix(TOOL_ERROR_PREFIX).strip()
        return f"- `{label}` failed ({why}), so I cannot use it"
    return f"- `{label}` → {describe_result(text)}"


def answer_from_tool_result(
    messages: Sequence[Mapping[str, Any]], question: str
) -> tuple[str, str]:
    """(prose answer, reasoning) when the last messages carry tools' results."""
    results = _results(messages) or [messages[-1]]
    if len(results) == 1 and not str(results[0].get("content") or "").startswith(TOOL_ERROR_PREFIX):
        content = results[0].get("content")
        text = content if isinstance(content, str) else json.dumps(content)
        name = _tool_name(messages, results[0].get("tool_call_id"))
        answer = f"According to `{name}`, {describe_result(text)}. That answers “{question}”."
    else:
        lines = "\n".join(_result_line(messages, r) for r in results)
        answer = f"From the notebook's tools:\n\n{lines}\n\nThat answers “{question}”."
    thoughts = (
        f"The tools have returned {len(results)} result(s). I'll answer the user's question "
        f"“{question}” from them, without calling a tool again."
    )
    return answer, thoughts
