"""blocks.py: streamed markdown is cut at block starts, never inside a fence or a continuation."""

from __future__ import annotations

from routing_magics.blocks import BlockSplitter


def test_indented_continuations_and_fences_stay_in_one_part() -> None:
    splitter = BlockSplitter(min_chars=1)
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
