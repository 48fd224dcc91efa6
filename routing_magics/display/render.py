"""Model text → safe HTML: the answer's markdown, the reasoning view, the footer.

Model output is untrusted. Raw HTML is escaped (markdown-it with `html: False`), link and image
URLs pass an allowlist of schemes after entity/percent decoding, links open in a new tab with
`rel="noopener noreferrer nofollow"`, and `$…$`, `\\(…\\)`, `\\[…\\]` stay verbatim for MathJax.
markdown-it-py is imported on first use so `import routing_magics` stays cheap.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .protocols import FooterInfo

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

__all__ = [
    "FooterInfo",
    "bundle",
    "escape",
    "footer_html",
    "footer_text",
    "is_safe_url",
    "markdown_to_html",
    "notice_html",
    "preformatted_html",
    "reasoning_html",
]

_LINK_SCHEMES = frozenset({"http", "https", "mailto", "ftp", "tel"})
_DATA_IMAGE = re.compile(r"data:image/(png|gif|jpeg|webp)[;,]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
# Browsers drop ASCII whitespace and control characters inside a URL's scheme ("jav\tascript:").
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_LINK_REL = "noopener noreferrer nofollow"
# The only raw HTML we let through: the task-list plugin's disabled checkboxes.
_CHECKBOX = re.compile(
    r'<input class="task-list-item-checkbox" (checked="checked" )?disabled="disabled" ?'
    r'type="checkbox" ?/?>'
)


def escape(text: str) -> str:
    """HTML-escape text for element content and quoted attributes."""
    return html.escape(text, quote=True)


def is_safe_url(url: str, *, image: bool = False) -> bool:
    """True for relative URLs and http(s)/mailto/ftp/tel; data: only for raster images."""
    decoded = url
    for _ in range(3):  # undo nested percent/entity encoding: "jav&#x09;ascript:", "%6Aavascript:"
        decoded = html.unescape(unquote(decoded))
    flat = _INVISIBLE.sub("", decoded).lower()
    match = _SCHEME.match(flat)
    if match is None:
        return True  # no scheme: a relative URL or a fragment
    scheme = match.group(1)
    if scheme == "data":
        return image and _DATA_IMAGE.match(flat) is not None
    return scheme in _LINK_SCHEMES


def markdown_to_html(text: str) -> str:
    """Render an answer's markdown to safe HTML inside `<div class="routing-magics-answer">`."""
    body = _markdown().render(text)
    return f'<div class="routing-magics-answer">{body}</div>'


def code_blocks(text: str) -> list[str]:
    """The contents of the answer's fenced code blocks, as the renderer sees them."""
    return [token.content for token in _markdown().parse(text) if token.type == "fence"]


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    """The one configured parser: CommonMark, raw HTML off, tables, strikethrough, task lists."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.tasklists import tasklists_plugin

    class SafeMarkdownIt(MarkdownIt):
        def validateLink(self, url: str) -> bool:
            return is_safe_url(url, image=True)  # links with data: are dropped by _secure_tokens

    md = SafeMarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.use(tasklists_plugin)
    md.inline.ruler.before("escape", "math_verbatim", _math_verbatim)
    md.core.ruler.push("secure_tokens", _secure_tokens)
    return md


def _math_verbatim(state: StateInline, silent: bool) -> bool:
    """Keep a math span as literal text so emphasis and escapes don't mangle it for MathJax."""
    end = _math_end(state.src, state.pos, state.posMax)
    if end is None:
        return False
    if not silent:
        token = state.push("text", "", 0)
        token.content = state.src[state.pos : end]
    state.pos = end
    return True


