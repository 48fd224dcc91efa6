"""What a `--each` batch shows: a progress bar while it runs, then a summary and failed rows.

The bar is tqdm's (a widget bar in Jupyter, one updating line in a terminal), redrawn at most
four times a second; when the batch ends it gives way to a one-line heading, and the summary
follows as its own output. The summary's words depend only on the outcome, so nbval replays it
(only the seconds vary: notebooks/sanitize.cfg masks them).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .render import escape
from .tables import table

if TYPE_CHECKING:
    from IPython.display import DisplayHandle
    from tqdm import tqdm

    from .protocols import Bundle


def heading(description: str, total: int) -> Bundle:
    """The bar's display before and after the bar: what a saved notebook keeps in its place.

    It must be known when the bar starts (nbval replays the first version of a display, a
    notebook keeps the last), so it names the batch, not its outcome: the summary says that."""
    line = f"--each {description}: {total:,} rows"
    return {
        "text/plain": line,
        "text/html": f'<div class="routing-magics-batch">{escape(line)}</div>',
    }


#: Seconds between two redraws of the bar, at least.
REDRAW_INTERVAL = 0.25
#: Failed rows listed under the summary, at most.
FAILED_ROWS_SHOWN = 20


class Progress(Protocol):
    """What run.batch reports to while rows finish (called from the kernel's main thread)."""

    def start(self, total: int, done: int) -> None: ...
    def update(self, done: int, failed: int, tokens: int) -> None: ...
    def waiting(self, seconds: float, why: str) -> None:
        """No send for `seconds` (0: sending again), `why` in words ("for the per-minute limit")."""

    def close(self) -> None: ...


class NoProgress:
    """For scripts and tests that want no bar."""

    def start(self, total: int, done: int) -> None:
        pass

    def update(self, done: int, failed: int, tokens: int) -> None:
        pass

    def waiting(self, seconds: float, why: str) -> None:
        pass

    def close(self) -> None:
        pass


class TqdmProgress:
    """tqdm's bar: `rich` a notebook widget bar, else one line on stderr.

    In a notebook the bar lives in a display that starts and ends as the same `heading` (the
    bar arrives as an update), so the saved outputs hold no dead widget but a line a code host
    shows, and nbval, which ignores updates, replays them exactly.
    """

    def __init__(self, *, rich: bool, description: str = "rows") -> None:
        self._rich, self._description = rich, description
        self._bar: tqdm[None] | None = None
        self._handle: DisplayHandle | None = None
        self._heading: Bundle = {}
        self._done = 0
        self._counts, self._wait = "", ""  # the bar's postfix: counts, and a wait if any

    def start(self, total: int, done: int) -> None:
        options = dict(
            total=total, initial=done, desc=self._description, unit="row", leave=False,
            mininterval=REDRAW_INTERVAL,
        )  # fmt: skip
        if self._rich:
            from IPython.display import display
            from tqdm.notebook import tqdm as notebook_bar

            self._heading = heading(self._description, total)
            self._handle = display(self._heading, raw=True, display_id=True)
            bar = notebook_bar(display=False, **options)
            if self._handle is not None:
                self._handle.update(bar.container)
            self._bar = bar
        else:
            from tqdm.std import tqdm as text_bar

            self._bar = text_bar(file=sys.stderr, **options)
        self._done = done

    def update(self, done: int, failed: int, tokens: int) -> None:
        bar = self._bar
        if bar is None:
            return
        self._counts = f"failed {failed}, {tokens:,} tokens"
        bar.set_postfix_str(self._postfix(), refresh=False)
        bar.update(done - self._done)  # tqdm redraws only when mininterval has passed
        self._done = done

    def waiting(self, seconds: float, why: str) -> None:
        """Say the wait beside the counts, redrawn only when the whole seconds change."""
        wait = f"waiting {seconds:.0f} s {why}" if seconds > 0 else ""
        if self._bar is None or wait == self._wait:
            return
        self._wait = wait
        self._bar.set_postfix_str(self._postfix(), refresh=True)

    def _postfix(self) -> str:
        return " · ".join(part for part in (self._counts, self._wait) if part)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._handle is not None:
            self._handle.update(self._heading, raw=True)
            self._handle = None


@dataclass(frozen=True)
class FailedRow:
    label: str
    code: str
    message: str


@dataclass(frozen=True)
class BatchSummary:
    """A finished batch, in the words its summary uses."""

    total: int
    answered: int
    cached: int
    failed: int
    not_sent: int
    tokens: int
    seconds: float
    stopped: str | None = None  # why the batch ended early
    failures: Sequence[FailedRow] = field(default_factory=tuple)
    retried: int = 0  # requests sent again (`%route usage` counts them as retried too)
    rate_limited: int = 0  # of which after a per-minute 429


def summary_text(s: BatchSummary) -> str:
    """One line: rows answered, from cache, failed, not sent, tokens, time."""
    return (
        f"{s.total:,} rows: {s.answered:,} answered, {s.cached:,} from cache, "
        f"{s.failed:,} failed, {s.not_sent:,} not sent{_retried(s)} · {s.tokens:,} tokens · "
        f"{s.seconds:.1f} s"
    )


def _retried(s: BatchSummary) -> str:
    """' · 9 requests retried after a 429' (nothing when none was sent again)."""
    if not s.retried:
        return ""
    what = "request" if s.retried == 1 else "requests"
    if s.rate_limited == s.retried:
        return f" · {s.retried:,} {what} retried after a 429"
    after = f", {s.rate_limited:,} after a 429" if s.rate_limited else ""
    return f" · {s.retried:,} {what} retried{after}"


def summary_bundles(s: BatchSummary) -> list[Bundle]:
    """The summary line (plus why it stopped), then a table of failed rows if any."""
    lines = [summary_text(s)]
    if s.stopped:
        lines.append(f"Stopped early: {s.stopped}")
    html = "".join(f'<div class="routing-magics-batch">{escape(line)}</div>' for line in lines)
    out: list[Bundle] = [{"text/plain": "\n".join(lines), "text/html": html}]
    if s.failures:
        shown = s.failures[:FAILED_ROWS_SHOWN]
        rows = [(f.label, f.code, f.message) for f in shown]
        more = len(s.failures) - len(shown)
        caption = "Failed rows" + (f" (first {len(shown)} of {len(s.failures)})" if more else "")
        out.append(table(("index", "error", "message"), rows, caption))
    return out
