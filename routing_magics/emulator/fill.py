"""Values that conform to a JSON Schema, read from a prompt's words (pure, deterministic).

`fill(schema, source)` walks the schema: `$ref` into `$defs`/`definitions`, `allOf` merged,
`anyOf`/`oneOf` and type lists take their first non-null choice, `const` and `enum` are kept
to, numbers stay within `minimum`/`maximum`, strings within `minLength`/`maxLength`, arrays get
1–3 items within `minItems`/`maxItems`, objects every property; `default` serves a field with
nothing else to go on. Below `MAX_DEPTH` (a recursive model) only what is required is filled.

A field's name picks its wording (see `words.py`): summary-like → the text's first sentence,
title-like → its key words, name- or place-like → its first proper noun, sentiment-like → the
sentiment word list's verdict; score/rating/confidence → 0..1 as a number, 1..5 as an integer;
other numbers come from the text; a boolean says whether the text says it (urgent/asap/now for
urgency, the rest of `is_…`/`has_…` otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .words import Source, name_words, pick, says, text_value

Schema = Mapping[str, Any]

MAX_DEPTH = 4
_GIVE_UP = 40
_SCORES = frozenset({"score", "rating", "stars", "confidence", "probability", "likelihood"})
_SENTIMENTS = ("positive", "negative", "neutral")
_PRIORITIES = ("urgent", "critical", "high", "medium", "normal", "low")
_EMPTY: Schema = {}


def fill(schema: Schema, source: Source) -> Any:
    """A value for `schema` (a whole JSON Schema, `$defs` included) from `source`."""
    return _Filler(schema, source).value(schema, "", 0)


def resolve(schema: Schema, root: Schema) -> Schema:
    """`schema` with `$ref` (into `root`), `allOf` and a choice of `anyOf`/`oneOf` worked in."""
    seen: set[str] = set()
    while isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
        seen.add(schema["$ref"])
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target(schema["$ref"], root), **rest}
    for part in schema.get("allOf") or ():  # merged shallowly: earlier parts win
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        schema = {**resolve(part if isinstance(part, Mapping) else _EMPTY, root), **rest}
    choices = schema.get("anyOf") or schema.get("oneOf")
    resolved = [resolve(c, root) for c in choices if isinstance(c, Mapping)] if isinstance(
        choices, list) else []  # fmt: skip
    if resolved:
        chosen = next((c for c in resolved if c.get("type") != "null"), resolved[0])
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        schema = {**rest, **chosen}
    return schema


def target(ref: str, root: Schema) -> Schema:
    """What a local `$ref` ('#/$defs/Name') points at; {} for anything else."""
    if not ref.startswith("#"):
        return _EMPTY
    node: Any = root
    for part in ref[1:].strip("/").split("/") if ref.strip("#/") else ():
        node = node.get(part.replace("~1", "/").replace("~0", "~"), _EMPTY)
        node = node if isinstance(node, Mapping) else _EMPTY
    return node


@dataclass(frozen=True)
class _Filler:
    root: Schema
    source: Source

    def resolve(self, schema: Schema) -> Schema:
        return resolve(schema, self.root)

    def value(self, schema: Schema, name: str, depth: int) -> Any:
        if depth > _GIVE_UP:  # a required field that holds itself: no answer can be finite
            return schema.get("default")
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return choose(schema["enum"], name, self.source)
        kind = type_of(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind in ("integer", "number"):
            return number(schema, name, self.source, integer=kind == "integer")
        if kind == "boolean":
            return says(name_words(name), self.source)
        if kind == "null":
            return None
        if kind is None and "default" in schema:
            return schema["default"]
        return text_value(schema, name, self.source)

    def object(self, schema: Schema, depth: int) -> dict[str, Any]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        required = [r for r in schema.get("required") or () if isinstance(r, str)]
        # Deep in a recursive model, only what must be there, so the answer ends.
        names = [n for n in properties if depth < MAX_DEPTH or n in required]
        names += [n for n in required if n not in names]
        return {n: self.value(properties.get(n) or _EMPTY, n, depth + 1) for n in names}

    def array(self, schema: Schema, name: str, depth: int) -> list[Any]:
        items = schema.get("items")
        items = items if isinstance(items, Mapping) else _EMPTY
        low = max(0, int(schema.get("minItems", 0)))
        high = int(schema.get("maxItems", max(low, 3)))
        objects = type_of(self.resolve(items)) == "object"
        wanted = low if depth >= MAX_DEPTH else self.source.count(objects)
        count = max(low, min(high, wanted))
        made = [
            _Filler(self.root, self.source.item(i)).value(items, name, depth + 1)
            for i in range(count)
        ]
        return distinct(made, low) if schema.get("uniqueItems") else made


def distinct(values: list[Any], low: int) -> list[Any]:
    """`values` without repeats; a repeated string gets a number, to keep `low` items."""
    kept: list[Any] = []
    for index, value in enumerate(values):
        if value in kept and isinstance(value, str) and len(kept) < low:
            value = f"{value} {index + 1}"
        if value not in kept:
            kept.append(value)
    return kept


def type_of(schema: Schema) -> str | None:
    """The schema's type: the first non-null one of a list, or guessed from its keywords."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else None


