"""highlight.py: fenced code becomes a JupyterLab-looking box with coloured tokens, still inert."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest

from routing_magics.display.highlight import code_block_html, lexer_for, stylesheet
from routing_magics.display.render import markdown_to_html

from .test_render import OUR_STYLE, active_content, elements


def spans(out: str) -> list[tuple[str, str]]:
    """(class, text) of every coloured run, in order."""
    return re.findall(r'<span class="([a-z0-9]+)">([^<]*)</span>', out)


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        ("python", "def area(r):\n    return 3.14 * r ** 2  # circle\n",
         [("k", "def "), ("d", "area"), ("k", "return "), ("n", "3.14 "), ("o", "* "),
          ("o", "** "), ("n", "2  "), ("c", "# circle\n")]),
        ("js", "const n = 'x'; // note\n",
         [("k", "const "), ("o", "= "), ("s", "'x'"), ("c", "// note\n")]),
        ("sql", "SELECT name FROM users WHERE id = 7;\n",
         [("k", "SELECT "), ("k", "FROM "), ("k", "WHERE "), ("o", "= "), ("n", "7")]),
        ("bash", 'for f in *.txt; do echo "$f"; done\n',
         [("k", "for "), ("k", "in "), ("k", "do "), ("b", "echo "), ("k", "done\n")]),
    ],
)  # fmt: skip
def test_known_languages_get_coloured_tokens(
    language: str, code: str, expected: list[tuple[str, str]]
) -> None:
    out = code_block_html(code, language)
    assert [s for s in spans(out) if s in expected] == expected
    assert html.unescape(re.sub(r"<[^>]+>", "", out.split("</style>")[-1])) == code
    assert f'<code class="language-{language}"' in out


def test_colours_are_jupyterlab_theme_variables_with_fallbacks() -> None:
    out = code_block_html("def f():\n    return 1\n", "python")
    style = out[: out.index("</style>") + len("</style>")]
    assert OUR_STYLE.fullmatch(style)
    assert ".routing-magics-code .k{color:var(--jp-mirror-editor-keyword-color,#008000)" in style
    assert ".routing-magics-code .n{color:var(--jp-mirror-editor-number-color,#080)}" in style
    assert "comment" not in style  # only the rules the block uses
    assert not re.search(
        r"#fff\b|#ffffff|#000\b|#000000|(?<![-\w])(white|black)(?![-\w])", out, re.I
    )


def test_unknown_language_is_plain_and_labelled() -> None:
    out = code_block_html("frobnicate <x> & y\n", "no-such-lang")
    assert "<style>" not in out and "<span" not in out
    assert '<code class="language-no-such-lang"' in out
    assert "frobnicate &lt;x&gt; &amp; y\n</code>" in out


def test_no_language_is_guessed_only_when_confident() -> None:
    assert lexer_for("#!/usr/bin/env python3\nprint(1)\n", "").name == "Python"  # type: ignore[union-attr]
    assert lexer_for("#!/bin/bash\necho hi\n", "").name == "Bash"  # type: ignore[union-attr]
    assert lexer_for("hello world, nothing to see\n", "") is None
    assert lexer_for("x = 1\n", "") is None  # could be many languages: no guess
    plain = code_block_html("The total is 5 + 3\n", "")
    assert "<span" not in plain and "<code style=" in plain  # no language class either


def test_text_fences_stay_plain() -> None:
    assert "<span" not in code_block_html("def f(): pass\n", "text")


def test_the_box_looks_like_a_code_block_and_scrolls_sideways() -> None:
    out = code_block_html("x = 1\n", "python")
    pre = dict(elements(out))["pre"]
    assert pre["class"] == "routing-magics-code"
    for rule in ("background:var(--jp-cell-editor-background,", "padding:", "margin:",
                 "overflow-x:auto"):  # fmt: skip
        assert rule in pre["style"]
    assert "white-space:pre" in dict(elements(out))["code"]["style"]


def test_markup_inside_a_fence_stays_text() -> None:
    text = "```html\n</span></code></pre><script>alert(1)</script>\n```"
    out = markdown_to_html(text)
    assert active_content(out) == []
    assert "&lt;/span&gt;&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;" in re.sub(
        r"</?span[^>]*>", "", out
    )
    python = markdown_to_html('```python\nx = "</span><script>alert(1)</script>"\n```')
    assert active_content(python) == []
    assert '<span class="s">&quot;&lt;/span&gt;&lt;script&gt;' in python or (
        '<span class="s">"&lt;/span&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in python
    )


def test_stylesheet_of_nothing_is_empty() -> None:
    assert stylesheet(set()) == ""


def test_pygments_loads_only_when_code_is_rendered() -> None:
    code = (
        "import sys\n"
        "from routing_magics.display.render import markdown_to_html\n"
        "markdown_to_html('no code here')\n"
        "print('pygments' in sys.modules)\n"
        "markdown_to_html('```python\\nx = 1\\n```')\n"
        "print('pygments' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(
    ("text", "coloured"),
    [
        ("```python\nx = 1\n", False),  # still being written
        ("```python\nx = 1\n```\n", True),
        ("~~~~python\nx = 1\n~~~\n", False),  # a shorter closer is code, not the end
        ("~~~~python\nx = 1\n~~~~~\n", True),
        ("    x = 1\n", False),  # an indented block may still grow
    ],
)
def test_a_live_tail_colours_only_fences_it_has_closed(text: str, coloured: bool) -> None:
    assert ("<span" in markdown_to_html(text, live=True)) is coloured
    assert "<span" in markdown_to_html(text) or text.startswith("    ")  # finished: coloured
