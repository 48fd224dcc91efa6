"""Background jobs (`--background`): one thread each, a stop event, a state, a registry per session.

No IPython here: ui/background.py gives each job its work (a cell's run_prompt or a batch's
run_batch, both over the one Exchange core) and routes the job's output to the cell that
started it. A job's thread never raises: whatever its work raises ends the job as "failed".
Stopping sets the job's event (a batch's loop watches it) and calls its closers (a streaming
answer's `ChatStream.close`, thread-safe), so a job ends within half a second.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger(__name__)

JobState = Literal["running", "done", "stopped", "failed"]
#: How long stopping every job (unload, kernel shutdown) waits for their threads, in seconds.
STOP_WAIT = 0.5
#: Finished jobs kept for `%route jobs`; older ones are forgotten.
KEEP_FINISHED = 50


class JobStopped(Exception):
    """Raised by a job's work when it ended because the user stopped it (not a failure)."""


@dataclass
class Job:
    """One background cell or batch: what `%route jobs` shows and what `%route stop` ends."""

    id: int
    cell: str  # where it started, e.g. "In[7]" or "In[7] --each reviews"
    model: str
    work: Callable[[Job], None]
    rows_total: int | None = None  # a batch's; None for a single answer
    rows_done: int = 0
    tokens: int = 0  # so far: the answer's estimate, or the batch's reported total
    state: JobState = "running"
    message: str | None = None  # why it failed, in one line
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    on_end: Callable[[], None] | None = None  # the registry's: tells its listeners
    _closers: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def progress(self) -> str:
        """`12/40 rows` for a batch, `230 tokens` for an answer."""
        if self.rows_total is not None:
            return f"{self.rows_done:,}/{self.rows_total:,} rows"
        return f"{self.tokens:,} tokens"

    def on_stop(self, close: Callable[[], None]) -> None:
        """Call `close` when the job is stopped (at once if it already was)."""
        with self._lock:
            stopped = self.stop_event.is_set()
            if not stopped:
                self._closers.append(close)
        if stopped:
            close()

    def stop(self) -> None:
        """Ask the job to end: its event is set and its streams are closed."""
        with self._lock:
            self.stop_event.set()
            closers, self._closers = self._closers, []
        for close in closers:
            close()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the job's thread; True once it has ended."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running

    def _run(self) -> None:
        state: JobState = "done"
        try:
            self.work(self)
        except JobStopped:
            state = "stopped"
        except BaseException as exc:  # the thread must end well whatever the work raised
            state, self.message = "failed", " ".join(f"{exc}".split())[:200] or type(exc).__name__
        if state == "done" and self.stop_event.is_set():
            state = "stopped"
        self.ended = time.monotonic()
        self.state = state
        if self.on_end is not None:
            self.on_end()


class JobRegistry:
    """The jobs of one session, numbered from 1; stopped all at once on unload or exit."""

    def __init__(self) -> None:
        self._jobs: dict[int, Job] = {}
        self._next = 1
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        ref = weakref.ref(self)
        atexit.register(_stop_at_exit, ref)  # the kernel's shutdown: no thread outlives it

    def start(
        self, cell: str, model: str, work: Callable[[Job], None], *, rows_total: int | None = None
    ) -> Job:
        """Run `work(job)` on a new daemon thread and return the job at once."""
        with self._lock:
            job = Job(self._next, cell, model, work, rows_total=rows_total, on_end=self._changed)
            self._next += 1
            self._jobs[job.id] = job
            self._forget_old()
        job.thread = threading.Thread(
            target=job._run, name=f"routing-magics-job-{job.id}", daemon=True
        )
        job.thread.start()
        self._changed()
        return job

    def listen(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from any thread) whenever a job starts or ends (the panel's list)."""
        self._listeners.append(listener)

    def unlisten(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's trouble never ends a job badly
                log.debug("routing_magics: a job listener failed", exc_info=True)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def running(self) -> list[Job]:
        return [job for job in self.jobs() if job.running]

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def wait(self, jobs: list[Job], timeout: float | None = None) -> list[Job]:
        """Wait for `jobs` to end, `timeout` seconds in all at most; the ones still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in jobs:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            job.wait(left)
        return [job for job in jobs if job.running]

    def stop_all(self, wait: float = STOP_WAIT) -> list[Job]:
        """Stop every running job and wait for them (`wait` seconds in all); the ones stopped."""
        running = self.running()
        for job in running:
            job.stop()
        self.wait(running, wait)
        return running

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if not job.running]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]


def _stop_at_exit(ref: weakref.ref[JobRegistry]) -> None:
    registry = ref()
    if registry is not None:
        registry.stop_all()


_REGISTRIES: weakref.WeakKeyDictionary[Session, JobRegistry] = weakref.WeakKeyDictionary()


def jobs_of(session: Session) -> JobRegistry:
    """The session's job registry (made on first use), for the magics and the panel alike."""
    registry = _REGISTRIES.get(session)
    if registry is None:
        registry = _REGISTRIES[session] = JobRegistry()
    return registry
