"""Structured answers (`--schema`) from the emulator, over real sockets: the answer tool and the
schema in the system message, streamed and not, deterministic values that match the schema, and
the `invalid_structured` fault that makes a repair turn necessary. Every answer is checked with
jsonschema."""

from __future__ import annotations

import json
from typing import Any, Literal

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel, Field

from routing_magics.emulator import Emulator
from routing_magics.emulator.structured import spoil
from routing_magics.prompt.schema import (
    ANSWER_TOOL,
    Schema,
    answer_tool,
    concise_schema,
    forced_choice,
    repair_text,
    schema_instruction,
    schema_of,
)

KEY = {"X-API-Key": "rk_test"}
PLAIN = "route/mistral-small-2503"
REASONING = "route/glm-5"
HTTP = httpx.Client(timeout=10)
TICKET = (
    "Extract the fields from this ticket: My order of 2 lamps to Oslo arrived late and broken. "
    "I want a refund now! The box was also wet."
)
REVIEW = "Read this review: Great food, friendly staff. We loved the terrace in Lisbon."
SPEC = "sentiment, score float, urgent bool, summary: one sentence"
CONCISE = Schema("concise", concise_schema(SPEC))


class Address(BaseModel):
    city: str
    zip_code: str | None = None


class Item(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=10)


class Ticket(BaseModel):
    """A support ticket, as a pydantic model: $defs, $ref, enums, optionals, bounds."""

    sentiment: Literal["positive", "negative", "neutral"]
    priority: Literal["low", "medium", "high"]
    score: float
    urgent: bool = False
    summary: str = Field(description="one sentence")
    address: Address
    items: list[Item]
    tags: list[str] = []
    rating: int | None = None


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def post(emu: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    response = HTTP.post(f"{emu.base_url}/chat/completions", json=body, headers=KEY)
    assert response.status_code == 200, response.text
    return response.json()


def tool_body(schema: Schema, prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": PLAIN, "messages": user(prompt), "tools": [answer_tool(schema)],
            "tool_choice": forced_choice(), **extra}  # fmt: skip


def text_body(schema: Schema, prompt: str, **extra: Any) -> dict[str, Any]:
    system = {"role": "system", "content": schema_instruction(schema)}
    return {"model": PLAIN, "messages": [system, *user(prompt)], **extra}


def tool_arguments(reply: dict[str, Any]) -> Any:
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == ANSWER_TOOL and call["id"].startswith("call_")
    return json.loads(call["function"]["arguments"])


def fenced_object(text: str) -> Any:
    assert text.startswith("```json\n") and text.endswith("\n```"), text
    return json.loads(text.removeprefix("```json\n").removesuffix("\n```"))


def errors(value: Any, schema: Schema) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema.json_schema)
    return [e.message for e in validator.iter_errors(value)]


# --- the tool path ----------------------------------------------------------------------------


def test_the_tool_path_answers_with_one_conforming_call(emu: Emulator) -> None:
    answer = tool_arguments(post(emu, tool_body(CONCISE, TICKET)))
    assert errors(answer, CONCISE) == []
    assert answer["sentiment"] == "negative" and answer["urgent"] is True
    assert 0 <= answer["score"] < 0.5
    assert answer["summary"] == "My order of 2 lamps to Oslo arrived late and broken."
    calm = tool_arguments(post(emu, tool_body(CONCISE, REVIEW)))
    assert errors(calm, CONCISE) == []
    assert calm["sentiment"] == "positive" and calm["urgent"] is False and calm["score"] > 0.5


