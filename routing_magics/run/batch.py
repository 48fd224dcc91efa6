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

import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ..api import errors
from ..display.progress import BatchSummary, FailedRow, Progress
from ..ledger import request_key
from ..prompt.prepare import prepare_prompt
from ..prompt.rows import FrameRows, check_row_template, frame_rows, row_namespace
from .batch_record import BatchRecorder
from .pacing import Pacer, plan_limits, remaining_today
from .rowsend import RowJob, Senders, Sent
from .single import RunOptions, request_args

if TYPE_CHECKING:
    from ..session import Session

RowStatus = Literal["ok", "cached", "failed", "stopped", "not sent"]
#: Most requests in flight: routing.run's concurrent stream limit (facts §3b).
MAX_CONCURRENCY = 50
#: Sends of one row refused by a per-minute 429 before it counts as failed.
RATE_LIMIT_RETRIES = 8
#: Extra sends of one row after a provider error, timeout or broken connection.
TRANSIENT_RETRIES = 2
#: How long a stop may wait for the workers, in seconds.
STOP_WAIT = 0.4
_STOPS_BATCH = (errors.DailyLimitExceeded, errors.AuthenticationError, errors.ModelNotAllowed)
_TRANSIENT = (errors.ProviderError, errors.ProviderTimeout, errors.TransportError)


@dataclass(frozen=True)
class BatchOptions:
    concurrency: int = 8
    limit: int | None = None  # send at most this many rows now (the rest: "not sent")
    cache: bool = True
    fmt: str = "markdown"  # part of the cache key; "json" answers are parsed by run.columns
    requests_per_minute: int | None = None  # overrides the plan's limit


@dataclass
class RowOutcome:
    status: RowStatus = "not sent"
    text: str | None = None
    code: str = ""
    message: str = ""


@dataclass
class BatchResult:
    """Every row's outcome, in the frame's order, and what the batch cost."""

    rows: FrameRows
    outcomes: list[RowOutcome]
    model: str
    tokens: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    requests: int = 0
    rate_limited: int = 0

    def count(self, status: RowStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> BatchSummary:
        failures = [
            FailedRow(str(label), o.code, o.message)
            for label, o in zip(self.rows.labels, self.outcomes, strict=True)
            if o.status == "failed"
        ]
        return BatchSummary(
            total=len(self.outcomes), answered=self.count("ok"), cached=self.count("cached"),
            failed=len(failures), not_sent=self.count("not sent") + self.count("stopped"),
            tokens=self.tokens, seconds=self.seconds, stopped=self.stopped, failures=failures,
        )  # fmt: skip


@dataclass
class _Plan:
    jobs: list[RowJob]
    keys: list[str] = field(default_factory=list)


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
        _Run(session, model, options, batch, pacer, result, recorder, progress).go(to_send, stop)
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


class _Run:
    """The main thread's side of a batch: hand out rows, take results, retry, stop."""

    def __init__(
        self,
        session: Session,
        model: str,
        options: RunOptions,
        batch: BatchOptions,
        pacer: Pacer,
        result: BatchResult,
        recorder: BatchRecorder,
        progress: Progress,
    ) -> None:
        self._session, self._model, self._pacer = session, model, pacer
        self._options, self._batch = options, batch
        self._result, self._recorder, self._progress = result, recorder, progress
        self._open = 0  # rows sent (or queued) without a final outcome yet
        self._failed = 0
        self._done = result.count("cached")

    def go(self, jobs: list[RowJob], stop: threading.Event | None) -> None:
        if not jobs:
            return
        concurrency = min(self._batch.concurrency, len(jobs))
        client = self._session.pooled_client(concurrency)
        senders = Senders(client, self._model, request_args(self._options), self._pacer,
                          concurrency)  # fmt: skip
        for job in jobs:
            senders.put(job)
        self._open = len(jobs)
        senders.start()
        try:
            self._collect(senders, stop)
        except KeyboardInterrupt:
            self._halt(senders, "stopped by the user (interrupt)")
        finally:
            senders.halt(STOP_WAIT) if senders.stop.is_set() else senders.finish(STOP_WAIT)
            self._drain(senders)
            client.close()

    def _collect(self, senders: Senders, stop: threading.Event | None) -> None:
        while self._open > 0:
            if stop is not None and stop.is_set():
                return self._halt(senders, "stopped by the user")
            try:
                sent = senders.results.get(timeout=0.05)
            except queue.Empty:
                continue
            self._take(sent, senders)
            if senders.stop.is_set():
                return None
        return None

    def _halt(self, senders: Senders, why: str) -> None:
        self._result.stopped = self._result.stopped or why
        senders.halt(STOP_WAIT)

    def _drain(self, senders: Senders) -> None:
        """Results that arrived while stopping: answers are kept; the rest are stopped."""
        while True:
            try:
                self._take(senders.results.get_nowait(), senders, retry=False)
            except queue.Empty:
                break
        for position in senders.in_flight():
            outcome = self._result.outcomes[position]
            if outcome.status == "not sent":
                outcome.status, outcome.code = "stopped", "STOPPED"

    def _take(self, sent: Sent, senders: Senders, *, retry: bool = True) -> None:
        """One request's result → the row's outcome, a ledger row, maybe a retry or a stop."""
        error, job = sent.error, sent.job
        self._result.requests += 1
        self._result.tokens += self._recorder.request(sent).total_tokens
        if error is None:
            self._settle(job, RowOutcome("ok", sent.completion.text))
            self._recorder.answered(job.key, sent.completion)
        elif retry and self._retry(sent, senders):
            return
        elif isinstance(error, _STOPS_BATCH) or error.status in (401, 403):
            self._result.stopped = f"{error}"
            self._settle(job, RowOutcome("not sent", None, error.code, _one_line(error)))
            senders.stop.set()
        elif isinstance(error, errors.Stopped):
            self._settle(job, RowOutcome("stopped", None, "STOPPED", "stopped"))
        else:
            self._failed += 1
            self._settle(job, RowOutcome("failed", None, error.code, _one_line(error)))
        self._recorder.maybe_flush()

    def _retry(self, sent: Sent, senders: Senders) -> bool:
        """Send the row again when the error is worth it; True if it was queued."""
        error, job = sent.error, sent.job
        limited = isinstance(error, errors.RateLimited) and not isinstance(
            error, errors.DailyLimitExceeded
        )
        transient = isinstance(error, _TRANSIENT) and not sent.completion.text
        if limited and job.attempts < RATE_LIMIT_RETRIES:
            self._result.rate_limited += 1
            self._pacer.slow_down(getattr(error, "retry_after", None))
        elif not (transient and job.attempts < TRANSIENT_RETRIES) or senders.stop.is_set():
            return False
        job.attempts += 1
        senders.put(job)
        return True

    def _settle(self, job: RowJob, outcome: RowOutcome) -> None:
        self._result.outcomes[job.position] = outcome
        self._open -= 1
        self._done += 1
        self._progress.update(self._done, self._failed, self._result.tokens)


def _one_line(error: errors.RoutingError) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 160 else text[:159] + "…"
