"""A notebook function's signature → the JSON schema of an OpenAI-style tool (pure).

Supported hints: str, int, float, bool, list / list[X], dict, Literal[...], Optional[X] (X | None)
and Annotated[X, "description"]; a parameter without a hint takes any JSON value. Anything
else (a DataFrame, *args, a positional-only parameter) is refused with a one-line error naming
the parameter, before any request is made.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ..api.errors import ConfigurationError

JsonSchema = dict[str, Any]
#: How a tool message says the call failed; the emulator's demo answers read it by this prefix.
TOOL_ERROR_PREFIX = "Error:"

_SCALARS: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_UNIONS = (Union, types.UnionType)


class UnsupportedHint(ValueError):
    """A type hint that has no JSON schema here."""


def hint_schema(hint: object) -> JsonSchema:
    """The JSON schema of one type hint; raises UnsupportedHint."""
    if hint is inspect.Parameter.empty or hint is Any:
        return {}
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        schema = hint_schema(args[0])
        notes = [a for a in args[1:] if isinstance(a, str)]
        return {**schema, "description": " ".join(notes)} if notes else schema
    if origin in _UNIONS:
        kept = [a for a in args if a is not type(None)]
        if len(kept) == 1:
            return hint_schema(kept[0])  # Optional[X]: null is never sent, the default applies
        raise UnsupportedHint(f"the union {_name(hint)}")
    if origin is Literal:
        if not all(isinstance(a, (str, int, float, bool)) for a in args):
            raise UnsupportedHint(f"{_name(hint)} (only str, int, float and bool literals)")
        return {"enum": list(args)}
    if hint in (list, tuple, set) or origin in (list, tuple, set, frozenset):
        item = args[0] if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis) else None
        items = hint_schema(item) if item is not None else {}
        return {"type": "array", **({"items": items} if items else {})}
    if hint is dict or origin is dict:
        return {"type": "object"}
    if isinstance(hint, type) and hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    raise UnsupportedHint(_name(hint))


def _name(hint: object) -> str:
    return getattr(hint, "__name__", None) or repr(hint).replace("typing.", "")


def description(func: Callable[..., object]) -> str:
    """The docstring's first paragraph, on one line."""
    doc = inspect.getdoc(func) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def tool_schema(name: str, func: Callable[..., object]) -> JsonSchema:
    """The `tools` entry for `func`; ConfigurationError names a parameter it cannot describe."""
    try:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigurationError(
            f"--tools {name}: its signature cannot be read ({exc})",
            hint="give it a plain `def` with type hints",
        ) from None
    properties: dict[str, JsonSchema] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        properties[param.name] = _parameter_schema(name, param, hints)
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    parameters: JsonSchema = {"type": "object", "properties": properties, "required": required}
    function: JsonSchema = {"name": name, "parameters": parameters}
    if description(func):
        function["description"] = description(func)
    return {"type": "function", "function": function}


def _parameter_schema(name: str, param: inspect.Parameter, hints: dict[str, object]) -> JsonSchema:
    where = f"--tools {name}: parameter `{param.name}`"
    if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
        raise ConfigurationError(
            f"{where} cannot be passed by name ({param})",
            hint="tools are called with keyword arguments; use plain named parameters",
        )
    try:
        schema = hint_schema(hints.get(param.name, inspect.Parameter.empty))
    except UnsupportedHint as exc:
        raise ConfigurationError(
            f"{where} has a type the model cannot send: {exc}",
            hint="use str, int, float, bool, list, dict, Literal or Optional of those",
        ) from None
    if param.default is not inspect.Parameter.empty and _json_default(param.default):
        schema = {**schema, "default": param.default}
    return schema


def _json_default(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
