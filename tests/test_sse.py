"""routing_magics.sse: SSE framing and chunk → event mapping (pure)."""

from __future__ import annotations

import json

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
from routing_magics.sse import SSEDecoder, SSEMessage, StreamState


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