def test_the_tool_path_streams_the_same_call_through_the_openai_sdk(emu: Emulator) -> None:
    client = openai.OpenAI(api_key="rk_test", base_url=emu.base_url, max_retries=0, timeout=10)
    asked = {"model": REASONING, "messages": user(TICKET), "tools": [answer_tool(CONCISE)],
             "tool_choice": forced_choice()}  # fmt: skip
    whole = client.chat.completions.create(**asked)  # type: ignore[call-overload]
    (call,) = whole.choices[0].message.tool_calls
    assert whole.choices[0].finish_reason == "tool_calls" and call.function.name == ANSWER_TOOL
    pieces, ids, finish = [], set(), None
    for chunk in client.chat.completions.create(**asked, stream=True):  # type: ignore[call-overload]
        for delta_call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            assert delta_call.index == 0
            pieces.append(delta_call.function.arguments or "")
            ids.add(delta_call.id) if delta_call.id else None
        finish = (chunk.choices[0].finish_reason if chunk.choices else None) or finish
    assert finish == "tool_calls" and ids == {call.id} and len(pieces) > 3
    streamed = json.loads("".join(pieces))
    assert streamed == json.loads(call.function.arguments) and errors(streamed, CONCISE) == []


def test_the_forced_answer_tool_wins_over_the_notebooks_tools(emu: Emulator) -> None:
    function = {"name": "get_weather", "parameters": obj("city", city=STRING)}
    weather = {"type": "function", "function": function}
    body = tool_body(CONCISE, TICKET)
    body["tools"] = [weather, *body["tools"]]
    assert errors(tool_arguments(post(emu, body)), CONCISE) == []
    body["tool_choice"] = "auto"  # not forced: the --tools demo calls the first tool
    calls = post(emu, body)["choices"][0]["message"]["tool_calls"]
    assert {c["function"]["name"] for c in calls} == {"get_weather"}


# --- the text path ----------------------------------------------------------------------------


def test_the_text_path_answers_one_fenced_object_streamed_or_not(emu: Emulator) -> None:
    reply = post(emu, text_body(CONCISE, TICKET))["choices"][0]
    assert reply["finish_reason"] == "stop" and "tool_calls" not in reply["message"]
    answer = fenced_object(reply["message"]["content"])
    assert errors(answer, CONCISE) == [] and answer["sentiment"] == "negative"
    with HTTP.stream("POST", f"{emu.base_url}/chat/completions", headers=KEY,
                     json=text_body(CONCISE, TICKET, stream=True)) as response:  # fmt: skip
        events = [json.loads(ln[6:]) for ln in response.iter_lines() if ln.startswith("data: {")]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert text == reply["message"]["content"]


def test_the_same_prompt_gets_the_same_answer_on_either_path(emu: Emulator) -> None:
    first = tool_arguments(post(emu, tool_body(CONCISE, TICKET)))
    assert tool_arguments(post(emu, tool_body(CONCISE, TICKET))) == first
    text = post(emu, text_body(CONCISE, TICKET))["choices"][0]["message"]["content"]
    assert fenced_object(text) == first
    assert tool_arguments(post(emu, tool_body(CONCISE, REVIEW))) != first


def test_a_pydantic_model_with_defs_refs_and_enums_is_filled(emu: Emulator) -> None:
    schema = schema_of(Ticket, "Ticket")
    assert "$defs" in schema.json_schema
    for body in (tool_body(schema, TICKET), text_body(schema, TICKET)):
        reply = post(emu, body)
        message = reply["choices"][0]["message"]
        answer = tool_arguments(reply) if "tools" in body else fenced_object(message["content"])
        assert errors(answer, schema) == []
        ticket = Ticket.model_validate(answer)
        assert (ticket.sentiment, ticket.priority, ticket.urgent) == ("negative", "high", True)
        assert ticket.address.city == "Oslo" and 1 <= len(ticket.items) <= 3
        assert ticket.items[0].quantity == 2 and ticket.tags[:2] == ["order", "lamps"]


