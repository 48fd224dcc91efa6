"""Fenced code → a highlighted `<pre>` that looks like code in a JupyterLab cell.

Rules: the fence's language picks the Pygments lexer (any Pygments alias: `python`, `py`,
`js`, `sh`…); an unknown language is shown plain. With no language, a guess is made among a
few common languages and used only when it is confident (one candidate's Pygments
`analyse_text` score is at least 0.5 and beats every other's); otherwise plain. Token colours
are JupyterLab's editor theme variables (`--jp-mirror-editor-keyword-color`, …, mapped as
JupyterLab's own highlight style maps CodeMirror tags), with Light's colours as fallbacks. They
are short classes defined by a `<style>` of only the rules the block uses, scoped to
`.routing-magics-code`; the box itself is inline style. Pygments is imported on first use.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .styles import CODE_BOX, CODE_TEXT

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

__all__ = ["code_block_html", "lexer_for"]

_CODE_CLASS = "routing-magics-code"
_VAR = "var(--jp-mirror-editor-{}-color,{})"
# class → (JupyterLab variable, Light's value, extra CSS)
_RULES: dict[str, tuple[str, str, str]] = {
    "k": ("keyword", "#008000", "font-weight:bold"),
    "o": ("operator", "#7800c2", "font-weight:bold"),
    "c": ("comment", "#408080", "font-style:italic"),
    "s": ("string", "#ba2121", ""),
    "s2": ("string-2", "#708", ""),
    "n": ("number", "#080", ""),
    "a": ("atom", "#88f", ""),
    "d": ("def", "#00f", ""),
    "b": ("builtin", "#008000", ""),
    "v": ("variable-2", "#00366d", ""),
    "p": ("property", "#05a", ""),
    "m": ("meta", "#a2f", ""),
    "t": ("tag", "#170", ""),
    "at": ("attribute", "#00c", ""),
    "h": ("header", "#00f", "font-weight:bold"),
    "q": ("quote", "#090", ""),
}
# Pygments token type (dotted, most specific first when looked up) → class. Names, plain text
# and punctuation stay uncoloured, as parentheses and names are in a JupyterLab cell.
_TOKENS: dict[str, str] = {
    "Keyword": "k",
    "Keyword.Constant": "k",
    "Operator": "o",
    "Operator.Word": "k",
    "Comment": "c",
    "Comment.Preproc": "m",
    "Comment.PreprocFile": "s",
    "Comment.Hashbang": "c",
    "Literal.String": "s",
    "Literal.String.Escape": "s2",
    "Literal.String.Interpol": "s2",
    "Literal.String.Regex": "s2",
    "Literal.String.Affix": "k",
    "Literal.Number": "n",
    "Literal": "a",
    "Literal.Date": "n",
    "Name.Builtin": "b",
    "Name.Builtin.Pseudo": "v",
    "Name.Function": "d",
    "Name.Function.Magic": "b",
    "Name.Class": "d",
    "Name.Decorator": "m",
    "Name.Exception": "b",
    "Name.Constant": "a",
    "Name.Entity": "a",
    "Name.Tag": "t",
    "Name.Attribute": "at",
    "Name.Property": "p",
    "Name.Label": "s2",
    "Name.Variable.Magic": "b",
    "Generic.Heading": "h",
    "Generic.Subheading": "h",
    "Generic.Inserted": "q",
    "Generic.Deleted": "s",
    "Generic.Prompt": "m",
}
# What an unlabelled fence may be guessed as: common languages whose analysers are specific.
_GUESSABLE = ("python", "bash", "javascript", "sql", "html", "css", "json", "c", "cpp", "rust")
_CONFIDENT = 0.5
_TEXT_ALIASES = frozenset({"text", "plain", "plaintext", "txt", "output", "console-output"})


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;").replace("'", "&#x27;")


@lru_cache(maxsize=256)
def _class_of(ttype: _TokenType) -> str:
    """The class for a Pygments token type: its own mapping or its nearest parent's."""
    while ttype.parent is not None:
        name = str(ttype)[len("Token.") :]
        if name in _TOKENS:
            return _TOKENS[name]
        ttype = ttype.parent
    return ""


@lru_cache(maxsize=64)
def _lexer_by_name(name: str) -> Lexer | None:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _guess(code: str) -> Lexer | None:
    """The one confident guess among _GUESSABLE, or None."""
    scores = []
    for name in _GUESSABLE:
        lexer = _lexer_by_name(name)
        if lexer is not None:
            scores.append((float(lexer.analyse_text(code)), name))
    scores.sort(reverse=True)
    if not scores or scores[0][0] < _CONFIDENT:
        return None
    if len(scores) > 1 and scores[1][0] >= scores[0][0]:
        return None
    return _lexer_by_name(scores[0][1])


def lexer_for(code: str, language: str) -> Lexer | None:
    """The lexer for a fence: by its language, a confident guess when it has none, else None."""
    language = language.strip().lower()
    if language in _TEXT_ALIASES:
        return None
    if language:
        return _lexer_by_name(language)
    return _guess(code)


def _spans(code: str, lexer: Lexer) -> tuple[str, set[str]]:
    """The code as escaped HTML with a span per coloured run, and the classes it used."""
    out: list[str] = []
    used: set[str] = set()
    run_class, run = "", ""
    for ttype, value in lexer.get_tokens(code):
        cls = _class_of(ttype) if value.strip() else run_class  # whitespace joins a run
        if cls != run_class:
            out.append(_wrap(run_class, run))
            run_class, run = cls, ""
            used.add(cls)
        run += value
    out.append(_wrap(run_class, run))
    used.discard("")
    return "".join(out), used


def _wrap(cls: str, text: str) -> str:
    if not text:
        return ""
    return f'<span class="{cls}">{_escape(text)}</span>' if cls else _escape(text)


def stylesheet(used: set[str]) -> str:
    """A `<style>` with the rules for these classes only, scoped to our code blocks."""
    rules = []
    for cls in sorted(used):
        variable, fallback, extra = _RULES[cls]
        colour = _VAR.format(variable, fallback)
        rules.append(f".{_CODE_CLASS} .{cls}{{color:{colour}{';' + extra if extra else ''}}}")
    return f"<style>{''.join(rules)}</style>" if rules else ""


def code_block_html(code: str, info: str, *, highlight: bool = True) -> str:
    """A fenced block (`info` is the fence's info string) as a JupyterLab-looking code box."""
    language = info.split(maxsplit=1)[0] if info.strip() else ""
    lexer = lexer_for(code, language) if highlight else None
    body, used = _spans(code, lexer) if lexer is not None else (_escape(code), set())
    label = f' class="language-{_attr(language)}"' if language else ""
    return (
        f'{stylesheet(used)}<pre class="{_CODE_CLASS}" style="{CODE_BOX}">'
        f'<code{label} style="{CODE_TEXT}">{body}</code></pre>'
    )
