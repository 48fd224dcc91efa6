"""The emulator's pacing knobs for batches: a per-minute limit (429 RATE_LIMIT_EXCEEDED with
Retry-After), per-minute counts in GET /v1/user/requests, a fixed latency, kept-alive streams."""

from __future__ import annotations

import time

import httpx

from routing_magics.emulator import Emulator

KEY = {"X-API-Key": "rk_test"}
BODY = {"model": "route/mistral-small-2503", "messages": [{"role": "user", "content": "echo: x"}]}


def test_the_per_minute_limit_answers_429_with_retry_after_and_is_counted(emu: Emulator) -> None:
    emu.per_minute_limit = 3
    with httpx.Client(timeout=10) as http:
        statuses = [
            http.post(f"{emu.base_url}/chat/completions", json=BODY, headers=KEY) for _ in range(4)
        ]
        counts = http.get(f"{emu.base_url}/user/requests", headers=KEY).json()
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    refused = statuses[-1]
    assert refused.headers["X-Error-Code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 requests per minute" in refused.text
    assert emu.rate_limited == 1
    assert counts["requests_limit_per_minute"] == 3
    assert counts["requests_used_this_minute"] == 3  # the refused one is not counted
    assert counts["requests_remaining_this_minute"] == 0


def test_the_default_per_minute_limit_is_the_documented_100(emu: Emulator) -> None:
    assert Emulator().per_minute_limit == 100
    with httpx.Client(timeout=10) as http:
        counts = http.get(f"{emu.base_url}/user/requests", headers=KEY).json()
    assert counts["requests_limit_per_minute"] == 100


def test_latency_delays_every_answer(emu: Emulator) -> None:
    emu.latency = 0.3
    started = time.monotonic()
    with httpx.Client(timeout=10) as http:
        reply = http.post(f"{emu.base_url}/chat/completions", json=BODY, headers=KEY)
    assert reply.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_a_kept_alive_client_streams_many_answers_over_one_connection(emu: Emulator) -> None:
    before = emu.connections
    body = {**BODY, "stream": True}
    with httpx.Client(timeout=10) as http:
        for _ in range(5):
            with http.stream("POST", f"{emu.base_url}/chat/completions", json=body,
                             headers=KEY) as reply:  # fmt: skip
                assert b"[DONE]" in reply.read()
    assert emu.connections - before == 1


def test_knobs_are_settable_over_the_control_surface(emu: Emulator) -> None:
    with httpx.Client(timeout=10, headers=emu.control_headers) as http:
        reply = http.post(
            f"{emu.base_url.removesuffix('/v1')}/_emulator/config",
            json={"per_minute_limit": 7, "latency": 0.1},
        )
        assert reply.json()["per_minute_limit"] == 7 and emu.latency == 0.1
        bad = http.post(
            f"{emu.base_url.removesuffix('/v1')}/_emulator/config", json={"per_minute_limit": 0}
        )
    assert bad.status_code == 400 and "per_minute_limit" in bad.json()["error"]


def test_sentiment_requests_get_one_word_or_json(emu: Emulator) -> None:
    def ask(text: str) -> str:
        body = {**BODY, "messages": [{"role": "user", "content": text}]}
        with httpx.Client(timeout=10) as http:
            reply = http.post(f"{emu.base_url}/chat/completions", json=body, headers=KEY)
        return str(reply.json()["choices"][0]["message"]["content"])

    assert ask("Classify the sentiment. Review: great food, friendly staff") == "positive"
    assert ask("Classify the sentiment. Review: slow, rude and cold") == "negative"
    assert ask("Classify the sentiment. Review: it is a restaurant") == "neutral"
    assert ask("Sentiment as JSON. Review: awful") == '{"sentiment": "negative", "score": -1}'


def test_a_reasoning_route_reads_a_mixed_review_by_its_last_but(emu: Emulator) -> None:
    def ask(model: str, text: str) -> str:
        body = {**BODY, "model": model, "messages": [{"role": "user", "content": text}]}
        with httpx.Client(timeout=10) as http:
            reply = http.post(f"{emu.base_url}/chat/completions", json=body, headers=KEY)
        return str(reply.json()["choices"][0]["message"]["content"])

    mixed = "Classify the sentiment. Review: great food but the service was slow"
    assert ask("route/mistral-small-2503", mixed) == "neutral"  # does not reason
    assert ask("route/deepseek-v3.2", mixed) == "negative"
    turned = "Classify the sentiment. Review: slow but great"
    assert ask("route/deepseek-v3.2", turned) == "positive"
