"""Tables as display bundles (text/plain + escaped text/html): usage per model with a bar
each, and the small tables of `%route models`, `config` and `usage --all`. Colours come from
styles.py; every table scrolls sideways inside its output and is marked for MathJax to leave alone
(a "$" in a cell stays text)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import styles
from .money import UNKNOWN, usd

if TYPE_CHECKING:
    from ..api.account import AccountInfo
    from ..ledger import ModelTotals
    from .protocols import Bundle

_HEADERS = ("model", "requests", "tokens in", "out", "total", "mean latency")


def _format_latency(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:,.1f} s"


def _cells(t: ModelTotals, costs: Mapping[str, float | None] | None) -> tuple[str, ...]:
    """One table row as text; `≈` marks totals that include our own estimate."""
    mark = "≈" if t.estimated else ""
    said = [f"{n:,} {word}" for n, word in ((t.errors, "failed"), (t.retried, "retried")) if n]
    requests = f"{t.requests:,}" + (f" ({', '.join(said)})" if said else "")
    cells = (
        t.model, requests, f"{mark}{t.prompt_tokens:,}", f"{mark}{t.completion_tokens:,}",
        f"{mark}{t.total_tokens:,}", _format_latency(t.mean_latency_ms),
    )  # fmt: skip
    if costs is None:
        return cells
    cost = costs.get(t.model)
    return (*cells, UNKNOWN if cost is None else usd(cost))


def _total_cells(totals: list[ModelTotals], costs: Mapping[str, float | None]) -> tuple[str, ...]:
    known = [c for c in costs.values() if c is not None]
    mark = "≈" if any(t.estimated for t in totals) else ""
    return (
        "total", f"{sum(t.requests for t in totals):,}",
        f"{mark}{sum(t.prompt_tokens for t in totals):,}",
        f"{mark}{sum(t.completion_tokens for t in totals):,}",
        f"{mark}{sum(t.total_tokens for t in totals):,}", "",
        usd(sum(known)) if known else UNKNOWN,
    )  # fmt: skip


def _note(totals: list[ModelTotals], costs: Mapping[str, float | None] | None) -> str:
    notes = []
    if any(t.estimated for t in totals):
        notes.append("≈ includes counts estimated for streams cut short.")
    if costs is not None and None in costs.values():
        notes.append(f"{UNKNOWN}: no published price.")
    return " ".join(notes)


def _plain_table(
    headers: tuple[str, ...], rows: list[tuple[str, ...]], title: str, note: str
) -> str:
    rows = [headers, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(headers))]
    lines = [title]
    for row in rows:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        lines.append("  ".join((first, *rest)).rstrip())
    if note:
        lines.append(note)
    return "\n".join(lines)


def _bar(share: float) -> str:
    return (
        f'<div style="{styles.BAR_TRACK}"><div style="width:{share:.1f}%;{styles.BAR}"></div></div>'
    )


def _html_table(
    headers: tuple[str, ...],
    rows: list[tuple[str, ...]],
    totals: list[ModelTotals],
    title: str,
    note: str,
) -> str:
    most = max((t.total_tokens for t in totals), default=0)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "<th></th>"
    body = []
    for index, row in enumerate(rows):
        cells = "".join(
            f'<td style="text-align:{"left" if i == 0 else "right"}">{html.escape(c)}</td>'
            for i, c in enumerate(row)
        )
        if index < len(totals):
            t = totals[index]
            share = 100.0 * t.total_tokens / most if most > 0 else 0.0
            body.append(f"<tr>{cells}<td>{_bar(share)}</td></tr>")
        else:  # the total row
            body.append(f'<tr style="font-weight:bold">{cells}<td></td></tr>')
    caption = f'<caption style="text-align:left">{html.escape(title)}</caption>'
    footer = f"<div><small>{html.escape(note)}</small></div>" if note else ""
    table = f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return (
        f'<div class="routing-magics-usage {styles.NO_MATH}" style="{styles.SCROLL_X}">'
        f"{table}{footer}</div>"
    )


def usage_table(
    totals: list[ModelTotals],
    *,
    title: str,
    costs: Mapping[str, float | None] | None = None,
    cost_note: str = "",
) -> Bundle:
    """A display bundle (text/plain + text/html) of per-model totals, with a bar per model.

    With `costs` (estimated USD per model; None: no known price), a cost column and a total row;
    `cost_note` says where the prices come from.
    """
    if not totals:
        return {
            "text/plain": f"{title}\nno requests yet",
            "text/html": (
                f'<div class="{styles.NO_MATH}"><b>{html.escape(title)}</b><br>'
                "no requests yet</div>"
            ),
        }
    rows = [_cells(t, costs) for t in totals]
    if costs is not None:
        rows.append(_total_cells(totals, costs))
    headers = (*_HEADERS, "≈ cost") if costs is not None else _HEADERS
    note = " ".join(n for n in (_note(totals, costs), cost_note) if n)
    return {
        "text/plain": _plain_table(headers, rows, title, note),
        "text/html": _html_table(headers, rows, totals, title, note),
    }


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


def allowance_table(info: AccountInfo) -> Bundle:
    """The account's requests used and left today, this hour and this minute, a bar each."""
    rows = []
    for a in (info.day, info.hour, info.minute):
        left = f"{a.left:,}" if a.limit else "no cap"
        limit = f"{a.limit:,}" if a.limit else "—"
        rows.append((a.period, f"{a.used:,}", limit, left, a.share))
    caption = f"Account ({info.plan} plan): requests used and left"
    headers = ("period", "used", "limit", "left")
    text = table(headers, [r[:4] for r in rows], caption)["text/plain"]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "<th></th>"
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:{"left" if i == 0 else "right"}">{html.escape(c)}</td>'
            for i, c in enumerate(r[:4])
        )
        + f"<td>{_bar(min(100.0, 100.0 * r[4]))}</td></tr>"
        for r in rows
    )
    cap = f'<caption style="text-align:left">{html.escape(caption)}</caption>'
    return {
        "text/plain": text,
        "text/html": (
            f'<div class="routing-magics-account {styles.NO_MATH}" style="{styles.SCROLL_X}">'
            f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        ),
    }
