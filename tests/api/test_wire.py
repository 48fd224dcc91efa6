"""routing_magics.api.wire: whole completions, request bodies, stream chunks → events (pure)."""

from __future__ import annotations

import json

import pytest

from routing_magics.api import errors
from routing_magics.api.models import (
    ContentDelta,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from routing_magics.api.sse import SSEMessage
from routing_magics.api.wire import StreamState, build_body, completion_from_json

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
    assert (state.answer.reasoning, state.answer.text) == ("Thinking", "Hi")


def test_role_only_and_null_content_chunks_yield_nothing() -> None:
    state = StreamState("m")
    assert state.events_for(delta(role="assistant", content=None)) == []
    assert state.events_for(chunk(choices=[])) == []


def test_usage_chunk_with_empty_choices() -> None:
    state = StreamState("m")
    usage = {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}
    events = state.events_for(chunk(choices=[], usage=usage))
    assert events == [UsageReport(Usage(12, 30, 42))]
    assert state.answer.usage == Usage(12, 30, 42)


def test_usage_total_is_computed_when_missing() -> None:
    state = StreamState("m")
    state.events_for(chunk(usage={"prompt_tokens": 2, "completion_tokens": 3}))
    assert state.answer.usage == Usage(2, 3, 5)


def test_finish_reason_model_provider_latency_are_remembered() -> None:
    state = StreamState("route/glm-5")
    finishing = {"index": 0, "delta": {}, "finish_reason": "length"}
    state.events_for(chunk(model="route/glm-5", provider="crof", choices=[finishing]))
    state.events_for(chunk(choices=[], latency_ms=812))
    assert (state.answer.finish_reason, state.answer.provider, state.answer.latency_ms) == (
        "length",
        "crof",
        812,
    )


def test_tool_call_pieces_become_deltas_and_accumulate() -> None:
    state = StreamState("m")
    first = {"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": '{"ci'}}
    rest = {"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}
    assert state.events_for(delta(tool_calls=[first])) == [
        ToolCallDelta(0, "call_1", "get_weather", '{"ci')
    ]
    second = state.events_for(delta(tool_calls=[rest]))
    assert second == [ToolCallDelta(0, None, None, 'ty": "Oslo"}')]
    assert state.answer.tool_calls() == [ToolCall("call_1", "get_weather", '{"city": "Oslo"}')]


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