def obj(*required: str, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


STRING, INTEGER = {"type": "string"}, {"type": "integer"}
NODES = {"type": "array", "items": {"$ref": "#/$defs/Node"}}
NODE = obj("name", "children", name=STRING, children=NODES)
SCHEMAS = {
    "bounds": obj("kind", "n", "ratio", kind={"const": "ticket"},
                  n={**INTEGER, "minimum": 10.5, "maximum": 20},
                  ratio={"type": "number", "exclusiveMaximum": 0}),
    "strings": obj("name", "code", name={"type": ["string", "null"], "maxLength": 4},
                   code={**STRING, "minLength": 12}, when={**STRING, "format": "date"},
                   email={**STRING, "format": "email"}, product_id=STRING),
    "arrays": obj("tags", tags={"type": "array", "items": STRING, "minItems": 4, "maxItems": 5,
                                "uniqueItems": True},
                  labels={"type": "array", "items": {"enum": [1, 2, 3]}, "maxItems": 1}),
    "recursive": {**obj("root", "extra", root={"allOf": [{"$ref": "#/$defs/Node"}]},
                        extra={"oneOf": [{"type": "null"}, {"type": "boolean"}]},
                        free={"default": 7}), "$defs": {"Node": NODE}},
}  # fmt: skip


@pytest.mark.parametrize("name", SCHEMAS)
@pytest.mark.parametrize("prompt", [TICKET, REVIEW, "", "x: 12 and -3.5"])
def test_keywords_of_json_schema_are_kept_to(emu: Emulator, name: str, prompt: str) -> None:
    raw = SCHEMAS[name]
    schema = Schema("json schema", raw)
    answer = tool_arguments(post(emu, tool_body(schema, prompt or "hi")))
    assert errors(answer, schema) == []
    assert errors(spoil(answer, raw), schema) != []


# --- the invalid_structured fault and the repair turn -----------------------------------------


def test_a_careless_first_answer_then_a_repaired_one_on_the_tool_path(emu: Emulator) -> None:
    emu.inject("invalid_structured")
    plain = post(emu, {"model": PLAIN, "messages": user("echo: hello")})
    assert plain["choices"][0]["message"]["content"] == "hello"  # passed the fault by
    assert [f.kind for f in emu.faults] == ["invalid_structured"]
    body = tool_body(CONCISE, TICKET)
    first = post(emu, body)["choices"][0]["message"]
    wrong = json.loads(first["tool_calls"][0]["function"]["arguments"])
    problems = errors(wrong, CONCISE)
    assert "'n/a' is not of type 'number'" in problems
    assert "'summary' is a required property" in problems and emu.faults == []
    repair = {"role": "tool", "tool_call_id": first["tool_calls"][0]["id"],
              "content": repair_text(problems)}  # fmt: skip
    body["messages"] = [*body["messages"], first, repair]
    second = post(emu, body)
    fixed = tool_arguments(second)
    assert errors(fixed, CONCISE) == []
    assert fixed == tool_arguments(post(emu, tool_body(CONCISE, TICKET)))  # the careful answer
    assert second["choices"][0]["message"]["tool_calls"][0]["id"] != first["tool_calls"][0]["id"]


def test_always_wrong_on_the_text_path_and_the_reasoning_says_why(emu: Emulator) -> None:
    schema = schema_of(Ticket, "Ticket")
    emu.inject("invalid_structured", times=1000)
    body = text_body(schema, TICKET, model=REASONING)
    for _ in range(3):
        message = post(emu, body)["choices"][0]["message"]
        answer = fenced_object(message["content"])
        problems = errors(answer, schema)
        assert problems and "'n/a' is not of type 'number'" in problems
        body["messages"] = [*body["messages"], message, *user(repair_text(problems))]
    assert (
        "did not match the schema ('n/a' is not of type 'number')" in message["reasoning_content"]
    )
    assert emu.faults[0].times == 997
    emu.clear_faults()
    assert errors(fenced_object(post(emu, body)["choices"][0]["message"]["content"]), schema) == []


def test_the_fault_is_queued_over_the_control_surface_like_the_others(emu: Emulator) -> None:
    url = f"{emu.base_url.removesuffix('/v1')}/_emulator/faults"
    fault = {"kind": "invalid_structured", "times": 2}
    assert HTTP.post(url, json=fault).status_code == 401  # the secret guards it as any fault
    queued = HTTP.post(url, json=fault, headers=emu.control_headers)
    assert queued.status_code == 200 and queued.json()["faults"][0]["kind"] == "invalid_structured"
    for _ in range(2):
        assert errors(tool_arguments(post(emu, tool_body(CONCISE, REVIEW))), CONCISE) != []
    assert errors(tool_arguments(post(emu, tool_body(CONCISE, REVIEW))), CONCISE) == []
