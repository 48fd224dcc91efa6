"""The main thread's side of a batch (run/batch/flow.py): hand rows to the senders, take results
as they come (parsed, recorded, cached), retry what is worth it, stop on the daily cap, 401/403,
Stop or Ctrl-C."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from ...api import errors
from ..exchange import Exchange
from ..structured import StructuredUse, canonical_text, check, mismatch, repair_messages
from .columns import parse_json
from .outcomes import BatchOptions, BatchResult, RowOutcome
from .senders import RowJob, Senders, Sent

if TYPE_CHECKING:
    from ...display.progress import Progress
    from ...session import Session
    from ..record import Recorder
    from .pacing import Pacer

#: Sends of one row refused by a per-minute 429 before it counts as failed.
RATE_LIMIT_RETRIES = 8
#: Extra sends of one row after a provider error, timeout or broken connection.
TRANSIENT_RETRIES = 2
#: How long a stop may wait for the workers, in seconds.
STOP_WAIT = 0.4
_STOPS_BATCH = (errors.DailyLimitExceeded, errors.AuthenticationError, errors.ModelNotAllowed)
_TRANSIENT = (errors.ProviderError, errors.ProviderTimeout, errors.TransportError)


class BatchLoop:
    """The main thread's side of a batch: hand out rows, take results, retry, stop."""

    def __init__(
        self, session: Session, batch: BatchOptions, pacer: Pacer, result: BatchResult,
        recorder: Recorder, progress: Progress,
    ) -> None:  # fmt: skip
        self._session, self._batch, self._pacer = session, batch, pacer
        self._result, self._recorder, self._progress = result, recorder, progress
        self._open = 0  # rows sent (or queued) without a final outcome yet
        self._failed = result.count("failed")
        self._done = result.count("cached") + self._failed

    def go(self, jobs: list[RowJob], stop: threading.Event | None) -> None:
        if not jobs:
            return
        concurrency = min(self._batch.concurrency, len(jobs))
        client = self._session.pooled_client(concurrency)
        senders = Senders(client, self._pacer, concurrency, self._session.budget)
        for job in jobs:
            senders.put(job)
        self._open = len(jobs)
        senders.start()
        try:
            self._collect(senders, stop)
        except KeyboardInterrupt:
            self._halt(senders)
        finally:
            if senders.stop.is_set() or self._open > 0:  # stopped, or a bug of ours: end all
                senders.halt(STOP_WAIT)
            else:
                senders.finish(STOP_WAIT)
            self._drain(senders)
            client.close()

    def _collect(self, senders: Senders, stop: threading.Event | None) -> None:
        while self._open > 0:
            if stop is not None and stop.is_set():
                return self._halt(senders)
            try:
                sent = senders.results.get(timeout=0.05)
            except queue.Empty:
                self._progress.waiting(*self._pacer.waiting())
                continue
            self._take(sent, senders)
            if senders.stop.is_set():
                return None
        return None

    def _halt(self, senders: Senders) -> None:
        """The user's stop (Ctrl-C, a Stop button); an earlier stop's reason stays."""
        if self._result.stopped is None:
            self._result.stopped = "stopped by the user"
            self._result.stopped_by = errors.Stopped(self._result.stopped)
        senders.halt(STOP_WAIT)

    def _drain(self, senders: Senders) -> None:
        """Results that arrived while stopping: answers are kept; the rest are stopped."""
        while True:
            try:
                self._take(senders.results.get_nowait(), senders, retry=False)
            except queue.Empty:
                break
        for job in senders.in_flight():  # a worker still winding down: its row is stopped
            if self._result.outcomes[job.position].status != "not sent":
                continue
            exchange = Exchange(job.request)
            exchange.failure = errors.Stopped("stopped by the user")
            self._take(Sent(job, exchange, exchange.completion(), 0.0), senders, retry=False)

    def _take(self, sent: Sent, senders: Senders, *, retry: bool = True) -> None:
        """One request's result → the row's outcome, a ledger row, maybe a retry or a stop."""
        error, job, done = sent.error, sent.job, sent.completion
        if done.latency_ms is None:
            done.latency_ms = int(sent.seconds * 1000)
        self._result.requests += not sent.exchange.unsent  # the budget's refusals went nowhere
        self._result.tokens += done.usage.total_tokens
        self._result.prompt_tokens += done.usage.prompt_tokens
        self._result.completion_tokens += done.usage.completion_tokens
        if error is None:
            self._pacer.succeeded(time.time() - sent.seconds)
        if error is None and self._batch.schema is not None:
            self._recorder.exchange(sent.exchange, done)
            return self._structured(sent, senders, self._batch.schema, retry)
        if error is None:
            outcome = self._answered(done.text)
            keep = job.key if self._batch.cache and outcome.status == "ok" else None
            self._recorder.exchange(sent.exchange, done, cache_as=keep)
            return self._settle(job, outcome)
        if retry and self._retry(sent, senders):  # one story: "retried" in summary and ledger
            return self._recorder.exchange(sent.exchange, done, outcome="retried")
        self._recorder.exchange(sent.exchange, done)
        if isinstance(error, _STOPS_BATCH) or error.status in (401, 403) or sent.exchange.unsent:
            self._result.stopped, self._result.stopped_by = f"{error}", error
            senders.stop.set()
            return self._settle(job, RowOutcome("not sent", None, error.code, _one_line(error)))
        if isinstance(error, errors.Stopped) or (
            senders.stop.is_set() and isinstance(error, errors.TransportError)
        ):  # closed by our stop: the socket's shutdown can look like a broken connection
            return self._settle(job, RowOutcome("stopped", None, "STOPPED", "stopped"))
        return self._settle(job, RowOutcome("failed", None, error.code, _one_line(error)))

    def _structured(self, sent: Sent, senders: Senders, use: StructuredUse, retry: bool) -> None:
        """A structured row: validated and kept, sent again with a repair turn, or failed."""
        job, done = sent.job, sent.completion
        verdict = check(use, done)
        if verdict.ok:
            if self._batch.cache:
                self._recorder.keep(job.key, done, canonical_text(verdict.raw))
            return self._settle(job, RowOutcome("ok", done.text, value=verdict.data))
        if retry and job.repairs < use.repairs and not senders.stop.is_set():
            job.repairs += 1
            repair = repair_messages(use, done, verdict)
            job.request = replace(job.request, messages=[*job.request.messages, *repair])
            return senders.put(job)
        error = mismatch(use, verdict)
        return self._settle(job, RowOutcome("failed", done.text, error.code, _one_line(error)))

    def _answered(self, text: str) -> RowOutcome:
        """An answer's outcome; under --format json, parsed now (a bad one fails its row)."""
        if self._batch.fmt != "json":
            return RowOutcome("ok", text)
        value, problem = parse_json(text)
        if problem is not None:
            return RowOutcome("failed", text, "NOT_JSON", problem)
        return RowOutcome("ok", text, value=value)

    def _retry(self, sent: Sent, senders: Senders) -> bool:
        """Send the row again when the error is worth it; True if it was queued."""
        error, job = sent.error, sent.job
        limited = isinstance(error, errors.RateLimited) and not isinstance(
            error, errors.DailyLimitExceeded
        )
        transient = isinstance(error, _TRANSIENT) and not sent.completion.text
        if senders.stop.is_set():
            return False
        if limited and job.attempts < RATE_LIMIT_RETRIES:
            self._result.rate_limited += 1
            self._pacer.slow_down(getattr(error, "retry_after", None), time.time() - sent.seconds)
        elif not (transient and job.attempts < TRANSIENT_RETRIES):
            return False
        self._result.retried += 1
        job.attempts += 1
        senders.put(job)
        return True

    def _settle(self, job: RowJob, outcome: RowOutcome) -> None:
        self._result.outcomes[job.position] = outcome
        self._open -= 1
        self._done += 1
        self._failed += outcome.status == "failed"
        self._progress.update(self._done, self._failed, self._result.tokens)


def _one_line(error: errors.RoutingError) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 160 else text[:159] + "…"
