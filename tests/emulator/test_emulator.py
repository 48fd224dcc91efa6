"""The offline routing.run emulator, over real loopback sockets, with httpx and the openai SDK."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from routing_magics.api.catalog import BUILTIN_ROUTES
from routing_magics.emulator import Emulator
from routing_magics.emulator.answers import tokenize
from routing_magics.emulator.faults import ERROR_STATUSES

KEY = {"X-API-Key": "rk_test"}
PLAIN = "route/mistral-small-2503"  # premium, no reasoning
REASONING = "route/glm-5"  # free, reasoning
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["location"],
        },
    },
}
TABLE = """What are the units and price like?

Data `sales`: 1000 rows × 3 columns
Columns: region (object), units (int64), price (float64)
Showing 4 of 1000 rows.
```csv
region,units,price
North,12,3.5
South,3,2
East,40,9.99
West,,1.25
```"""
ARTICLE = (
    "The city council met on Tuesday to discuss the new budget. The budget raises spending on "
    "parks and schools. Critics say the budget ignores road repairs.\n\nRoad repairs have been "
    "delayed for three years. The mayor promised that road repairs start next spring. Residents "
    "doubt the budget will fix the roads. Weather was mild."
)


HTTP = httpx.Client(timeout=10)  # one client: building one costs ~80 ms (TLS context)


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    HTTP.close()


@functools.cache
def sdk(base_url: str, key: str = "rk_test") -> Any:
    """An openai SDK client (cached: each one builds its own HTTP client, ~80 ms)."""
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=10)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def post(emu: Emulator, body: Any, headers: dict[str, str] = KEY, **kw: Any) -> httpx.Response:
    return HTTP.post(f"{emu.base_url}/chat/completions", json=body, headers=headers, **kw)


def ask(emu: Emulator, text: str, model: str = PLAIN, **extra: Any) -> httpx.Response:
    return post(emu, {"model": model, "messages": user(text), **extra}, timeout=10)


def answer(emu: Emulator, text: str, model: str = PLAIN, **extra: Any) -> str:
    response = ask(emu, text, model, **extra)
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def stream(
    emu: Emulator, text: str, model: str = PLAIN, into: list[tuple[float, str]] | None = None
) -> list[tuple[float, str]]:
    """(arrival time, data) of each SSE event, also appended to `into` as they arrive."""
    events = [] if into is None else into
    body = {"model": model, "messages": user(text), "stream": True}
    url = f"{emu.base_url}/chat/completions"
    with HTTP.stream("POST", url, json=body, headers=KEY, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append((time.monotonic(), line[len("data: ") :]))
    return events


def contents(events: list[tuple[float, str]]) -> list[str]:
    chunks = [json.loads(d) for _, d in events if d.startswith("{")]
    return [
        c["choices"][0]["delta"]["content"]
        for c in chunks
        if c.get("choices") and "content" in c["choices"][0]["delta"]
    ]


def usage_counts(emu: Emulator) -> dict[str, Any]:
    data: dict[str, Any] = HTTP.get(f"{emu.base_url}/user/requests", headers=KEY).json()
    return data


# --- the openai SDK ---------------------------------------------------------------------------


def test_sdk_completion_has_usage_latency_and_provider(emu: Emulator) -> None:
    done = sdk(emu.base_url).chat.completions.create(
        model=PLAIN, messages=user("echo: Hello there")
    )
    assert done.choices[0].message.content == "Hello there"
    assert done.choices[0].finish_reason == "stop"
    assert done.id.startswith("chatcmpl_")
    assert done.usage is not None and done.usage.completion_tokens == 2
    assert done.usage.total_tokens == done.usage.prompt_tokens + 2
    assert isinstance((done.model_extra or {})["latency_ms"], int)
    assert (done.model_extra or {})["provider"] == "routing-inference"


def test_sdk_stream_sends_reasoning_then_content_then_usage(emu: Emulator) -> None:
    chunks = list(
        sdk(emu.base_url).chat.completions.create(
            model=REASONING,
            messages=user("echo: hello stream world"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    kinds = [
        "reasoning"
        if (d.model_extra or {}).get("reasoning_content")
        else "content"
        if d.content
        else "other"
        for d in deltas
    ]
    assert deltas[0].role == "assistant"
    first_content = kinds.index("content")
    assert "reasoning" in kinds[:first_content] and "reasoning" not in kinds[first_content:]
    assert "".join(d.content or "" for d in deltas) == "hello stream world"
    assert chunks[-2].choices[0].finish_reason == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == kinds.count("reasoning") + kinds.count("content")
    assert all((c.model_extra or {})["provider"] == "crof" and c.model == REASONING for c in chunks)


def test_sdk_bad_request_carries_code_and_plain_text(emu: Emulator) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(emu.base_url).chat.completions.create(model="route/nope", messages=user("hi"))
    response = caught.value.response
    assert response.headers["X-Error-Code"] == "INVALID_MODEL"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "route/nope" in response.text and caught.value.body == response.text


def test_sdk_bad_key_is_401_without_echoing_the_key(emu: Emulator) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(emu.base_url, key="sk-not-routing-run").chat.completions.create(
            model=PLAIN, messages=user("x")
        )
    response = caught.value.response
    assert response.headers["X-Error-Code"] == "AUTHENTICATION_ERROR"
    assert response.text and "sk-not-routing-run" not in response.text


def test_sdk_raises_on_a_midstream_error_event(emu: Emulator) -> None:
    emu.inject("midstream_error", after=1)
    received: list[str] = []
    with pytest.raises(openai.APIError, match="Upstream provider disconnected"):
        for chunk in sdk(emu.base_url).chat.completions.create(
            model=PLAIN, messages=user("echo: a b c"), stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "a"


def test_sdk_tool_call_streams_in_pieces(emu: Emulator) -> None:
    chunks = list(
        sdk(emu.base_url).chat.completions.create(
            model=PLAIN,
            messages=user("What's the weather in Tokyo today?"),
            tools=[WEATHER_TOOL],
            stream=True,
        )
    )
    calls = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices[0].delta.tool_calls]
    assert calls[0].id and calls[0].function and calls[0].function.name == "get_weather"
    assert all(c.index == 0 for c in calls) and len(calls) > 1
    arguments = "".join((c.function.arguments or "") if c.function else "" for c in calls)
    assert json.loads(arguments) == {"location": "Tokyo"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# --- auth, errors, catalog, usage ---------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "sk-abc"}, {"Authorization": "Basic rk_x"}, {"Authorization": "Bearer rk_"}],
)
def test_chat_without_an_rk_key_is_401(emu: Emulator, headers: dict[str, str]) -> None:
    response = post(emu, {"model": PLAIN, "messages": user("hi")}, headers=headers)
    assert response.status_code == 401
    assert response.headers["X-Error-Code"] == "AUTHENTICATION_ERROR"
    assert response.headers["content-type"].startswith("text/plain")


def test_bearer_and_x_api_key_both_work_and_keys_are_not_recorded(emu: Emulator) -> None:
    body = {"model": PLAIN, "messages": user("echo: x")}
    assert post(emu, body, headers={"Authorization": "Bearer rk_one"}).status_code == 200
    assert post(emu, body, headers={"X-API-Key": "rk_two", "User-Agent": "ua/1"}).status_code == 200
    recorded = emu.requests
    assert [(r.method, r.path, r.body) for r in recorded] == [
        ("POST", "/v1/chat/completions", body)
    ] * 2
    assert recorded[1].headers["user-agent"] == "ua/1"
    assert not any(
        {"authorization", "x-api-key"} & set(r.headers) or "rk_" in str(r) for r in recorded
    )


def test_malformed_json_is_400_invalid_request(emu: Emulator) -> None:
    response = HTTP.post(f"{emu.base_url}/chat/completions", content=b"{nope", headers=KEY)
    assert response.status_code == 400
    assert response.headers["X-Error-Code"] == "INVALID_REQUEST"


def test_models_are_filtered_by_plan(emu: Emulator) -> None:
    def ids(headers: dict[str, str]) -> set[str]:
        data = HTTP.get(f"{emu.base_url}/models", headers=headers).json()
        assert data["object"] == "list"
        return {m["id"] for m in data["data"]}

    assert ids({}) == {r.id for r in BUILTIN_ROUTES if r.tier == "free"}
    assert ids(KEY) == {r.id for r in BUILTIN_ROUTES}
    emu.plan = "lite"
    assert ids(KEY) == {r.id for r in BUILTIN_ROUTES if r.tier in ("free", "lite")}
    item = HTTP.get(f"{emu.base_url}/models", headers=KEY).json()["data"][0]
    assert set(item) == {
        "id",
        "object",
        "created",
        "owned_by",
        "tier",
        "capability",
        "name",
        "limit",
    }
    assert item["limit"]["context"] > 0 and item["capability"] == "chat"


def test_model_detail_says_allowed_and_providers(emu: Emulator) -> None:
    emu.plan = "lite"
    detail = HTTP.get(f"{emu.base_url}/models/route/deepseek-v3.2", headers=KEY).json()
    assert detail["allowed"] is True and detail["providers"] == ["crof", "chutes"]
    assert HTTP.get(f"{emu.base_url}/models/{PLAIN}", headers=KEY).json()["allowed"] is False
    missing = HTTP.get(f"{emu.base_url}/models/route/nope", headers=KEY)
    assert missing.status_code == 404 and missing.json() == {"error": "Model not found"}


def test_route_above_the_plan_is_403(emu: Emulator) -> None:
    emu.plan = "lite"
    response = ask(emu, "hi")
    assert response.status_code == 403
    assert response.headers["X-Error-Code"] == "MODEL_NOT_ALLOWED"
    assert "Lite" in response.text


def test_user_requests_counters_move_and_reset(emu: Emulator) -> None:
    assert usage_counts(emu)["requests_used_today"] == 0
    ask(emu, "echo: one")
    ask(emu, "echo: two")
    counts = usage_counts(emu)
    assert counts["requests_used_today"] == counts["requests_used_this_hour"] == 2
    assert counts["requests_used_this_minute"] == 2
    assert counts["requests_remaining"] == 1498 and counts["requests_remaining_this_hour"] == 498
    assert counts["requests_remaining_this_minute"] == 98 and counts["plan_tier"] == "Premium"
    emu.plan = "lite"
    lite = usage_counts(emu)
    assert lite["plan_tier"] == "Lite" and lite["requests_limit_this_hour"] == 0
    emu.reset()
    assert usage_counts(emu)["requests_used_today"] == 0


def test_daily_limit_refuses_with_429(emu: Emulator) -> None:
    emu.daily_limit = 2
    assert [ask(emu, "echo: x").status_code for _ in range(3)] == [200, 200, 429]
    assert ask(emu, "echo: x").headers["X-Error-Code"] == "DAILY_REQUEST_LIMIT_EXCEEDED"
    assert usage_counts(emu)["requests_remaining"] == 0


# --- faults --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(ERROR_STATUSES))
def test_error_faults_answer_with_their_status_and_code(emu: Emulator, code: str) -> None:
    emu.inject(code, retry_after=2)
    response = ask(emu, "echo: x")
    assert response.status_code == ERROR_STATUSES[code][0]
    assert response.headers["X-Error-Code"] == code and response.headers["Retry-After"] == "2"
    assert response.headers["content-type"] == "text/plain; charset=utf-8" and response.text
    assert ask(emu, "echo: x").status_code == 200


def test_faults_queue_in_order_and_count_down(emu: Emulator) -> None:
    emu.inject("PROVIDER_ERROR", times=2)
    emu.inject("PROVIDER_TIMEOUT")
    assert HTTP.get(f"{emu.base_url}/models").status_code == 200  # faults hit chat only
    statuses = [ask(emu, "echo: x").status_code for _ in range(4)]
    assert statuses == [502, 502, 504, 200]
    assert usage_counts(emu)["requests_used_today"] == 4  # fault-failed requests count


def test_midstream_error_event_ends_the_stream_without_done(emu: Emulator) -> None:
    emu.inject("midstream_error", after=2)
    events = stream(emu, "echo: a b c d")
    assert contents(events) == ["a", " b"]
    assert json.loads(events[-1][1]) == {
        "error": {"message": "Upstream provider disconnected", "type": "api_error"}
    }
    emu.inject("midstream_error")
    response = ask(emu, "echo: a")
    assert response.status_code == 502 and response.headers["X-Error-Code"] == "PROVIDER_ERROR"


def test_stall_before_headers_times_out_the_client(emu: Emulator) -> None:
    emu.inject("stall", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        post(emu, {"model": PLAIN, "messages": user("echo: x")}, timeout=0.2)
    emu.clear_faults()
    emu.inject("stall", seconds=0.3)
    started = time.monotonic()
    assert answer(emu, "echo: late") == "late"
    assert time.monotonic() - started >= 0.3


def test_stall_after_tokens_pauses_mid_stream(emu: Emulator) -> None:
    emu.inject("stall", after=2, seconds=0.3)
    events = stream(emu, "echo: a b c d")
    assert contents(events) == ["a", " b", " c", " d"] and events[-1][1] == "[DONE]"
    times = [t for t, d in events if '"content"' in d]
    assert times[2] - times[1] >= 0.25


def test_drop_closes_the_connection(emu: Emulator) -> None:
    emu.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        ask(emu, "echo: x")
    emu.inject("drop", after=2)
    received: list[tuple[float, str]] = []
    with pytest.raises(httpx.RemoteProtocolError):
        stream(emu, "echo: a b c d", into=received)
    assert contents(received) == ["a", " b"]
    assert ask(emu, "echo: still up").status_code == 200


def test_slow_fault_and_token_rate_pace_the_stream(emu: Emulator) -> None:
    emu.inject("slow", seconds=0.05)
    started = time.monotonic()
    assert contents(stream(emu, "echo: a b c d")) == ["a", " b", " c", " d"]
    assert time.monotonic() - started >= 0.2
    emu.token_rate = 200.0
    started = time.monotonic()
    assert len(contents(stream(emu, "echo: " + "w " * 40))) == 41  # 40 words + trailing space
    assert time.monotonic() - started >= 40 / 200


def test_stream_survives_a_client_that_leaves(emu: Emulator, capfd: Any) -> None:
    emu.token_rate = 100.0
    body = {"model": PLAIN, "messages": user("echo: " + "w " * 100), "stream": True}
    with HTTP.stream("POST", f"{emu.base_url}/chat/completions", json=body, headers=KEY) as r:
        next(r.iter_lines())
    time.sleep(0.2)  # the server notices on its next write
    assert answer(emu, "echo: next") == "next"
    assert capfd.readouterr().err == ""


def test_inject_rejects_unknown_kinds(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.inject("PROVIDER_EXPLODED")


# --- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "echo: <script>alert(1)</script>\n  two  spaces\t\n",
            "<script>alert(1)</script>\n  two  spaces\t\n",
        ),
        ("echo:no-space", "no-space"),
        ("echo:  two", " two"),
        ("echo: " + "x" * 50, "x" * 50),
    ],
)
def test_echo_is_exact_streamed_or_not(emu: Emulator, prompt: str, expected: str) -> None:
    assert answer(emu, prompt) == expected
    assert "".join(contents(stream(emu, prompt))) == expected


def test_summary_takes_the_asked_number_of_sentences_in_order(emu: Emulator) -> None:
    bullets = answer(emu, f"Summarize this in 3 bullet points:\n{ARTICLE}").splitlines()
    assert len(bullets) == 3 and all(b.startswith("- ") for b in bullets)
    positions = [ARTICLE.index(b[2:]) for b in bullets]
    assert positions == sorted(positions)
    system = {"role": "system", "content": "Summarize the user's text into 5 bullet points."}
    body = {"model": PLAIN, "messages": [system, *user(ARTICLE)]}
    assert len(post(emu, body).json()["choices"][0]["message"]["content"].splitlines()) == 5
    assert answer(emu, "Please summarise: One thing. Another thing.").count("\n- ") == 1


def test_table_question_gets_facts_from_the_rows_shown(emu: Emulator) -> None:
    text = answer(emu, TABLE)
    assert "`sales` has 1,000 rows and 3 columns" in text
    assert "over the 4 rows shown" in text
    assert "| units | 3 | 40 | 18.333 |" in text and "| price | 1.25 | 9.99 | 4.185 |" in text
    only_price = answer(emu, TABLE.replace("the units and price like", "the prices"))
    assert "| price |" in only_price and "| units |" not in only_price
    unnamed = answer(emu, TABLE.replace("Data `sales`:", "Data:"))
    assert unnamed.startswith("The table has 1,000 rows")


def test_other_prompts_get_deterministic_rich_markdown(emu: Emulator) -> None:
    prompt = "How should I cache API responses in a notebook?\nKeep it short."
    text = answer(emu, prompt)
    assert text == answer(emu, prompt)
    assert re.search(r"^## ", text, re.M) and re.search(r"^- ", text, re.M)
    assert "|---|" in text and "```python\n" in text
    assert "How should I cache API responses in a notebook?" in text
    assert 150 <= len(text.split()) <= 250


def test_reasoning_restates_the_task_in_40_to_80_tokens(emu: Emulator) -> None:
    for prompt in ("echo: hi", f"Summarise:\n{ARTICLE}", TABLE, "Explain Python generators."):
        message = ask(emu, prompt, model=REASONING).json()["choices"][0]["message"]
        assert 40 <= len(tokenize(message["reasoning_content"])) <= 80
    assert "reasoning_content" not in ask(emu, "hi").json()["choices"][0]["message"]


def test_max_tokens_goes_to_reasoning_first(emu: Emulator) -> None:
    done = ask(emu, "echo: a b c d", model=REASONING, max_tokens=5).json()
    choice = done["choices"][0]
    assert choice["message"]["content"] == "" and choice["finish_reason"] == "length"
    assert len(tokenize(choice["message"]["reasoning_content"])) == 5
    assert done["usage"]["completion_tokens"] == 5
    plain = ask(emu, "echo: a b c d", max_tokens=3).json()["choices"][0]
    assert plain["message"]["content"] == "a b c" and plain["finish_reason"] == "length"


def test_tool_calls_and_tool_results(emu: Emulator) -> None:
    body = {
        "model": PLAIN,
        "messages": user("What's the weather in New York?"),
        "tools": [WEATHER_TOOL],
    }
    choice = post(emu, body).json()["choices"][0]
    call = choice["message"]["tool_calls"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "New York"}
    result = {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 21}'}
    body["messages"] = [*body["messages"], {"role": "assistant", "tool_calls": [call]}, result]
    prose = post(emu, body).json()["choices"][0]
    assert prose["finish_reason"] == "stop" and "temp_c is 21" in prose["message"]["content"]


def test_prompt_tokens_are_characters_over_four(emu: Emulator) -> None:
    messages = [{"role": "system", "content": "x" * 10}, *user("echo: " + "y" * 7)]
    usage = post(emu, {"model": PLAIN, "messages": messages}).json()["usage"]
    assert usage["prompt_tokens"] == 6  # ceil(23 / 4)


# --- control surface, lifecycle, command line ---------------------------------------------


def test_http_control_surface_drives_the_emulator(emu: Emulator) -> None:
    control = f"{emu.base_url.removesuffix('/v1')}/_emulator"
    secret = emu.control_headers
    queued = HTTP.post(
        f"{control}/faults", json={"kind": "PROVIDER_ERROR", "times": 2}, headers=secret
    )
    assert queued.status_code == 200 and len(queued.json()["faults"]) == 1
    assert ask(emu, "echo: x").status_code == 502
    assert HTTP.delete(f"{control}/faults", headers=secret).json() == {"faults": []}
    assert ask(emu, "echo: x").status_code == 200
    assert HTTP.post(f"{control}/faults", json={"kind": "nope"}, headers=secret).status_code == 400
    config = {"plan": "lite", "token_rate": 50}
    assert HTTP.post(f"{control}/config", json=config, headers=secret).json()["plan"] == "lite"
    assert emu.plan == "lite" and emu.token_rate == 50.0
    recorded = HTTP.get(f"{control}/requests", headers=secret).json()
    assert [r["path"] for r in recorded] == ["/v1/chat/completions"] * 2


def test_stop_ends_open_streams_promptly() -> None:
    with Emulator(token_rate=5) as slow:
        body = {"model": PLAIN, "messages": user("echo: " + "w " * 50), "stream": True}
        with HTTP.stream("POST", f"{slow.base_url}/chat/completions", json=body, headers=KEY) as r:
            lines = r.iter_lines()
            next(lines)
            stopper = threading.Thread(target=slow.stop)
            started = time.monotonic()
            stopper.start()
            stopper.join(timeout=10)
            assert time.monotonic() - started < 5
            with pytest.raises(httpx.HTTPError):
                list(lines)


def test_command_line_prints_the_url_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "routing_magics.emulator", "--port", "0", "--plan", "free"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1\n", line)
        models = HTTP.get(f"{line.strip()}/models", headers=KEY, timeout=10).json()["data"]
        assert {m["tier"] for m in models} == {"free"}
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_a_fault_spares_a_request_already_in_flight_when_it_was_queued(emu: Emulator) -> None:
    """A straggler from an earlier scenario must not steal the next scenario's fault."""
    import socket

    body = json.dumps({"model": PLAIN, "messages": user("echo: early")}).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-API-Key: rk_test\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", emu.port)) as early:
        time.sleep(0.3)  # accepted by the server before the fault exists
        emu.inject("PROVIDER_ERROR")
        early.sendall(head + body)
        reply = b""
        while chunk := early.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.0 200") or reply.startswith(b"HTTP/1.1 200")
    assert ask(emu, "echo: late").status_code == 502  # the fault waited for a new request
