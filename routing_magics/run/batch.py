"""One prompt per row of a frame (`%%route --each`, `routing_magics.each`): paced, resumable.

The flow, top to bottom: check the model and the row template (before any request); build every
row's messages; take the rows the answers cache already holds; read the plan's limits
(GET /v1/user/requests) and refuse a batch larger than what is left today unless `limit` says
how many to send; then send the rest through a pooled client at `concurrency`, paced under the
per-minute limit. Rows finish in any order; results stay aligned to the frame's rows.

A 429 that is not the daily cap slows the pace and sends the row again after Retry-After. The
daily cap, 401 and 403 stop the batch: answered rows are kept, the rest are "not sent". So do
Ctrl-C and the panel's Stop (`stop`): streams in flight are closed within half a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..api import errors
from ..display.progress import Progress
from ..ledger import request_key
from ..prompt.prepare import prepare_prompt
from ..prompt.rows import FrameRows, check_row_template, frame_rows, row_namespace
from .batch_loop import BatchLoop
from .batch_record import BatchRecorder
from .options import RunOptions
from .outcomes import BatchOptions, BatchResult, RowOutcome
from .pacing import Pacer, plan_limits, remaining_today
from .rowsend import RowJob
from .single import request_args

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["MAX_CONCURRENCY", "BatchOptions", "BatchResult", "RowOutcome", "run_batch"]

#: Most requests in flight: routing.run's concurrent stream limit (facts §3b).
MAX_CONCURRENCY = 50


def check_concurrency(concurrency: int) -> None:
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise errors.ConfigurationError(
            f"--concurrency {concurrency}: give 1 to {MAX_CONCURRENCY} "
            f"(routing.run allows {MAX_CONCURRENCY} streams at once)"
        )


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
) -> BatchResult:
    """Answer `template` once per row of `frame`; configuration errors raise before any request."""
    check_concurrency(batch.concurrency)
    if batch.limit is not None and batch.limit < 0:
        raise errors.ConfigurationError(f"--limit {batch.limit}: give 0 or more rows")
    model = session.check_model(options.model)
    rows = frame_rows(frame_name, frame)
    check_row_template(template, rows, frame_name, namespace)
    started = time.monotonic()
    jobs = _jobs(session, rows, template, options, namespace, model, batch.fmt)
    result = BatchResult(rows, [RowOutcome() for _ in jobs], model)
    recorder = BatchRecorder(session, model, cache=batch.cache)
    to_send = _take_cached(recorder, jobs, result) if batch.cache else jobs
    account = _account(session)
    to_send = _fit_today(to_send, account, batch.limit, frame_name)
    per_minute, used = plan_limits(account, batch.requests_per_minute)
    pacer = Pacer(per_minute, used_this_minute=used)
    cached = result.count("cached")
    progress.start(cached + len(to_send), cached)
    try:
        BatchLoop(session, model, options, batch, pacer, result, recorder, progress).go(
            to_send, stop
        )
    finally:
        progress.close()
        recorder.flush()
        result.seconds = time.monotonic() - started
    return result


def _jobs(
    session: Session,
    rows: FrameRows,
    template: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    model: str,
    fmt: str,
) -> list[RowJob]:
    """Every row's messages and cache key (pure; nothing is sent)."""
    context = session.catalog.context_of(model)
    params = request_args(options)
    jobs = []
    for position, (label, fields) in enumerate(zip(rows.labels, rows.fields(), strict=True)):
        prepared = prepare_prompt(
            template, row_namespace(fields, label, namespace), df_name=None, rows=options.rows,
            context_tokens=context, max_tokens=options.max_tokens, system=options.system,
        )  # fmt: skip
        key = request_key(model, prepared.messages, params)
        jobs.append(RowJob(position, key, prepared.messages))
    return jobs


def _take_cached(recorder: BatchRecorder, jobs: list[RowJob], result: BatchResult) -> list[RowJob]:
    """Fill the rows the cache answers; the others are still to send."""
    found = recorder.lookup([job.key for job in jobs])
    rest = []
    for job in jobs:
        hit = found.get(job.key)
        if hit is None:
            rest.append(job)
            continue
        result.outcomes[job.position] = RowOutcome("cached", hit.text)
        recorder.cached(hit)
    return rest


def _account(session: Session) -> dict[str, object] | None:
    """GET /v1/user/requests, or None when the service does not answer it."""
    try:
        return session.client.user_requests()
    except errors.RoutingError:
        return None


def _fit_today(
    jobs: list[RowJob], account: dict[str, object] | None, limit: int | None, frame_name: str
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
