"""routing_magics.wire: whole completions, request bodies, error answers, Retry-After (pure)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from routing_magics import errors
from routing_magics.events import ToolCall, Usage
from routing_magics.wire import api_error, build_body, completion_from_json, parse_retry_after

# --- whole completions --------------------------------------------------------------------


def test_completion_from_json_reads_routing_run_extensions() -> None:
    data = {
        "model": "route/kimi-k2.5",
        "provider": "crof",
        "latency_ms": 842,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "long thought",
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}],
                },
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 128, "completion_tokens": 256, "total_tokens": 384},
    }
    done = completion_from_json(data, "asked", "http://e/v1")
    assert (done.text, done.reasoning, done.finish_reason) == ("", "long thought", "length")
    assert (done.model, done.provider, done.latency_ms) == ("route/kimi-k2.5", "crof", 842)
    assert done.usage == Usage(128, 256, 384)
    assert done.tool_calls == [ToolCall("c1", "f", "{}")]
    assert done.endpoint == "http://e/v1"
    assert done.raw == data


def test_completion_from_sparse_json_has_defaults() -> None:
    done = completion_from_json({"choices": None}, "route/glm-5", "")
    assert (done.text, done.model, done.latency_ms) == ("", "route/glm-5", None)
    assert done.usage == Usage()


# --- request bodies -----------------------------------------------------------------------


def test_stream_body_has_stream_options_max_tokens_and_system_first() -> None:
    body = build_body(
        "route/glm-5",
        [{"role": "user", "content": "hi"}],
        stream=True,
        system="Be brief.",
        max_tokens=700,
        temperature=0.0,
    )
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][1] == {"role": "user", "content": "hi"}
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["temperature"]) == (700, 0.0)


def test_plain_body_omits_unset_options_and_keeps_extras() -> None:
    body = build_body("m", [{"role": "user", "content": "hi"}], stream=False, top_p=0.5)
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "top_p": 0.5,
    }


# --- error answers ------------------------------------------------------------------------


def test_model_not_allowed_names_the_plans_for_mistral() -> None:
    error = api_error(403, "MODEL_NOT_ALLOWED", "Plan mismatch", "route/mistral-large-3", "E")
    assert isinstance(error, errors.ModelNotAllowed)
    assert "your plan cannot call route/mistral-large-3" in error.message
    assert "Mistral routes need Premium, Max or Ultra" in error.message
    assert "routing.run said: Plan mismatch" in error.message
    assert (error.status, error.code, error.endpoint) == (403, "MODEL_NOT_ALLOWED", "E")


def test_model_not_allowed_for_a_route_whose_family_mixes_tiers() -> None:
    error = api_error(403, "MODEL_NOT_ALLOWED", "", "route/kimi-k2.6", "E")
    assert "route/kimi-k2.6; it needs Lite, Premium, Max or Ultra" in error.message


def test_invalid_model_suggests_close_matches() -> None:
    error = api_error(400, "INVALID_MODEL", "Invalid model", "route/mistral-smal", "E")
    assert isinstance(error, errors.InvalidModel)
    assert "'route/mistral-smal'" in error.message
    assert "did you mean route/mistral-small-2503" in error.message


def test_json_error_body_message_is_used() -> None:
    body = json.dumps({"error": {"message": "Model not found", "type": "invalid_request"}})
    error = api_error(404, None, body, None, "E")
    assert error.message == "routing.run said: Model not found"
    assert error.code == "HTTP_404"


def test_status_without_code_or_body() -> None:
    error = api_error(502, None, "", None, "E")
    assert isinstance(error, errors.ProviderError)
    assert error.message == "routing.run answered HTTP 502"


def test_long_body_is_cut_to_one_line() -> None:
    error = api_error(500, None, "<html>\n" + "y" * 3000, None, "E")
    assert "\n" not in error.message and len(error.message) < 400


@pytest.mark.parametrize(("value", "seconds"), [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("", None)])
def test_retry_after_seconds(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date_and_garbage() -> None:
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 <= (parse_retry_after(format_datetime(later, usegmt=True)) or 0) <= 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
