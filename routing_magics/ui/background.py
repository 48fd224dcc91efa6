"""`%%route … --background`: a cell or a batch runs as a job (run/jobs.py); the cell returns.

Where the job's output goes: ipykernel 7 keeps each output's parent (the request a message
answers) in a context variable per thread, and a new thread falls back to whichever cell runs
now. So the job's thread sets its parent to the starting cell's (`set_thread_parent`): its
answer, bar and summary land in the cell that started it, whatever cell runs meanwhile.

The starting cell shows one line (which job, how to wait for it or stop it); the job draws
nothing until that cell has finished (`CellGate`), so what a notebook runner records for the
cell is that line alone, every time, and everything after reaches the cell as it would in a
frontend. The job's requests go through the same flows as in the foreground (run_prompt,
run_each → Exchange); `-o` is bound and `--into` written when the job ends, and one last line
says that it ran in the background and how long it took.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from IPython.core.error import UsageError
from IPython.display import display

from ..api import errors
from ..display.render import escape
from ..run.jobs import Job, JobStopped, jobs_of
from .advice import Stopped, cell_error

if TYPE_CHECKING:
    from IPython.core.interactiveshell import ExecutionResult, InteractiveShell

    from ..display.progress import Progress
    from ..display.protocols import Bundle, Draft, View
    from ..session import Session

#: Longest a job waits for its starting cell to finish before it draws anyway, in seconds.
GATE_WAIT = 2.0


def refuse_background(args: argparse.Namespace, default_tools: Sequence[str] = ()) -> None:
    """What a job cannot do, refused in one line before anything is sent."""
    if args.tools or args.confirm or (default_tools and args.each is None):
        raise UsageError(
            "--background does not take --tools: the functions would run in your namespace on "
            "another thread while other cells change it (and --confirm needs the input box); "
            "run tool cells in the foreground (`%route tools none` drops the notebook's tools)"
        )
    if args.chat:
        raise UsageError(
            "--background does not take --chat: the next turn needs this answer, so a chat "
            "turn runs in the foreground"
        )
    if args.dry_run:
        raise UsageError("--dry-run sends nothing: drop --background")
    if "," in (args.model or ""):
        raise UsageError(
            "--background takes one model: compare several in the foreground, or start one "
            "background cell per model"
        )
    if args.format == "code":
        raise UsageError(
            "--format code puts the code in a new cell below, which only a cell that is still "
            "running can do; use --format markdown or text with --background"
        )


class CellGate:
    """Opens once the starting cell has finished (after its `post_run_cell` and the kernel's
    reply to it): until then a job draws nothing."""

    def __init__(self, shell: InteractiveShell) -> None:
        self._open = threading.Event()
        self._shell = shell
        self._lock = threading.Lock()
        self._registered = True
        shell.events.register("post_run_cell", self._after)

    def _after(self, result: ExecutionResult) -> None:
        self._forget()
        try:  # in a kernel: once its loop runs again, the cell's reply and idle are sent
            asyncio.get_running_loop().call_soon(self._open.set)
        except RuntimeError:  # no loop (terminal IPython): the cell is done
            self._open.set()

    def wait(self, stop: threading.Event) -> None:
        """Block until open, the job is stopped, or GATE_WAIT has passed (a cell run outside
        run_cell never sends post_run_cell)."""
        deadline = time.monotonic() + GATE_WAIT
        while not self._open.wait(0.02) and not stop.is_set() and time.monotonic() < deadline:
            pass
        self._forget()

    def _forget(self) -> None:
        with self._lock:
            registered, self._registered = self._registered, False
        if registered:
            self._shell.events.unregister("post_run_cell", self._after)


class CellRoute:
    """The starting cell's parent, set on a job's thread so its output goes to that cell."""

    def __init__(self, shell: InteractiveShell) -> None:
        self._shell: Any = cast(Any, shell)  # ipykernel's ZMQInteractiveShell, when in a kernel
        can = hasattr(self._shell, "get_parent") and hasattr(self._shell, "set_thread_parent")
        if getattr(shell, "kernel", None) is not None and not can:
            raise UsageError("--background needs ipykernel 7 or newer, which sends a thread's "
                             "output to the cell that started it; upgrade ipykernel")  # fmt: skip
        self._parent = self._shell.get_parent() if can else None

    @contextmanager
    def entered(self) -> Iterator[None]:
        if self._parent is None:  # terminal IPython: one output for everything
            yield
            return
        tokens = self._shell.set_thread_parent(self._parent)
        try:
            yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()  # sent under this parent, before it is reset
            self._shell.reset_thread_parent(tokens)


def cell_label(number: int | None, what: str = "") -> str:
    """`In[7]` (or `cell` when unnumbered), then what runs, e.g. `--each reviews`."""
    where = f"In[{number}]" if number is not None else "cell"
    return f"{where} {what}".strip()


def start_job(
    session: Session,
    shell: InteractiveShell,
    cell: str,
    model: str,
    work: Callable[[Job], None],
    *,
    rows_total: int | None = None,
) -> Job:
    """Start `work` as a job whose output goes to this cell; show the cell's one line."""
    route, gate = CellRoute(shell), CellGate(shell)  # the route first: it may refuse

    def in_its_cell(job: Job) -> None:
        gate.wait(job.stop_event)
        with route.entered():
            _ended(job, work)

    job = jobs_of(session).start(cell, model, in_its_cell, rows_total=rows_total)
    _show(_started_bundle(job))
    return job


