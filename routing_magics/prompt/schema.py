"""`--schema SPEC` → a `Schema`: the JSON Schema a model is asked to fill, and the kind of object
the validated answer becomes (pure; pydantic is imported only for pydantic-like specs).

A SPEC is the name of a notebook object — a pydantic model class, a dataclass, a `TypedDict`, or
a dict holding a JSON Schema — or a concise spec in llm's syntax: fields separated by commas or
newlines, each `name [type][: description]`, the type `str` (default), `int`, `float` or `bool`.

The model is asked either through one function it must call (`ANSWER_TOOL`, for routes that
take tools) or through the system message (`SCHEMA_HEADING` then the schema in a fenced block).
The emulator reads both by these constants, so their wording lives here once.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, is_typeddict

from ..api.errors import ConfigurationError

SchemaKind = Literal["pydantic", "dataclass", "typeddict", "json schema", "concise"]
JsonSchema = dict[str, Any]

#: The one function a model is told to call with the answer's fields (the tool path).
ANSWER_TOOL = "record_answer"
ANSWER_TOOL_DESCRIPTION = "Record the answer as structured fields. Call it exactly once."
#: The system message's instruction (the text path); the schema follows in a ```json block.
SCHEMA_HEADING = "Answer with one JSON object that matches this JSON Schema, and nothing else:"
#: What a repair turn says before the validation errors.
REPAIR_HEADING = "That answer did not match the schema:"
REPAIR_ASK = "Answer again with one corrected object."

_CONCISE_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
_CONCISE_FIELD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*([A-Za-z]+)?\s*(?::\s*(.*))?$")


@dataclass(frozen=True)
class Schema:
    """What `--schema` asks for: a JSON Schema, its kind, and the class answers become."""

    kind: SchemaKind
    json_schema: JsonSchema
    target: object = None  # the pydantic model, dataclass or TypedDict; None for dict answers
    label: str = ""  # how the cell names it: the notebook name, or "the concise spec"

    @property
    def fields(self) -> list[str]:
        return list(self.json_schema.get("properties", {}))

    def key(self) -> str:
        """A stable text of the schema, for the answers cache's key."""
        return json.dumps(self.json_schema, sort_keys=True, ensure_ascii=False)


def schema_from_spec(spec: str, namespace: Mapping[str, object]) -> Schema:
    """The schema `spec` names or spells; ConfigurationError (one line) for anything else."""
    text = spec.strip()
    if text.isidentifier() and text in namespace:
        return schema_of(namespace[text], text)
    if text.isidentifier() and text not in _CONCISE_TYPES and "," not in text:
        found = "nothing" if text not in namespace else type(namespace[text]).__name__
        raise ConfigurationError(
            f"--schema {text}: the notebook has {found} by that name",
            hint="name a pydantic model, dataclass, TypedDict or JSON Schema dict, or quote a "
            'concise spec such as "name, age int, bio: a short bio" (one field: "name str")',
        )
    return Schema("concise", concise_schema(text), label="the concise spec")


def schema_of(value: object, name: str) -> Schema:
    """The schema of a notebook object; ConfigurationError naming what it found instead."""
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return Schema("pydantic", value.model_json_schema(), value, name)
    if isinstance(value, type) and (dataclasses.is_dataclass(value) or is_typeddict(value)):
        kind: SchemaKind = "dataclass" if dataclasses.is_dataclass(value) else "typeddict"
        target = _portable_typeddict(value) if kind == "typeddict" else value
        return Schema(kind, _adapter_schema(target, name), target, name)
    if isinstance(value, dict) and value.get("type") == "object":
        _check_json_schema(value, name)
        return Schema("json schema", dict(value), None, name)
    raise ConfigurationError(
        f"--schema {name}: {name} is a {type(value).__name__}, not a schema",
        hint="give a pydantic model class, a dataclass, a TypedDict, or a dict holding a JSON "
        'Schema with "type": "object"',
    )


def _portable_typeddict(value: type) -> type:
    """`typing.TypedDict` as pydantic reads it on every Python (before 3.12 it needs
    typing_extensions' own)."""
    from typing import get_type_hints

    import typing_extensions

    hints = get_type_hints(value, include_extras=True)
    total = getattr(value, "__total__", True)
    return typing_extensions.TypedDict(value.__name__, hints, total=total)  # type: ignore[operator]


def _adapter_schema(target: type, name: str) -> JsonSchema:
    from pydantic import TypeAdapter

    try:
        return TypeAdapter(target).json_schema()
    except Exception as exc:  # a field type with no JSON Schema, e.g. a DataFrame
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(
            f"--schema {name}: its fields have no JSON Schema ({first})",
            hint="use str, int, float, bool, lists, dicts, Literal or nested models as types",
        ) from None


def concise_schema(spec: str) -> JsonSchema:
    """llm's concise syntax → a JSON Schema whose every field is required."""
    properties: dict[str, JsonSchema] = {}
    parts = spec.split("\n") if "\n" in spec else spec.split(",")
    for part in (p for p in parts if p.strip()):
        match = _CONCISE_FIELD.match(part)
        kind = (match.group(2) or "str") if match else ""
        if match is None or kind not in _CONCISE_TYPES:
            raise ConfigurationError(
                f"--schema: cannot read the field {part.strip()!r}",
                hint="write fields as `name [str|int|float|bool][: description]`, separated by "
                "commas or new lines",
            )
        field: JsonSchema = {"type": _CONCISE_TYPES[kind]}
        if match.group(3):
            field["description"] = match.group(3).strip()
        properties[match.group(1)] = field
    if not properties:
        raise ConfigurationError("--schema: the spec names no field", hint='e.g. "name, age int"')
    return {"type": "object", "properties": properties, "required": list(properties)}


def answer_tool(schema: Schema) -> JsonSchema:
    """The tool the model must call with the answer (the tool path)."""
    function = {"name": ANSWER_TOOL, "description": ANSWER_TOOL_DESCRIPTION,
                "parameters": schema.json_schema}  # fmt: skip
    return {"type": "function", "function": function}


def forced_choice() -> JsonSchema:
    """`tool_choice` that makes the model call ANSWER_TOOL."""
    return {"type": "function", "function": {"name": ANSWER_TOOL}}


def schema_instruction(schema: Schema) -> str:
    """The system message's instruction (the text path), with the schema fenced."""
    body = json.dumps(schema.json_schema, indent=1, ensure_ascii=False)
    return f"{SCHEMA_HEADING}\n```json\n{body}\n```"


def repair_text(problems: list[str]) -> str:
    """What a repair turn tells the model: the validation errors, then the ask."""
    listed = "\n".join(f"- {p}" for p in problems)
    return f"{REPAIR_HEADING}\n{listed}\n{REPAIR_ASK}"


def _check_json_schema(value: Mapping[str, Any], name: str) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        raise ConfigurationError(
            f"--schema {name}: not a valid JSON Schema ({exc.message})",
            hint='fix the dict, e.g. {"type": "object", "properties": {"x": {"type": "string"}}}',
        ) from None
