"""One prompt per row of a frame (`%%route --each`, `routing_magics.each`): paced, resumable.

The flow, top to bottom: check the options, the model and the row template (before any
request); build every row's request (a row whose values cannot make one fails alone); take the
rows the answers cache already holds; read the plan's limits (GET /v1/user/requests) and refuse
a batch larger than what is left today unless `limit` says how many to send; then send the rest
through a pooled client at `concurrency`, paced under the per-minute limit, each row an
`Exchange` as a single cell is. Rows finish in any order; results stay aligned to the frame.

A 429 that is not the daily cap slows the pace and sends the row again after Retry-After
(capped as for any request). The daily cap, 401 and 403 stop the batch: answered rows are kept,
the rest are "not sent". So do Ctrl-C and the panel's Stop (`stop`): streams in flight are
closed within half a second. The ledger or the cache failing costs no answer: one line says so.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from ...api import errors
from ...api.account import AccountInfo, parse_account
from ...api.models import ChatRequest, Completion
from ...display.progress import Progress
from ...prompt.prepare import check_rows
from ...prompt.rows import FrameRows, check_row_template, frame_rows, row_namespace
from ..exchange import Exchange
from ..options import RunOptions
from ..record import Recorder, cache_key
from ..secrets import redaction_notice
from ..single import build_request, for_route
from ..structured import StructuredUse, check
from .columns import parse_json
from .loop import BatchLoop
from .outcomes import BatchOptions, BatchResult, RowOutcome
from .pacing import Pacer, override_note, plan_limits, remaining_today
from .senders import RowJob
from .windows import LocalWindow, window_for

if TYPE_CHECKING:
    from ...session import Session


def run_batch(
    session: Session,
    frame_name: str,
    frame: object,
    template: str,
    options: RunOptions,
    batch: BatchOptions,
    namespace: Mapping[str, object],
    progress: Progress,
    stop: threading.Event | None = None,
    preflight: Callable[[list[ChatRequest]], None] | None = None,
) -> BatchResult:
    """Answer `template` once per row of `frame`; configuration errors raise before any request.
    `preflight` sees the requests about to be sent (not the cached rows'): it may refuse them."""
    model, options, rows = _checked(session, frame_name, frame, template, options, batch, namespace)
    started = time.monotonic()
    result = BatchResult(rows, [RowOutcome() for _ in rows.labels], model)
    result.schema = options.schema.schema if options.schema is not None else None
    fmt = options.schema.cache_format() if options.schema is not None else batch.fmt
    jobs = _jobs(session, rows, template, options, namespace, fmt, result)
    result.redacted = _redaction_line(jobs)
    recorder = Recorder(session, buffered=True)
    try:
        to_send = (
            _take_cached(recorder, jobs, result, batch.fmt, options.schema) if batch.cache else jobs
        )
        account = _account(session)
        to_send = _fit_today(to_send, account, batch.limit, frame_name)
        if preflight is not None and to_send:  # the cost estimate, and maybe a question
            preflight([job.request for job in to_send])
        _send(session, replace(batch, schema=options.schema), account, to_send, result, recorder,
              progress, stop)  # fmt: skip
    finally:
        recorder.flush()
        result.unrecorded = recorder.trouble
        result.seconds = time.monotonic() - started
    return result


def _checked(
    session: Session, frame_name: str, frame: object, template: str, options: RunOptions,
    batch: BatchOptions, namespace: Mapping[str, object],
) -> tuple[str, RunOptions, FrameRows]:  # fmt: skip
    """Every check before any request (options, model, frame, row template): the model, the
    options for its route, the rows."""
    batch.check()
    check_rows(options.rows)
    model = session.check_model(options.model)
    options = for_route(session, replace(options, model=model))
    rows = frame_rows(frame_name, frame)
    check_row_template(template, rows, frame_name, namespace)
    return model, options, rows


def _send(
    session: Session, batch: BatchOptions, account: AccountInfo | None,
    jobs: list[RowJob], result: BatchResult, recorder: Recorder, progress: Progress,
    stop: threading.Event | None,
) -> None:  # fmt: skip
    """Send `jobs` paced under the plan's per-minute limit, with the progress bar moving."""
    per_minute, used = plan_limits(account, batch.requests_per_minute)
    done = result.count("cached") + result.count("failed")
    progress.start(done + len(jobs), done)
    window = window_for(session, used, time.time()) if jobs else LocalWindow()
    try:
        pacer = Pacer(per_minute, window=window)
        BatchLoop(session, batch, pacer, result, recorder, progress).go(jobs, stop)
    finally:
        window.close()
        progress.close()
        notes = (override_note(account, batch.requests_per_minute), window.note)
        result.pacing = [note for note in notes if note]


def _jobs(
    session: Session,
    rows: FrameRows,
    template: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    fmt: str,
    result: BatchResult,
) -> list[RowJob]:
    """Every row's request, built as a cell's is, and its cache key (nothing is sent); a row that
    cannot make one fails alone."""
    each_row = replace(options, df=None, chat=False, notebook=None, stream=True)
    jobs = []
    for position, (label, fields) in enumerate(zip(rows.labels, rows.fields(), strict=True)):
        try:
            ns = row_namespace(fields, label, namespace)
            request, _ = build_request(session, template, each_row, ns)
        except Exception as exc:  # a value's own __str__ may raise anything: that row fails
            result.outcomes[position] = _unsendable(exc)
            continue
        jobs.append(RowJob(position, cache_key(session, request, fmt), request))
    return jobs


def _redaction_line(jobs: list[RowJob]) -> str | None:
    """One line for the whole batch: how many rows' prompts held a credential, and which."""
    held = [job.request.redacted for job in jobs if job.request.redacted]
    total: Counter[str] = sum((Counter(found) for found in held), Counter())
    where = "1 row's prompt" if len(held) == 1 else f"{len(held):,} rows' prompts"
    return redaction_notice(total, where)


def _unsendable(exc: Exception) -> RowOutcome:
    """A row whose request could not be built: failed, in one line that says why."""
    if isinstance(exc, errors.RoutingError):
        return RowOutcome("failed", None, exc.code or "BAD_ROW", " ".join(str(exc).split()))
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    return RowOutcome("failed", None, "BAD_ROW", f"a value of this row cannot be shown as text "
                      f"({detail})")  # fmt: skip


def _take_cached(
    recorder: Recorder, jobs: list[RowJob], result: BatchResult, fmt: str,
    use: StructuredUse | None,
) -> list[RowJob]:  # fmt: skip
    """Fill the rows the cache answers (validated again); the others are still to send."""
    found = recorder.cached_answers([job.key for job in jobs])
    rest = []
    for job in jobs:
        hit = found.get(job.key)
        value, problem = _cached_value(hit.text, fmt, use) if hit is not None else (None, None)
        if hit is None or problem is not None:
            rest.append(job)
            continue
        result.outcomes[job.position] = RowOutcome("cached", hit.text, value=value)
        exchange = Exchange(job.request)
        recorder.exchange(exchange, exchange.replay(hit))
    return rest


def _cached_value(text: str, fmt: str, use: StructuredUse | None) -> tuple[object, str | None]:
    """A cached answer's value, read as a fresh one would be: parsed JSON, or a checked object."""
    if use is not None:
        verdict = check(use, Completion(text=text))
        return verdict.data, (verdict.problems[0] if verdict.problems else None)
    return parse_json(text) if fmt == "json" else (None, None)


def _account(session: Session) -> AccountInfo | None:
    """GET /v1/user/requests, or None when the service does not answer it."""
    try:
        return parse_account(session.client.user_requests())
    except errors.RoutingError:
        return None


def _fit_today(
    jobs: list[RowJob], account: AccountInfo | None, limit: int | None, frame_name: str
) -> list[RowJob]:
    """The rows to send now: all, or `limit`; more than the day has left is refused."""
    if limit is not None:
        return jobs[:limit]
    left = remaining_today(account)
    if left == 0 and jobs:
        raise errors.ConfigurationError(
            f"{frame_name} has {len(jobs):,} rows to send but the plan has no requests left today",
            hint="wait for tomorrow's allowance (`%route usage` shows the account's counts)",
            code="DAILY_REQUEST_LIMIT_EXCEEDED",
        )
    if left is not None and len(jobs) > left:
        raise errors.ConfigurationError(
            f"{frame_name} has {len(jobs):,} rows to send but the plan has {left:,} requests "
            f"left today",
            hint=f"add --limit {left} to send the first {left:,} now (rerunning later sends "
            "the rest), or wait for tomorrow's allowance",
            code="DAILY_REQUEST_LIMIT_EXCEEDED",
        )
    return jobs