def _ended(job: Job, work: Callable[[Job], None]) -> None:
    """Run the work; say in the job's cell how it ended, one line each; re-raise for the state."""
    try:
        work(job)
    except Exception as exc:  # a RoutingError, run_each's Stopped or UsageError, or a bug of ours
        shown = cell_error(exc) if isinstance(exc, errors.RoutingError) else exc
        stopped = isinstance(shown, Stopped)
        print(f"{type(shown).__name__}: {shown}", file=sys.stderr)
        _show(_ended_bundle(job, "stopped" if stopped else "failed"))
        if stopped:
            raise JobStopped() from None
        raise
    _show(_ended_bundle(job, "stopped" if job.stop_event.is_set() else "done"))


def _started_bundle(job: Job) -> Bundle:
    line = (
        f"Job {job.id} runs in the background; its output comes here. "
        f"`%route wait {job.id}` waits for it, `%route stop {job.id}` stops it."
    )
    return _line_bundle(line, "routing-magics-job-started")


def _ended_bundle(job: Job, state: str) -> Bundle:
    line = f"ran in the background as job {job.id} · {state} · {job.elapsed:.1f} s"
    return _line_bundle(line, "routing-magics-job-ended")


def _line_bundle(line: str, css: str) -> Bundle:
    return {"text/plain": line, "text/html": f'<div class="{css}">{escape(line)}</div>'}


def _show(bundle: Bundle) -> None:
    # The metadata keeps it out of a running cell's notes ({In[n]}, --cells): it is ours.
    display(cast(dict[str, str], bundle), raw=True, metadata={"routing_magics": {"job": True}})


class JobView:
    """A view that also counts the answer's tokens into its job, for `%route jobs`."""

    def __init__(self, view: View, job: Job) -> None:
        self._view, self._job = view, job

    def reasoning(self, delta: str, draft: Draft) -> None:
        self._count(draft)
        self._view.reasoning(delta, draft)

    def content(self, delta: str, draft: Draft) -> None:
        self._count(draft)
        self._view.content(delta, draft)

    def _count(self, draft: Draft) -> None:
        self._job.tokens = int(getattr(draft, "answer_tokens", 0))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view, name)  # tool_call, finish


class JobProgress:
    """A batch's progress that also moves its job's row counts."""

    def __init__(self, progress: Progress, job: Job) -> None:
        self._progress, self._job = progress, job

    def start(self, total: int, done: int) -> None:
        self._job.rows_total, self._job.rows_done = total, done
        self._progress.start(total, done)

    def update(self, done: int, failed: int, tokens: int) -> None:
        self._job.rows_done, self._job.tokens = done, tokens
        self._progress.update(done, failed, tokens)

    def waiting(self, seconds: float, why: str) -> None:
        self._progress.waiting(seconds, why)

    def close(self) -> None:
        self._progress.close()


def snapshot(namespace: Mapping[str, object]) -> dict[str, object]:
    """The notebook's names as they are now: a job fills `{name}` from the cell's moment."""
    return dict(namespace)
