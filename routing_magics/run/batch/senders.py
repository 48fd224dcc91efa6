"""A batch's senders: worker threads that take rows, wait for the pacer, and send each through
an `Exchange`, as a single cell does.

The main thread owns everything the user sees and everything written (outcomes, ledger, cache):
workers only send and hand back a `Sent`. Stopping closes every stream in flight and shuts the
pooled client's sockets, so a worker blocked on the network wakes at once.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...api import errors
from ...api.models import ChatRequest, Completion
from ..exchange import Exchange

if TYPE_CHECKING:
    from ...api.client import RoutingClient
    from ...api.stream import ChatStream
    from ...budget import Budget
    from .pacing import Pacer


@dataclass
class RowJob:
    """One row to send: its position in the frame, its request and its cache key."""

    position: int
    key: str
    request: ChatRequest
    attempts: int = 0
    repairs: int = 0  # --schema repair turns taken (each sends the row again, longer)


@dataclass(frozen=True)
class Sent:
    """One request's exchange, the answer it gave (so far), and how long it took."""

    job: RowJob
    exchange: Exchange
    completion: Completion
    seconds: float

    @property
    def error(self) -> errors.RoutingError | None:
        return self.exchange.failure


class Senders:
    """`concurrency` threads sending jobs from `put()`; results arrive on `.results`."""

    def __init__(
        self, client: RoutingClient, pacer: Pacer, concurrency: int, budget: Budget | None = None
    ) -> None:
        self._client, self._pacer, self._budget = client, pacer, budget
        self.stop = threading.Event()
        self.results: queue.Queue[Sent] = queue.Queue()
        self._jobs: queue.Queue[RowJob | None] = queue.Queue()
        self._lock = threading.Lock()
        self._halted = False
        self._in_flight: dict[int, tuple[ChatStream | None, RowJob]] = {}
        self._threads = [
            threading.Thread(target=self._work, name=f"routing-magics-batch-{i}", daemon=True)
            for i in range(concurrency)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def put(self, job: RowJob) -> None:
        self._jobs.put(job)

    def in_flight(self) -> list[RowJob]:
        """Rows sent whose worker has not handed back a result (yet)."""
        with self._lock:
            return [job for _, job in self._in_flight.values()]

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def halt(self, wait: float) -> None:
        """Stop sending: close streams in flight, wake every worker, wait up to `wait` s.

        A second call does nothing: a stop never waits twice."""
        if self._halted:
            return
        self._halted = True
        self.stop.set()
        with self._lock:
            streams = [stream for stream, _ in self._in_flight.values() if stream is not None]
        for stream in streams:
            stream.close()
        self._client.interrupt()
        self.finish(wait)

    def finish(self, wait: float) -> None:
        """Let the workers end (after their current row) and wait up to `wait` s for them."""
        for _ in self._threads:
            self._jobs.put(None)
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        while not self.stop.is_set():
            job = self._jobs.get()
            if job is None or not self._pacer.acquire(self.stop):
                return
            self.results.put(self._send(job))
            with self._lock:  # only now: a row is always in flight or among the results
                self._in_flight.pop(job.position, None)

    def _send(self, job: RowJob) -> Sent:
        started = time.monotonic()
        exchange = Exchange(job.request)
        with self._lock:
            self._in_flight[job.position] = (None, job)
        budget = self._budget
        done = exchange.send(self._client, on_stream=lambda stream: self._opened(job, stream),
                             gate=budget.check if budget else None)  # fmt: skip
        # Counted now, so the next row's check sees it; after a stop the row may never be
        # taken (the loop records a stand-in), so its recorder notes it instead.
        if budget is not None and not exchange.unsent and not self.stop.is_set():
            usage, model = done.usage, done.model or job.request.model
            budget.note(exchange, model, usage.prompt_tokens, usage.completion_tokens)
        return Sent(job, exchange, done, time.monotonic() - started)

    def _opened(self, job: RowJob, stream: ChatStream) -> None:
        """Hold the row's stream, so a stop can close it; closed at once if the stop came first."""
        with self._lock:
            self._in_flight[job.position] = (stream, job)
        if self.stop.is_set():
            stream.close()
