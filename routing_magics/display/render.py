"""Model text → safe HTML: the answer's markdown, the reasoning view, the footer.

Model output is untrusted. Raw HTML is escaped (markdown-it with `html: False`), link and image
URLs pass an allowlist of schemes after entity/percent decoding, links open in a new tab with
`rel="noopener noreferrer nofollow"`. Fenced code is highlighted (highlight.py), math is marked for
MathJax and everything else is marked for MathJax to leave alone (math.py), wide tables scroll
inside the output; colours come from styles.py. markdown-it-py and Pygments are imported on first
use so `import routing_magics` stays cheap.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import styles
from .highlight import code_block_html
from .math import math_rule, render_math
from .money import COST_NOTE, UNKNOWN, estimate, usd
from .protocols import FooterInfo

if TYPE_CHECKING:
    from collections.abc import Sequence

    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

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


def markdown_to_html(text: str, *, live: bool = False) -> str:
    """Render an answer's markdown to safe HTML inside `<div class="routing-magics-answer">`.

    `live`: the text is a streaming tail, so a fence it has not closed yet is shown plain; it is
    highlighted once finished (a closed fence, or a piece the live view shows for good).
    """
    env = {"live_lines": text.split("\n")} if live else {}
    body = _markdown().render(text, env)
    return f'<div class="routing-magics-answer {styles.NO_MATH}">{body}</div>'


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
    md.inline.ruler.before("escape", "math", math_rule)
    md.add_render_rule("math", render_math)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_fence)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.core.ruler.push("secure_tokens", _secure_tokens)
    return md


def _render_fence(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Fenced (and indented) code: a highlighted box, as code looks in a JupyterLab cell."""
    from markdown_it.common.utils import unescapeAll

    token = tokens[idx]
    lines = env.get("live_lines")
    finished = lines is None or _closed(token, lines)
    return code_block_html(token.content, unescapeAll(token.info), highlight=finished) + "\n"


def _closed(token: Token, lines: list[str]) -> bool:
    """Whether a fence token ends with its closing line (an indented block never does)."""
    if token.type != "fence" or token.map is None:
        return False
    start, end = token.map
    last = lines[end - 1].strip() if start < end - 1 < len(lines) else ""
    marker = token.markup
    return last.startswith(marker) and not last.strip(marker[0])


def _render_table_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A table in a box of its own that scrolls sideways when the table is wider than the cell."""
    table = renderer.renderToken(tokens, idx, options, env)
    return f'<div class="routing-magics-table" style="{styles.SCROLL_X}">{table}'


def _render_table_close(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return renderer.renderToken(tokens, idx, options, env) + "</div>\n"


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
        f'<details class="routing-magics-reasoning {styles.NO_MATH}"{" open" if open else ""}>'
        f"<summary>{escape(summary)}</summary>"
        f'<div style="{styles.REASONING_TEXT}">{escape(text)}</div></details>'
    )


def preformatted_html(text: str) -> str:
    """Text shown as it is (--format text / json): escaped, in a <pre>."""
    return f'<pre class="routing-magics-text {styles.NO_MATH}">{escape(text)}</pre>'


def notice_html(text: str) -> str:
    """A one-line notice (stopped, an error, a max_tokens warning) as its own small output."""
    return (
        f'<div class="routing-magics-notice {styles.NO_MATH}" style="{styles.NOTICE}">'
        f"{escape(text)}</div>"
    )


def _footer_facts(info: FooterInfo) -> list[str]:
    facts = [info.model]
    if info.provider:
        facts.append(info.provider)
    if info.latency_ms is not None:
        ms = info.latency_ms
        facts.append(f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s")
    tokens = f"{info.prompt_tokens:,} in / {info.completion_tokens:,} out"
    facts.append(tokens + (" (estimated)" if info.estimated else ""))
    if info.steps is not None:  # a tool loop: the tokens above are summed over its steps
        facts.append(f"{info.steps} step" + ("" if info.steps == 1 else "s"))
    facts += _frame_facts(info) + _cost_facts(info)  # rows beside the tokens they cost
    if info.notebook_total_tokens is not None:
        facts.append(f"notebook total {info.notebook_total_tokens:,} tokens")
    if info.offline:
        facts.append("offline emulator")
    if info.status != "ok":
        facts.append(info.status)
    if info.warning:
        facts.append(f"⚠ {info.warning}")
    return facts


def _frame_facts(info: FooterInfo) -> list[str]:
    """'50 of 200 rows sent (--rows)' for each frame cut; named when several frames went."""
    cut = [frame for frame in info.frames if frame.cut_by]
    if len(info.frames) == 1:
        return [str(frame) for frame in cut]
    return [f"{frame.name}: {frame}" if frame.name else str(frame) for frame in cut]


def _cost_facts(info: FooterInfo) -> list[str]:
    """'≈ $0.0004', 'notebook ≈ $0.031': estimates from published prices; '—' if unpriced."""
    cost = info.cost
    if cost is None:
        return []
    facts = [f"cost {UNKNOWN}" if cost.answer_usd is None else estimate(cost.answer_usd)]
    if cost.notebook_usd is not None:
        partial = " (priced routes only)" if cost.notebook_partial else ""
        facts.append(f"notebook {estimate(cost.notebook_usd)}{partial}")
    if cost.budget_usd is not None and cost.budget_left_usd is not None:
        facts.append(f"budget left {estimate(cost.budget_left_usd)} of {usd(cost.budget_usd)}")
    return facts


def footer_text(info: FooterInfo) -> str:
    """One line: model · provider · latency · tokens in/out · notebook total · marks."""
    return " · ".join(_footer_facts(info))


def footer_html(info: FooterInfo) -> str:
    """The footer line, escaped, small and muted."""
    line = " · ".join(escape(fact) for fact in _footer_facts(info))
    title = f' title="{escape(COST_NOTE)}"' if info.cost is not None else ""
    return (
        f'<div class="routing-magics-footer {styles.NO_MATH}"{title} style="{styles.FOOTER}">'
        f"{line}</div>"
    )


def bundle(
    text_plain: str, html: str, metadata: dict[str, Any] | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """A display's data (text/plain + text/html, never text/markdown) and its metadata."""
    return {"text/plain": text_plain, "text/html": html}, dict(metadata or {})
