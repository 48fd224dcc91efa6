"""Tokens over time as stacked bars: plain SVG built here, no JavaScript, no plotting package.

Colours come from JupyterLab's CSS variables (so Light and Dark both read well), each with a
fallback colour for other frontends; text is `currentColor`. A `text/plain` twin lists the numbers.
Every label is escaped: model ids come from the ledger and, through GET /models, from the server.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..ledger.reports import TokenBuckets
    from .protocols import Bundle

#: (CSS variable, fallback) per series, in order; models past the last share the last colour.
PALETTE = (
    ("--jp-brand-color1", "#1976d2"),
    ("--jp-warn-color1", "#f57c00"),
    ("--jp-accent-color1", "#388e3c"),
    ("--jp-error-color1", "#d32f2f"),
    ("--jp-info-color1", "#0097a7"),
    ("--jp-ui-font-color2", "#757575"),
)
WIDTH, PLOT_HEIGHT = 640, 160
LEFT, TOP, BOTTOM, LEGEND_ROW = 64, 10, 34, 18


def colour(index: int) -> tuple[str, str]:
    """The series' (CSS variable, fallback) pair."""
    return PALETTE[min(index, len(PALETTE) - 1)]


def _nice_ceiling(value: int) -> int:
    """A round axis top at or above `value`: 1, 2 or 5 times a power of ten."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _bars(buckets: TokenBuckets, top: int) -> list[str]:
    """One <g class="series"> per model; a bucket with no tokens draws nothing (a gap)."""
    n = len(buckets.labels)
    slot = (WIDTH - LEFT - 8) / n
    stacked = [0] * n
    groups = []
    for i, (model, values) in enumerate(buckets.tokens.items()):
        var, fallback = colour(i)
        rects = []
        for j, tokens in enumerate(values):
            if tokens <= 0:
                continue
            height = PLOT_HEIGHT * tokens / top
            y = TOP + PLOT_HEIGHT * (1 - (stacked[j] + tokens) / top)
            stacked[j] += tokens
            tip = f"{model} · {buckets.labels[j]} · {tokens:,} tokens"
            rects.append(
                f'<rect x="{LEFT + j * slot + slot * 0.15:.1f}" y="{y:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{height:.1f}">'
                f"<title>{_attr(tip)}</title></rect>"
            )
        style = f"fill:var({var},{fallback})"
        groups.append(
            f'<g class="series" data-model="{_attr(model)}" fill="{fallback}" style="{style}">'
            + "".join(rects)
            + "</g>"
        )
    return groups


def _axes(buckets: TokenBuckets, top: int) -> list[str]:
    """Baseline, the top value, and a few bucket labels."""
    n = len(buckets.labels)
    slot = (WIDTH - LEFT - 8) / n
    base = TOP + PLOT_HEIGHT
    # Days: today and every week back from it; hours: every 6 h from midnight.
    marks = range(n - 1, -1, -7) if buckets.unit == "day" else range(0, n, 6)
    parts = [
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - 8}" y2="{base}" stroke="currentColor" '
        'stroke-opacity="0.4"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{top:,}</text>',
        f'<text x="{LEFT - 6}" y="{base}" text-anchor="end">0</text>',
    ]
    for j in sorted(marks):
        label = _attr(buckets.labels[j])
        if j == n - 1:  # centred under the last bar, a date ran past the chart's right edge
            where = f'x="{LEFT + n * slot:.1f}" text-anchor="end"'
        else:
            where = f'x="{LEFT + (j + 0.5) * slot:.1f}" text-anchor="middle"'
        parts.append(f'<text {where} y="{base + 14}">{label}</text>')
    return parts


def _legend(buckets: TokenBuckets, y0: int) -> list[str]:
    parts = []
    for i, (model, values) in enumerate(buckets.tokens.items()):
        var, fallback = colour(i)
        y = y0 + i * LEGEND_ROW
        parts.append(
            f'<rect x="{LEFT}" y="{y - 9}" width="10" height="10" fill="{fallback}" '
            f'style="fill:var({var},{fallback})"/>'
            f'<text x="{LEFT + 16}" y="{y}">{_attr(model)} · {sum(values):,} tokens</text>'
        )
    return parts


def token_chart_svg(buckets: TokenBuckets, title: str) -> str:
    """The chart as an <svg> element (stacked bars per model, legend below)."""
    columns = zip(*buckets.tokens.values(), strict=True)
    top = _nice_ceiling(max((sum(column) for column in columns), default=1))
    legend_top = TOP + PLOT_HEIGHT + BOTTOM
    height = legend_top + LEGEND_ROW * max(1, len(buckets.tokens))
    body = [*_bars(buckets, top), *_axes(buckets, top), *_legend(buckets, legend_top)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{_attr(title)}" '
        'font-size="11" fill="currentColor" style="color:var(--jp-ui-font-color1,currentColor);'
        'font-family:var(--jp-ui-font-family,sans-serif)">'
        f"<title>{_attr(title)}</title>" + "".join(body) + "</svg>"
    )


def token_chart_text(buckets: TokenBuckets, title: str) -> str:
    """The numbers behind the chart: one line per bucket with use, tokens per model."""
    lines = [title]
    for j, label in enumerate(buckets.labels):
        used = [(m, v[j]) for m, v in buckets.tokens.items() if v[j] > 0]
        if used:
            each = ", ".join(f"{m} {t:,}" for m, t in used)
            lines.append(f"{label}  {sum(t for _, t in used):,} tokens ({each})")
    if len(lines) == 1:
        lines.append("no tokens in this period")
    return "\n".join(lines)


def token_chart(buckets: TokenBuckets, title: str) -> Bundle:
    """A display bundle: the SVG chart (in a captioned <div>) and its text twin."""
    svg = token_chart_svg(buckets, title)
    caption = f"<div><b>{html.escape(title)}</b></div>"
    return {
        "text/plain": token_chart_text(buckets, title),
        "text/html": f'<div class="routing-magics-chart">{caption}{svg}</div>',
    }