def choose(options: list[Any], name: str, source: Source) -> Any:
    """An enum's value: the sentiment verdict, the urgency, one the text names, or a pick."""
    texts = {str(o).lower(): o for o in options}
    label = source.label
    by_sentiment = [o for t, o in texts.items() if t[:3] == label[:3]]
    if by_sentiment and (len({t[:3] for t in texts} & {s[:3] for s in _SENTIMENTS}) >= 2):
        return by_sentiment[0]
    if len(set(texts) & set(_PRIORITIES)) >= 2:
        ranked = [p for p in _PRIORITIES if p in texts]  # the most urgent first
        calm = [p for p in ranked if p in ("medium", "normal")] or ranked[-1:]
        return texts[ranked[0] if source.urgent else calm[0]]
    named = [o for t, o in texts.items() if t in source.words]
    return named[0] if named else pick(f"{source.key}·{name}", options)


def number(schema: Schema, name: str, source: Source, *, integer: bool) -> int | float:
    """A number for the field: a score from the sentiment, else one the text holds."""
    words = set(name_words(name))
    if words & _SCORES and "confidence" not in words and "probability" not in words:
        tilt = max(-2, min(2, source.polarity))
        value: float = 3 + tilt if integer else round(0.5 + 0.2 * tilt, 2)
    elif words & _SCORES:
        value = 4 if integer else pick(f"{source.key}·{name}", (0.8, 0.85, 0.9, 0.95))
    elif source.numbers:
        value = source.numbers[0]
    else:
        value = pick(f"{source.key}·{name}", (2, 3, 5, 7, 12) if integer else (1.5, 2.5, 4.2))
    return bounded(schema, round(value) if integer else float(value), integer)


def bounded(schema: Schema, value: float, integer: bool) -> int | float:
    """`value` moved inside the schema's minimum/maximum (exclusive ones too)."""
    step = 1 if integer else 0.01
    low, high = schema.get("minimum"), schema.get("maximum")
    low = low if isinstance(low, (int, float)) else None
    high = high if isinstance(high, (int, float)) else None
    if isinstance(schema.get("exclusiveMinimum"), (int, float)):
        bound = schema["exclusiveMinimum"] + step
        low = bound if low is None else max(low, bound)
    if isinstance(schema.get("exclusiveMaximum"), (int, float)):
        bound = schema["exclusiveMaximum"] - step
        high = bound if high is None else min(high, bound)
    if integer:  # a bound of 0.5 lets an integer be 1 at the least
        low = None if low is None else math.ceil(low)
        high = None if high is None else math.floor(high)
    value = value if low is None else max(low, value)
    value = value if high is None else min(high, value)
    return int(value) if integer else value
