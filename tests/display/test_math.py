"""math.py: what is math and what is money, and how each reaches MathJax (or doesn't)."""

from __future__ import annotations

import re

import pytest

from routing_magics.display.math import math_html
from routing_magics.display.render import FooterInfo, footer_html, markdown_to_html, notice_html
from routing_magics.display.tables import table

from .test_render import active_content

PROCESS = re.compile(r'<span class="tex2jax_process mathjax_process">(.*?)</span>', re.S)


def math_spans(text: str) -> list[str]:
    """The TeX, with delimiters, of every span marked for MathJax in the rendered answer."""
    return PROCESS.findall(markdown_to_html(text))


MONEY = [
    "It costs $5 and $10 today.",
    "costs $3.50",
    "Between $5 and $6.",
    "Prices: $5, $10, and $20.",
    "A range of $5-$10 per seat.",
    "$5/month or $50/year",
    "From $1.5M to $2M in a year.",
    "Pay $5 (or $ 6 with tax).",
    "US$5 or US$7, your pick.",
    "The fee is $ 5 and the tip $ 2.",
    "It's $20 for one, $30 for two.",
    "Use `$HOME` and `$PATH` in the shell.",
    "In code: `cost = $5 + $x$`.",
    "```bash\necho $HOME $x$\n```",
    "Escaped \\$x\\$ is not math.",
    "Save $10 today and $ more later",
    "The costs were $100,000 and $200,000.",
]

MATH = [
    ("Area $x^2$ here", ["\\(x^2\\)"]),
    ("$a+b$", ["\\(a+b\\)"]),
    ("the $n$th element", ["\\(n\\)"]),
    ("$\\alpha$ and $\\beta$", ["\\(\\alpha\\)", "\\(\\beta\\)"]),
    ("Euler: $e^{i\\pi} + 1 = 0$.", ["\\(e^{i\\pi} + 1 = 0\\)"]),
    ("$$\\sum_{i=1}^n i$$", ["\\[\\sum_{i=1}^n i\\]"]),
    ("\\(a_1*b\\) inline", ["\\(a_1*b\\)"]),
    ("\\[ \\int_0^1 x\\,dx \\]", ["\\[ \\int_0^1 x\\,dx \\]"]),
    ("It costs $5 while $x=5$ holds.", ["\\(x=5\\)"]),
    ("Emphasis stays out: $a*b*c$", ["\\(a*b*c\\)"]),
    ("Price $p$ in dollars", ["\\(p\\)"]),
    ("$2x + 1$ is odd", ["\\(2x + 1\\)"]),
    ("A table:\n\n| f | g |\n|---|---|\n| $x^2$ | $5 |", ["\\(x^2\\)"]),
    ("$$\na \\\\ b\n$$", ["\\[\na \\\\ b\n\\]"]),
    ("Sets $\\{1, 2\\}$ too", ["\\(\\{1, 2\\}\\)"]),
]


@pytest.mark.parametrize("text", MONEY)
def test_money_and_code_dollars_are_never_math(text: str) -> None:
    out = markdown_to_html(text)
    assert math_spans(text) == []
    assert "tex2jax_ignore mathjax_ignore" in out  # and MathJax is told to leave it alone


@pytest.mark.parametrize(("text", "tex"), MATH)
def test_math_is_marked_for_mathjax(text: str, tex: list[str]) -> None:
    assert [re.sub("&lt;", "<", s) for s in math_spans(text)] == tex


def test_money_is_shown_exactly_as_typed() -> None:
    out = markdown_to_html("It costs $5 and $10 today.")
    assert "<p>It costs $5 and $10 today.</p>" in out


def test_math_and_markup_inside_it_are_escaped() -> None:
    out = markdown_to_html(
        "$<img src=x onerror=alert(1)>$ and $$</span><script>alert(2)</script>$$"
    )
    assert active_content(out) == []
    spans = PROCESS.findall(out)
    assert spans == [
        "\\(&lt;img src=x onerror=alert(1)&gt;\\)",
        "\\[&lt;/span&gt;&lt;script&gt;alert(2)&lt;/script&gt;\\]",
    ]


def test_tex_holding_its_own_closer_keeps_the_source_delimiters() -> None:
    assert (
        math_html("$a \\) b$") == '<span class="tex2jax_process mathjax_process">$a \\) b$</span>'
    )


def test_our_own_outputs_with_dollars_are_left_alone_by_mathjax() -> None:
    info = FooterInfo("route/x", "p", 10, 1, 2, False, 3, False)
    for out in (footer_html(info), notice_html("≈ $0.0004 and $1"),
                table(["cost"], [["$5"], ["$10"]])["text/html"]):  # fmt: skip
        first_tag = out[: out.index(">")]
        assert "tex2jax_ignore mathjax_ignore" in first_tag
        assert "mathjax_process" not in out
