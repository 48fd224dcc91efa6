"""What in an answer is math, and how it is marked so JupyterLab's MathJax typesets only that.

The rule (pandoc's `tex_math_dollars`, plus one guard for "US$5"):

- `$$…$$`, `\\[…\\]` (display) and `\\(…\\)` (inline) are always math, up to the first closer.
- `$…$` is inline math when the opening `$` is followed by a non-space and not preceded by a
  letter or digit, and the closing `$` (the next one not escaped as `\\$`) is preceded by a
  non-space and not followed by a digit; a backtick inside ends the attempt (code wins).
  So "$5 and $10", "costs $3.50", "$5-$10", "US$5 or US$7" stay text; "$x^2$", "$n$th" are math.
- Nothing in code spans or fenced code is math (markdown-it takes those first).

JupyterLab 4 typesets every rendered HTML output with MathJax 3 (`$`, `$$`, `\\(`, `\\[`), so
the answer's container carries MathJax's ignore classes and each math span its process classes
(styles.NO_MATH, styles.MATH): MathJax then looks at our math spans and nowhere else. A span
holds the TeX with `\\(…\\)` / `\\[…\\]` delimiters (MathJax's defaults, so any MathJax config
finds them), escaped; the text/plain copy keeps the answer's own source.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .styles import MATH

if TYPE_CHECKING:
    from collections.abc import Sequence

    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

__all__ = ["math_end", "math_html", "math_rule", "render_math"]

_BRACKETS = (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False))


def math_end(src: str, pos: int, limit: int) -> int | None:
    """End of a math span starting at `pos`, or None (so "$5 and $10" stays plain text)."""
    for opener, closer, _ in _BRACKETS:
        if src.startswith(opener, pos):
            close = src.find(closer, pos + 2, limit)
            return close + 2 if close > pos + 2 else None
    if src[pos] != "$" or pos + 1 >= limit or src[pos + 1].isspace():
        return None
    if pos > 0 and src[pos - 1].isalnum():
        return None  # "US$5": a currency prefix, not an opening
    close = pos + 1
    while True:  # the first unescaped "$" decides: it must close, or there is no math here
        close = src.find("$", close + 1, limit)
        if close < 0:
            return None
        if src[close - 1] != "\\":
            break
    after = src[close + 1] if close + 1 < limit else ""
    if src[close - 1].isspace() or after.isdigit() or "`" in src[pos:close]:
        return None
    return close + 1


def _tex_of(source: str) -> tuple[str, bool]:
    """A math span's TeX without its delimiters, and whether it is display math."""
    for opener, closer, display in _BRACKETS:
        if source.startswith(opener) and source.endswith(closer) and len(source) >= 4:
            return source[2:-2], display
    return source[1:-1], False


def math_html(source: str) -> str:
    """A math span's source (with its delimiters) as an escaped span MathJax will typeset."""
    tex, display = _tex_of(source)
    start, end = ("\\[", "\\]") if display else ("\\(", "\\)")
    if end in tex:  # the TeX itself holds the closer: keep what the model wrote
        start, end, tex = "", "", source
    return f'<span class="{MATH}">{html.escape(start + tex + end, quote=False)}</span>'


def math_rule(state: StateInline, silent: bool) -> bool:
    """markdown-it inline rule: a math span becomes one `math` token, safe from emphasis."""
    end = math_end(state.src, state.pos, state.posMax)
    if end is None:
        return False
    if not silent:
        token = state.push("math", "", 0)
        token.content = state.src[state.pos : end]
    state.pos = end
    return True


def render_math(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """markdown-it render rule for `math` tokens."""
    return math_html(tokens[idx].content)
