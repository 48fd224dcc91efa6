"""ui/formats.py: how an `-o` result shows on its own, through IPython's real formatters."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

import routing_magics
from routing_magics.api.models import Completion
from routing_magics.ui.formats import extract_code


def test_a_result_alone_in_a_cell_shows_its_answer_rendered_and_escaped(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTING_RUN_API_KEY", "rk_test_formats")
    monkeypatch.setenv("ROUTING_MAGICS_USAGE_DB", f"{tmp_path}/u.sqlite")
    shell = InteractiveShell.instance()
    routing_magics.load_ipython_extension(shell)
    try:
        answer = Completion(text="**Yes** <script>alert(1)</script>", model="route/glm-5")
        data, _ = shell.display_formatter.format(answer)
    finally:
        routing_magics.unload_ipython_extension(shell)
    assert data["text/plain"] == "**Yes** <script>alert(1)</script>"
    assert "<strong>Yes</strong>" in data["text/html"]
    assert "<script>" not in data["text/html"] and "&lt;script&gt;" in data["text/html"]
    assert "text/markdown" not in data


def test_extract_code_joins_fences_or_keeps_the_answer() -> None:
    assert extract_code("Try:\n```py\nx = 1\n```\nand\n```\ny = 2\n```") == "x = 1\n\ny = 2"
    assert extract_code("  just text  ") == "just text"
