"""blocks.py: streamed markdown is cut at block starts, never inside a fence or a continuation."""

from __future__ import annotations

from routing_magics.display.blocks import BlockSplitter


def test_indented_continuations_and_fences_stay_in_one_part() -> None:
    splitter = BlockSplitter(min_chars=1, fence_chars=1000)
    text = (
        "1. step one\n\n   still step one\n\n    indented code\n\n"
        "```\nfenced\n\n\nstill fenced\n```\n\nnext"
    )
    parts = [*splitter.feed(text), splitter.finish()]
    assert parts == [
        "1. step one\n\n   still step one\n\n    indented code\n\n",
        "```\nfenced\n\n\nstill fenced\n```\n\n",
        "next",
    ]


def test_a_part_is_frozen_only_once_the_next_block_has_begun() -> None:
    splitter = BlockSplitter(min_chars=5)
    assert splitter.feed("Hello world.\n\n") == []
    assert splitter.feed("  ") == []  # indented: may be a continuation
    assert splitter.feed("more\n\n") == []
    assert splitter.feed("N") == ["Hello world.\n\n  more\n\n"]
    assert splitter.finish() == "N"


def test_a_long_fence_is_cut_at_line_starts_and_each_piece_knows_its_opener() -> None:
    splitter = BlockSplitter(min_chars=5, fence_chars=10)
    text = "Intro.\n\n~~~~ python\nline one\nline two\nline three\n~~~~\n\nEnd."
    parts = [*splitter.feed(text), splitter.finish()]
    assert "".join(parts) == text
    assert parts[1] == "~~~~ python\nline one\nline two\n"
    assert parts[1].opener == "" and parts[2].opener == "~~~~ python\n"
    assert parts[2].startswith("line three\n~~~~")  # the closing line is never cut off alone
