"""Tool turns of the emulator: parallel calls in one turn, each tool in turn, error results."""

from __future__ import annotations

import json
from typing import Any

import httpx

from routing_magics.emulator import Emulator

KEY = {"X-API-Key": "rk_test"}
PLAIN = "route/mistral-small-2503"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def post(emu: Emulator, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{emu.base_url}/chat/completions", json=body, headers=KEY, timeout=10)


def _tool(name: str, **properties: str) -> dict:
    props = {k: {"type": v} for k, v in properties.items()}
    parameters = {"type": "object", "properties": props, "required": [next(iter(props))]}
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


ROWS = _tool("rows_where", city="string", min_amount="number")
MEAN = _tool("mean_amount", city="string")


def _with_results(body: dict, message: dict, results: list[str]) -> list[dict]:
    calls = message["tool_calls"]
    replies = [
        {"role": "tool", "tool_call_id": c["id"], "content": r}
        for c, r in zip(calls, results, strict=True)
    ]
    return [*body["messages"], {"role": "assistant", "tool_calls": calls}, *replies]


def test_two_places_two_calls_in_one_turn_then_each_tool_in_turn(emu: Emulator) -> None:
    question = "How many sales over 50 were there in Oslo and in Lima?"
    body = {"model": PLAIN, "messages": user(question), "tools": [ROWS, MEAN]}
    first = post(emu, body).json()["choices"][0]["message"]
    args = [json.loads(c["function"]["arguments"]) for c in first["tool_calls"]]
    assert args == [{"city": "Oslo", "min_amount": 50}, {"city": "Lima", "min_amount": 50}]
    body["messages"] = _with_results(body, first, ["17", "12"])
    second = post(emu, body).json()["choices"][0]
    assert second["finish_reason"] == "tool_calls"
    assert [c["function"]["name"] for c in second["message"]["tool_calls"]] == ["mean_amount"] * 2
    body["messages"] = _with_results(body, second["message"], ["71.5", "Error: KeyError: 'Lima'"])
    third = post(emu, body).json()["choices"][0]
    assert third["finish_reason"] == "stop"
    text = third["message"]["content"]
    assert '`rows_where(city="Oslo", min_amount=50)` → 17' in text
    assert "`mean_amount(city=\"Lima\")` failed (KeyError: 'Lima')" in text


def test_parallel_calls_stream_with_their_own_indexes(emu: Emulator) -> None:
    question = "How many sales were there in Oslo and in Lima?"
    body = {"model": PLAIN, "messages": user(question), "tools": [MEAN], "stream": True}
    with httpx.stream(
        "POST", f"{emu.base_url}/chat/completions", json=body, headers=KEY, timeout=10
    ) as r:
        lines = [ln[6:] for ln in r.iter_lines() if ln.startswith("data: {")]
    deltas = [json.loads(ln)["choices"][0]["delta"] for ln in lines if json.loads(ln)["choices"]]
    pieces: dict[int, str] = {}
    ids = {}
    for delta in deltas:
        for call in delta.get("tool_calls") or ():
            pieces[call["index"]] = pieces.get(call["index"], "") + call["function"]["arguments"]
            ids.setdefault(call["index"], call.get("id"))
    assert {i: json.loads(p) for i, p in pieces.items()} == {
        0: {"city": "Oslo"},
        1: {"city": "Lima"},
    }
    assert all(ids.values()) and len(set(ids.values())) == 2
