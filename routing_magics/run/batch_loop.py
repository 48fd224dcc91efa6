"""The main thread's side of a batch (run/batch.py): hand rows to the senders, take results as
they come, retry what is worth it, stop on the daily cap, 401/403, Stop or Ctrl-C."""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

from ..api import errors
from ..api.models import Completion
from .options import RunOptions
from .outcomes import BatchOptions, BatchResult, RowOutcome
from .rowsend import RowJob, Senders, Sent
from .single import request_args

if TYPE_CHECKING:
    from ..display.progress import Progress
    from ..session import Session
    from .batch_record import BatchRecorder
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
            if senders.stop.is_set():  # a daily cap or 401/403 set it: close what is in flight
                senders.halt(STOP_WAIT)
            else:
                senders.finish(STOP_WAIT)
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
        for job in senders.in_flight():  # a worker still winding down: its row is stopped
            if self._result.outcomes[job.position].status != "not sent":
                continue
            stopped = errors.Stopped("stopped by the user")
            self._take(Sent(job, Completion(model=self._model), stopped, 0.0), senders, retry=False)

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
        elif isinstance(error, errors.Stopped) or (
            senders.stop.is_set() and isinstance(error, errors.TransportError)
        ):  # closed by our stop: the socket's shutdown can look like a broken connection
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
        if senders.stop.is_set():
            return False
        if limited and job.attempts < RATE_LIMIT_RETRIES:
            self._result.rate_limited += 1
            self._pacer.slow_down(getattr(error, "retry_after", None))
        elif not (transient and job.attempts < TRANSIENT_RETRIES):
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
