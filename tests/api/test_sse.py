"""routing_magics.api.sse: SSE framing (pure)."""

from __future__ import annotations

import pytest

from routing_magics.api import errors
from routing_magics.api.sse import SSEDecoder, SSEMessage


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


def test_a_line_past_the_cap_raises_one_protocol_error_however_it_is_split() -> None:
    decoder = SSEDecoder(max_chars=1000)
    decoder.feed(b"data: " + b"x" * 900)
    with pytest.raises(errors.ProtocolError, match="line of more than 1,000 characters"):
        for _ in range(10):
            decoder.feed(b"x" * 50)


def test_many_data_lines_past_the_cap_raise_too() -> None:
    decoder = SSEDecoder(max_chars=1000)
    with pytest.raises(errors.ProtocolError, match="message of more than 1,000 characters"):
        decoder.feed(b"data: " + b"y" * 100 + b"\n" * 1 + (b"data: " + b"y" * 100 + b"\n") * 20)


def test_a_crlf_split_across_reads_ends_one_line_only() -> None:
    decoder = SSEDecoder()
    got = decoder.feed(b"data: a\r") + decoder.feed(b"") + decoder.feed(b"\n\r\n")
    assert got == [SSEMessage("message", "a")]
