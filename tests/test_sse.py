"""routing_magics.sse: SSE framing, chunk → event mapping, bodies and error messages (pure)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from routing_magics import errors
from routing_magics.events import (
    ContentDelta,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from routing_magics.sse import (
    SSEDecoder,
    SSEMessage,
    StreamState,
    api_error,
    build_body,
    completion_from_json,
    parse_retry_after,
)


def decode(*chunks: bytes) -> list[SSEMessage]:
    decoder = SSEDecoder()
    messages = [m for chunk in chunks for m in decoder.feed(chunk)]
    return messages + decoder.flush()


def datas(*chunks: bytes) -> list[str]:
    return [m.data for m in decode(*chunks)]


# --- framing -------------------------------------------------------------------------------


def test_lf_crlf_and_cr_line_ends_all_frame_events() -> None:
    assert datas(b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n") == ["a", "b", "c", "d"]


def test_comment_lines_are_ignored() -> None:
    assert datas(b": keep-alive\n\ndata: x\n: ping\n\n:\n\n") == ["x"]


def test_line_split_across_reads_is_joined() -> None:
    assert datas(b'data: {"a"', b': "hello', b' world"}\n', b"\n") == ['{"a": "hello world"}']


def test_crlf_split_between_reads_is_one_line_end() -> None:
    # \r at the end of one read, \n at the start of the next: one line end, not an empty line.
    assert datas(b"data: a\r", b"\ndata: b\r\n\r\n") == ["a\nb"]


def test_multibyte_character_split_across_reads() -> None:
    raw = "data: héllo ✓\n\n".encode()
    assert datas(raw[:8], raw[8:15], raw[15:]) == ["héllo ✓"]


def test_multi_line_data_joins_with_newline() -> None:
    assert datas(b"data: line one\ndata: line two\ndata:\n\n") == ["line one\nline two\n"]


def test_last_event_without_trailing_blank_line_is_kept() -> None:
    assert datas(b"data: first\n\ndata: last") == ["first", "last"]
    assert datas(b"data: last\n") == ["last"]


def test_done_is_an_ordinary_message_for_the_caller_to_spot() -> None:
    assert datas(b"data: [DONE]\n\n") == ["[DONE]"]


def test_event_field_and_unknown_fields() -> None:
    messages = decode(b"event: error\nid: 7\nretry: 10\ndata: {}\n\ndata: z\n\n")
    assert messages == [SSEMessage("error", "{}"), SSEMessage("message", "z")]


def test_no_space_after_colon_and_bom() -> None:
    assert datas(b"\xef\xbb\xbfdata:x\n\n") == ["x"]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert datas(b"\n\n\r\n") == []


# --- chunks → events ----------------------------------------------------------------------


def chunk(**fields: object) -> SSEMessage:
    return SSEMessage("message", json.dumps(fields))


def delta(**fields: object) -> SSEMessage:
    return chunk(model="route/kimi-k2.5", choices=[{"index": 0, "delta": fields}])


def test_reasoning_content_and_reasoning_both_map_to_reasoning_deltas() -> None:
    state = StreamState("route/kimi-k2.5")
    assert state.events_for(delta(reasoning_content="Think")) == [ReasoningDelta("Think")]
    assert state.events_for(delta(reasoning="ing")) == [ReasoningDelta("ing")]
    assert state.events_for(delta(content="Hi")) == [ContentDelta("Hi")]
    assert (state.reasoning, state.text) == ("Thinking", "Hi")


def test_role_only_and_null_content_chunks_yield_nothing() -> None:
    state = StreamState("m")
    assert state.events_for(delta(role="assistant", content=None)) == []
    assert state.events_for(chunk(choices=[])) == []


def test_usage_chunk_with_empty_choices() -> None:
    state = StreamState("m")
    usage = {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}
    events = state.events_for(chunk(choices=[], usage=usage))
    assert events == [UsageReport(Usage(12, 30, 42))]
    assert state.usage == Usage(12, 30, 42)


def test_usage_total_is_computed_when_missing() -> None:
    state = StreamState("m")
    state.events_for(chunk(usage={"prompt_tokens": 2, "completion_tokens": 3}))
    assert state.usage == Usage(2, 3, 5)


def test_finish_reason_model_provider_latency_are_remembered() -> None:
    state = StreamState("route/glm-5")
    finishing = {"index": 0, "delta": {}, "finish_reason": "length"}
    state.events_for(chunk(model="route/glm-5", provider="crof", choices=[finishing]))
    state.events_for(chunk(choices=[], latency_ms=812))
    assert (state.finish_reason, state.provider, state.latency_ms) == ("length", "crof", 812)


def test_tool_call_pieces_become_deltas_and_accumulate() -> None:
    state = StreamState("m")
    first = {"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": '{"ci'}}
    rest = {"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}
    assert state.events_for(delta(tool_calls=[first])) == [
        ToolCallDelta(0, "call_1", "get_weather", '{"ci')
    ]
    second = state.events_for(delta(tool_calls=[rest]))
    assert second == [ToolCallDelta(0, None, None, 'ty": "Oslo"}')]
    assert state.tool_calls() == [ToolCall("call_1", "get_weather", '{"city": "Oslo"}')]


def test_error_event_raises_stream_error_with_partial_text() -> None:
    state = StreamState("m")
    state.events_for(delta(content="Half an ans"))
    error = chunk(error={"message": "Upstream provider disconnected", "type": "api_error"})
    with pytest.raises(errors.StreamError) as caught:
        state.events_for(error, "http://x/v1")
    assert caught.value.partial_text == "Half an ans"
    assert "Upstream provider disconnected" in str(caught.value)
    assert caught.value.endpoint == "http://x/v1"


def test_named_error_event_raises_stream_error() -> None:
    with pytest.raises(errors.StreamError, match="overloaded"):
        StreamState("m").events_for(SSEMessage("error", '{"message": "overloaded"}'))


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", "42", ""])
def test_malformed_chunk_raises_protocol_error_with_excerpt(data: str) -> None:
    state = StreamState("m")
    state.events_for(delta(content="kept"))
    with pytest.raises(errors.ProtocolError) as caught:
        state.events_for(SSEMessage("message", data))
    assert caught.value.partial_text == "kept"
    assert "not a JSON object" in str(caught.value)


def test_protocol_error_excerpt_is_short() -> None:
    with pytest.raises(errors.ProtocolError) as caught:
        StreamState("m").events_for(SSEMessage("message", "<html>" + "x" * 5000))
    assert len(caught.value.message) < 300


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