def _math_end(src: str, pos: int, limit: int) -> int | None:
    """End of a math span starting at `pos`, or None (so "$5 and $10" stays plain text)."""
    for opener, closer in (("$$", "$$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if src.startswith(opener, pos):
            close = src.find(closer, pos + 2, limit)
            return close + 2 if close > pos + 2 else None
    if src[pos] != "$" or pos + 1 >= limit or src[pos + 1].isspace():
        return None
    close = pos + 1
    while True:  # the first unescaped "$" decides: it must close, or there is no math here
        close = src.find("$", close + 1, limit)
        if close < 0:
            return None
        if src[close - 1] != "\\":
            break
    after = src[close + 1] if close + 1 < limit else ""
    if src[close - 1].isspace() or after.isdigit():
        return None
    return close + 1


def _secure_tokens(state: StateCore) -> None:
    """Defence in depth after parsing: recheck URLs, harden links, escape stray raw HTML."""
    for token in state.tokens:
        _secure(token)
        if token.children:
            token.children = [safe for child in token.children for safe in _secured_inline(child)]


def _secured_inline(token: Token) -> list[Token]:
    """A remote image becomes a link to it: loading it by itself would let a prompt-injected
    answer send notebook data to any server in the URL, with no click. data: images stay."""
    src = str(token.attrGet("src") or "")
    if token.type != "image" or not src or src.lower().startswith("data:"):
        _secure(token)
        return [token]
    from markdown_it.token import Token

    link = Token("link_open", "a", 1, attrs={"href": src})
    _secure(link)
    label = Token("text", "", 0, content=f"🖼 {token.content or 'image'}")
    return [link, label, Token("link_close", "a", -1)]


def _secure(token: Token) -> None:
    if token.type == "link_open":
        href = str(token.attrGet("href") or "")
        if not is_safe_url(href):
            token.attrs.pop("href", None)
        token.attrSet("rel", _LINK_REL)
        token.attrSet("target", "_blank")
    elif token.type == "image" and not is_safe_url(str(token.attrGet("src") or ""), image=True):
        token.attrs.pop("src", None)
    elif token.type in ("html_inline", "html_block") and not _CHECKBOX.fullmatch(token.content):
        token.type = "text"


def reasoning_html(
    text: str, *, open: bool, tokens: int | None = None, seconds: float | None = None
) -> str:
    """The reasoning as escaped pre-wrapped text in a `<details>`, open while it streams."""
    facts = ["Reasoning"]
    if tokens is not None:
        facts.append(f"{tokens:,} tokens")
    if seconds is not None:
        facts.append(f"{seconds:.1f} s")
    summary = " · ".join(facts) + ("…" if open else "")
    return (
        f'<details class="routing-magics-reasoning"{" open" if open else ""}>'
        f"<summary>{escape(summary)}</summary>"
        '<div style="white-space:pre-wrap;opacity:0.75;font-size:0.9em">'
        f"{escape(text)}</div></details>"
    )


def preformatted_html(text: str) -> str:
    """Text shown as it is (--format text / json): escaped, in a <pre>."""
    return f'<pre class="routing-magics-text">{escape(text)}</pre>'


def notice_html(text: str) -> str:
    """A one-line notice (stopped, an error, a max_tokens warning) as its own small output."""
    return f'<div class="routing-magics-notice" style="font-style:italic">{escape(text)}</div>'


def _footer_facts(info: FooterInfo) -> list[str]:
    facts = [info.model]
    if info.provider:
        facts.append(info.provider)
    if info.latency_ms is not None:
        ms = info.latency_ms
        facts.append(f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s")
    tokens = f"{info.prompt_tokens:,} in / {info.completion_tokens:,} out"
    facts.append(tokens + (" (estimated)" if info.estimated else ""))
    if info.steps is not None:
        facts.append(f"{info.steps} step" + ("" if info.steps == 1 else "s"))
    if info.notebook_total_tokens is not None:
        facts.append(f"notebook total {info.notebook_total_tokens:,} tokens")
    if info.offline:
        facts.append("offline emulator")
    if info.status != "ok":
        facts.append(info.status)
    return facts


def footer_text(info: FooterInfo) -> str:
    """One line: model · provider · latency · tokens in/out · notebook total · marks."""
    return " · ".join(_footer_facts(info))


def footer_html(info: FooterInfo) -> str:
    """The footer line, escaped, small and muted."""
    line = " · ".join(escape(fact) for fact in _footer_facts(info))
    return (
        '<div class="routing-magics-footer" style="font-size:0.85em;opacity:0.7;'
        f'margin-top:0.25em">{line}</div>'
    )


def bundle(
    text_plain: str, html: str, metadata: dict[str, Any] | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """A display's data (text/plain + text/html, never text/markdown) and its metadata."""
    return {"text/plain": text_plain, "text/html": html}, dict(metadata or {})
