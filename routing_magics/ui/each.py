"""`%%route --each NAME`: the shell over run.batch (checks, progress, summary, -o, --into)."""

from __future__ import annotations

import argparse
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from IPython.core.error import UsageError
from IPython.display import display

from ..api import errors
from ..display.progress import Progress, TqdmProgress, summary_bundles
from ..run.batch import DEFAULT_CONCURRENCY, BatchOptions, BatchResult, run_batch
from ..run.batch.columns import answers, check_into, write_into
from .advice import Stopped, notebook_message
from .preflight import preflight
from .views import is_rich

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..display.protocols import DisplayMode
    from ..run import RunOptions
    from ..session import Session


@dataclass(frozen=True)
class EachArgs:
    """The `--each` options of one cell."""

    frame: str
    out: str | None
    into: str | None
    fmt: str
    concurrency: int
    limit: int | None
    cache: bool
    overwrite: bool  # --into may replace columns that exist
    yes: bool = False  # --yes: send without asking, whatever the estimate

    @classmethod
    def of(cls, args: argparse.Namespace) -> EachArgs:
        if args.chat or args.df:
            flag = "--chat" if args.chat else "--df"
            raise UsageError(f"{flag} does not combine with --each; use {{col}} names per row")
        if args.format == "code":
            raise UsageError("--format code needs one answer; with --each use text or json")
        if args.into is not None and not args.into.strip():
            raise UsageError("--into needs a column name, e.g. --into sentiment")
        concurrency = DEFAULT_CONCURRENCY if args.concurrency is None else args.concurrency
        return cls(args.each, args.out, args.into, args.format, concurrency, args.limit,
                   not args.no_cache, args.overwrite, args.yes)  # fmt: skip


def run_each(
    session: Session,
    shell: InteractiveShell,
    template: str,
    options: RunOptions,
    each: EachArgs,
    *,
    mode: DisplayMode,
    requests_per_minute: int | None,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    confirm_above: float | None = None,
    background: bool = False,
) -> None:
    """Run the batch, show its summary, bind -o / --into; a stopped batch fails the cell.

    A RoutingError (a bad frame, template or model) is left to the caller: magics._call."""
    frame = checked_frame(shell, each)
    batch = BatchOptions(each.concurrency, each.limit, each.cache, each.fmt, requests_per_minute)
    rich = is_rich(shell, mode)
    result = run_batch(
        session, each.frame, frame, template, options, batch, shell.user_ns,
        progress or TqdmProgress(rich=rich, description=each.frame), stop,
        preflight(session, yes=each.yes, confirm_above=confirm_above, can_ask=not background),
    )  # fmt: skip
    if result.stopped_by is not None and not _by_user(result):  # the notebook's advice
        result.stopped = notebook_message(result.stopped_by)
    _bind(shell, frame, result, each)
    _show(result, rich)
    for line in (result.redacted, result.unrecorded, *result.pacing):
        if line:
            print(line)
    if result.stopped:
        raise _stopped_error(result)


def checked_frame(shell: InteractiveShell, each: EachArgs) -> object:
    """The frame `--each` names, checked with `--into` and `-o` before anything is sent."""
    if each.frame not in shell.user_ns:
        raise UsageError(f"--each {each.frame}: no variable named {each.frame!r} in the notebook")
    frame = shell.user_ns[each.frame]
    check_into(each.frame, frame, each.into, each.out, fmt=each.fmt, overwrite=each.overwrite)
    return frame


def _bind(shell: InteractiveShell, frame: object, result: BatchResult, each: EachArgs) -> None:
    value, notes = answers(result, each.into or each.out or "answer", each.fmt)
    if each.into:
        joiner = "" if result.schema is not None else "_"  # --into PREFIX: PREFIX + field
        changed, more = write_into(frame, value, each.into, frame_name=each.frame,
                                   overwrite=each.overwrite, joiner=joiner)  # fmt: skip
        notes += more
        if changed is not frame:  # polars: the frame cannot change, -o gets the new one
            value = changed
            notes[-1] += f" ({each.frame} is unchanged)."
    for note in notes:
        print(note)
    if each.out:
        shell.user_ns[each.out] = value


def _show(result: BatchResult, rich: bool) -> None:
    for bundle in summary_bundles(result.summary()):
        if rich:
            display(cast(dict[str, str], bundle), raw=True)
        else:
            print(bundle["text/plain"])


def _by_user(result: BatchResult) -> bool:
    return isinstance(result.stopped_by, errors.Stopped)


def _stopped_error(result: BatchResult) -> Exception:
    """What fails the cell: a plain `Stopped: …` for the user's stop, else a UsageError."""
    s = result.summary()
    kept = s.answered + s.cached
    rest = f"{kept:,} answered rows are kept, {s.not_sent:,} not sent"
    if _by_user(result):
        return Stopped(f"{rest}; run the cell again to send only those")
    return UsageError(
        f"the batch stopped ({result.stopped}); {rest} — run the cell again to send only those"
    )
