"""The usage chart: well-formed SVG, nothing that runs, one series per model, gaps, numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from routing_magics.display.charts import token_chart
from routing_magics.ledger.reports import TokenBuckets

SVG = "{http://www.w3.org/2000/svg}"
DAYS = tuple((date(2026, 11, 3) + timedelta(days=i)).isoformat() for i in range(30))


def buckets() -> TokenBuckets:
    days = len(DAYS)
    kimi = [0] * days
    kimi[-1], kimi[-3] = 1_200, 300  # a gap on the day between
    glm = [0] * days
    glm[-1] = 50
    return TokenBuckets("day", DAYS, {"route/kimi-k2.5": kimi, "route/<b>glm</b>": glm})


def svg_of(bundle: dict[str, str]) -> ET.Element:
    match = re.search(r"<svg.*</svg>", bundle["text/html"], re.S)
    assert match is not None
    return ET.fromstring(match.group(0))  # raises if not well-formed


def test_the_chart_is_well_formed_svg_with_nothing_that_runs() -> None:
    root = svg_of(token_chart(buckets(), "Tokens per day"))
    assert root.tag == f"{SVG}svg"
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}a")
        assert not [name for name in element.attrib if name.lower().startswith("on")]
    assert "<script" not in token_chart(buckets(), "t")["text/html"].lower()


def test_one_series_per_model_and_days_without_use_are_gaps() -> None:
    root = svg_of(token_chart(buckets(), "Tokens per day"))
    series = root.findall(f"{SVG}g[@class='series']")
    assert [g.get("data-model") for g in series] == ["route/kimi-k2.5", "route/<b>glm</b>"]
    kimi, glm = ([r.find(f"{SVG}title").text for r in g.findall(f"{SVG}rect")] for g in series)
    assert kimi == [
        "route/kimi-k2.5 · 2026-11-30 · 300 tokens",
        "route/kimi-k2.5 · 2026-12-02 · 1,200 tokens",
    ]  # nothing drawn for 2026-12-01: a gap, not a zero-height bar
    assert glm == ["route/<b>glm</b> · 2026-12-02 · 50 tokens"]
    # Stacked: the second series sits on top of the first on the shared day.
    kimi_today = series[0].findall(f"{SVG}rect")[-1]
    glm_today = series[1].find(f"{SVG}rect")
    assert float(glm_today.get("y")) + float(glm_today.get("height")) == float(kimi_today.get("y"))


def test_colours_come_from_jupyterlab_variables_with_fallbacks() -> None:
    root = svg_of(token_chart(buckets(), "Tokens per day"))
    first, second = root.findall(f"{SVG}g[@class='series']")
    assert first.get("style") == "fill:var(--jp-brand-color1,#1976d2)" and first.get("fill")
    assert "--jp-warn-color1" in second.get("style")
    assert "var(--jp-ui-font-color1" in root.get("style")


def test_model_names_are_escaped_in_the_html() -> None:
    html = token_chart(buckets(), "Tokens <per> day")["text/html"]
    assert "<b>glm" not in html and "&lt;b&gt;glm" in html
    assert "Tokens &lt;per&gt; day" in html


def test_the_text_fallback_says_the_numbers() -> None:
    text = token_chart(buckets(), "Tokens per day")["text/plain"]
    assert text.splitlines() == [
        "Tokens per day",
        "2026-11-30  300 tokens (route/kimi-k2.5 300)",
        "2026-12-02  1,250 tokens (route/kimi-k2.5 1,200, route/<b>glm</b> 50)",
    ]


def test_an_empty_period_says_so() -> None:
    empty = TokenBuckets("hour", tuple(f"{h:02d}:00" for h in range(24)), {})
    bundle = token_chart(empty, "Tokens per hour today")
    assert bundle["text/plain"].endswith("no tokens in this period")
    assert svg_of(bundle).findall(f"{SVG}g[@class='series']") == []


def test_every_axis_label_fits_inside_the_chart() -> None:
    """The last date used to be centred under the last bar and clipped: `2026-12-`."""
    root = svg_of(token_chart(buckets(), "Tokens per day"))
    width = float(root.attrib["width"])
    glyph = 11 * 0.7  # font-size 11; wider than any sans digit or hyphen
    labels = [t for t in root.iter(f"{SVG}text") if t.text in DAYS]
    assert [t.text for t in labels][-1] == DAYS[-1]  # today is labelled
    for text in labels:
        x, extent = float(text.attrib["x"]), glyph * len(text.text or "")
        left = {"end": x - extent, "middle": x - extent / 2}[text.attrib["text-anchor"]]
        assert left >= 0 and left + extent <= width, (text.text, left, left + extent)
