"""ui/answer_format.py: the code `--format code` puts into the cell below."""

from __future__ import annotations

from routing_magics.ui.answer_format import extract_code


def test_extract_code_joins_fences_or_keeps_the_answer() -> None:
    assert extract_code("Try:\n```py\nx = 1\n```\nand\n```\ny = 2\n```") == "x = 1\n\ny = 2"
    assert extract_code("  just text  ") == "just text"
