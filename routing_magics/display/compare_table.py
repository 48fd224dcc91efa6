"""The figures table under a comparison: one row per model, the fastest and the cheapest marked.

Times vary from run to run and everything else does not, so each time (and the "fastest" mark,
which follows the times) sits in a cell of its own class and a text line of fixed words: the
notebooks' sanitizer masks exactly those (notebooks/sanitize.cfg).
"""

from __future__ import annotations

import html

from . import styles
from .figures import ModelFigures, ModelTally, cheapest, fastest
from .money import COST_NOTE, UNKNOWN, estimate
from .protocols import Bundle
from .tables import table

HEADERS = ("model", "first token", "total", "tokens in", "tokens out", "cost", "finish", "outcome")
_MARK = "font-weight:bold"


def seconds_text(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f} s"


def _cells(f: ModelFigures, fast: str | None, cheap: str | None) -> list[tuple[str, str]]:
    """(text, css class) of each cell of a row; marks join the time and the cost they are for."""
    mark = "≈" if f.estimated else ""
    ttft = seconds_text(None if f.ttft_ms is None else f.ttft_ms / 1000)
    total = seconds_text(f.seconds) + (" · fastest" if f.model == fast else "")
    cost = UNKNOWN if f.cost_usd is None else estimate(f.cost_usd)
    cost += " · cheapest" if f.model == cheap else ""
    return [
        (f.model, ""), (ttft, "routing-magics-time"), (total, "routing-magics-time"),
        (f"{mark}{f.prompt_tokens:,}", ""), (f"{mark}{f.completion_tokens:,}", ""),
        (cost, ""), (f.finish_reason or "—", ""), (f.outcome, ""),
    ]  # fmt: skip


def _line(f: ModelFigures, fast: str | None, cheap: str | None) -> str:
    cells = [text for text, _ in _cells(f, fast, cheap)]
    line = (f"{cells[0]}: first token {cells[1]}, total {cells[2]}, {cells[3]} in / {cells[4]} "
            f"out, {cells[5]}, finish {cells[6]}, {cells[7]}")  # fmt: skip
    return line + (f" ({f.error})" if f.error else "")


def figures_bundle(figures: list[ModelFigures]) -> Bundle:
    """The table as text (a line a model) and escaped HTML."""
    fast, cheap = fastest(figures), cheapest(figures)
    notes = ["≈: counted by us (the stream ended before its usage)."] if any(
        f.estimated for f in figures) else []  # fmt: skip
    if any(f.cost_usd is not None for f in figures):
        notes.append(COST_NOTE)
    text = "\n".join(["Figures", *(_line(f, fast, cheap) for f in figures), *notes])
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    body = "".join(_row_html(f, fast, cheap) for f in figures)
    note = "".join(f'<div style="{styles.FOOTER}">{html.escape(n)}</div>' for n in notes)
    return {
        "text/plain": text,
        "text/html": (
            f'<div class="routing-magics-table routing-magics-figures {styles.NO_MATH}" '
            f'style="{styles.SCROLL_X}"><table style="white-space:nowrap">'
            f"<tr>{head}</tr>{body}</table>{note}</div>"
        ),
    }


def _row_html(f: ModelFigures, fast: str | None, cheap: str | None) -> str:
    tds = []
    for text, cls in _cells(f, fast, cheap):
        style = f' style="{_MARK}"' if text.endswith(("fastest", "cheapest")) else ""
        klass = f' class="{cls}"' if cls else ""
        tds.append(f"<td{klass}{style}>{html.escape(text)}</td>")
    title = f' title="{html.escape(f.error)}"' if f.error else ""
    return f"<tr{title}>{''.join(tds)}</tr>"


#: Rows where the models disagree listed under the summary, at most.
DISAGREEMENTS_SHOWN = 5
TALLY_HEADERS = ("model", "answered", "from cache", "failed", "not sent", "tokens", "cost")


def tally_bundle(tallies: list[ModelTally]) -> Bundle:
    """Per model: rows answered, from cache, failed, not sent, tokens and estimated cost."""
    rows = [
        (t.model, f"{t.answered:,}", f"{t.cached:,}", f"{t.failed:,}", f"{t.not_sent:,}",
         f"{t.tokens:,}", UNKNOWN if t.cost_usd is None else estimate(t.cost_usd))
        for t in tallies
    ]  # fmt: skip
    bundle = table(TALLY_HEADERS, rows, "Every row to every model")
    why = [f"{t.model}: {t.why}" for t in tallies if t.why]
    if why:
        notes = "".join(f'<div style="{styles.FOOTER}">{html.escape(w)}</div>' for w in why)
        text = "\n".join([bundle["text/plain"], *why])
        bundle = {"text/plain": text, "text/html": bundle["text/html"] + notes}
    return bundle


def agreement_bundles(
    models: list[str], compared: int, agreed: int, long_rows: int,
    disagreements: list[tuple[str, list[str]]],
) -> list[Bundle]:  # fmt: skip
    """The share of rows where the models agree, and a few rows where they do not."""
    if not compared:
        why = f"{long_rows:,} rows have answers too long to compare" if long_rows else (
            "no row was answered by every model")  # fmt: skip
        line = f"Agreement: not measured ({why})."
        return [{"text/plain": line, "text/html": _line_html(line)}]
    line = (f"Agreement: the models give the same answer on {agreed:,} of {compared:,} rows "
            f"({agreed / compared:.0%}; case and surrounding spaces ignored)")  # fmt: skip
    line += f"; {long_rows:,} rows with longer answers were not compared." if long_rows else "."
    out: list[Bundle] = [{"text/plain": line, "text/html": _line_html(line)}]
    if disagreements:
        shown = disagreements[:DISAGREEMENTS_SHOWN]
        more = len(disagreements) - len(shown)
        caption = "Rows where they differ" + (
            f" (first {len(shown)} of {len(disagreements):,}; {more:,} more)" if more else ""
        )
        out.append(table(("row", *models), [(label, *texts) for label, texts in shown], caption))
    return out


def _line_html(line: str) -> str:
    return f'<div class="routing-magics-batch {styles.NO_MATH}">{html.escape(line)}</div>'
