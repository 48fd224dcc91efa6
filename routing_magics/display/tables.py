"""Tables as display bundles (text/plain + escaped text/html): usage per model with a bar
each, and the small tables of `%route models`, `config` and `usage --all`. Colours come from
styles.py; every table scrolls sideways inside its output and is marked for MathJax to leave alone
(a "$" in a cell stays text)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import styles

if TYPE_CHECKING:
    from ..ledger import ModelTotals
    from .protocols import Bundle

_HEADERS = ("model", "requests", "tokens in", "out", "total", "mean latency")


def _format_latency(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:,.1f} s"


def _cells(t: ModelTotals) -> tuple[str, ...]:
    """One table row as text; `≈` marks totals that include our own estimate."""
    mark = "≈" if t.estimated else ""
    requests = f"{t.requests:,}" + (f" ({t.errors:,} failed)" if t.errors else "")
    return (
        t.model, requests, f"{mark}{t.prompt_tokens:,}", f"{mark}{t.completion_tokens:,}",
        f"{mark}{t.total_tokens:,}", _format_latency(t.mean_latency_ms),
    )  # fmt: skip


def _note(totals: list[ModelTotals]) -> str:
    if any(t.estimated for t in totals):
        return "≈ includes counts estimated for streams cut short"
    return ""


def _plain_table(totals: list[ModelTotals], title: str) -> str:
    rows = [_HEADERS, *(_cells(t) for t in totals)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADERS))]
    lines = [title]
    for row in rows:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        lines.append("  ".join((first, *rest)).rstrip())
    if note := _note(totals):
        lines.append(note)
    return "\n".join(lines)


def _bar(share: float) -> str:
    return (
        f'<div style="{styles.BAR_TRACK}"><div style="width:{share:.1f}%;{styles.BAR}"></div></div>'
    )


def _html_table(totals: list[ModelTotals], title: str) -> str:
    most = max((t.total_tokens for t in totals), default=0)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADERS) + "<th></th>"
    body = []
    for t in totals:
        share = 100.0 * t.total_tokens / most if most > 0 else 0.0
        cells = "".join(
            f'<td style="text-align:{"left" if i == 0 else "right"}">{html.escape(c)}</td>'
            for i, c in enumerate(_cells(t))
        )
        body.append(f"<tr>{cells}<td>{_bar(share)}</td></tr>")
    note = _note(totals)
    caption = f'<caption style="text-align:left">{html.escape(title)}</caption>'
    footer = f"<div><small>{html.escape(note)}</small></div>" if note else ""
    table = f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return (
        f'<div class="routing-magics-usage {styles.NO_MATH}" style="{styles.SCROLL_X}">'
        f"{table}{footer}</div>"
    )


def usage_table(totals: list[ModelTotals], *, title: str) -> Bundle:
    """A display bundle (text/plain + text/html) of per-model totals, with a bar per model."""
    if not totals:
        return {
            "text/plain": f"{title}\nno requests yet",
            "text/html": (
                f'<div class="{styles.NO_MATH}"><b>{html.escape(title)}</b><br>'
                "no requests yet</div>"
            ),
        }
    return {"text/plain": _plain_table(totals, title), "text/html": _html_table(totals, title)}


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> Bundle:
    """A small display bundle: an aligned text table and an escaped HTML table."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def aligned(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))

    text = "\n".join([caption, aligned(headers), *(aligned(r) for r in cells)])
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in cells
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return {
        "text/plain": text.strip("\n"),
        "text/html": (
            f'<div class="routing-magics-table {styles.NO_MATH}" style="{styles.SCROLL_X}">'
            f"<table>{cap}<tr>{head}</tr>{body}</table></div>"
        ),
    }
