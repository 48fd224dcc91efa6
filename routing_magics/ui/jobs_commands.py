"""`%route jobs`, `%route wait [ID] [--timeout S]`, `%route stop [ID]`: the background jobs."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.display import display

from ..display.tables import table
from ..run.jobs import Job, jobs_of

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import DisplayHandle

    from ..display.protocols import Bundle
    from ..session import Session

HEADERS = ("job", "cell", "model", "progress", "elapsed", "state")
#: Seconds between two redraws of a live `%route jobs` table.
REDRAW = 1.0


def job_row(job: Job) -> tuple[str, ...]:
    """One job as `%route jobs` and the panel show it."""
    state = job.state if job.message is None else f"{job.state}: {job.message}"
    # Right-aligned to a fixed width, so the table's layout does not move as seconds pass.
    return (str(job.id), job.cell, job.model, job.progress, f"{job.elapsed:6.1f} s", state)


def jobs(session: Session, shell: InteractiveShell, rest: str) -> None:
    """The jobs of this notebook, running and finished."""
    listed = jobs_of(session).jobs()
    if not listed:
        print("No background jobs; `%%route … --background` starts one.")
        return
    live = getattr(shell, "kernel", None) is not None  # a terminal would print it again and again
    handle = display(jobs_table(listed), raw=True, display_id=live)
    if live and handle is not None and any(job.running for job in listed):
        threading.Thread(target=_keep_live, args=(handle, listed), daemon=True,
                         name="routing-magics-jobs-table").start()  # fmt: skip


def jobs_table(listed: list[Job]) -> Bundle:
    running = sum(job.running for job in listed)
    return table(HEADERS, [job_row(job) for job in listed], f"Background jobs ({running} running)")


def _keep_live(handle: DisplayHandle, listed: list[Job]) -> None:
    """Redraw the table in place (an update: nbval and the saved notebook keep the first one)
    until its jobs have ended, then once more with how they ended."""
    while any(job.running for job in listed):
        time.sleep(REDRAW)
        handle.update(jobs_table(listed), raw=True)


def wait(session: Session, shell: InteractiveShell, rest: str) -> None:
    """Block until the job (or every running job) has ended; Ctrl-C stops waiting, not them."""
    words = rest.split()
    timeout = _timeout(words)
    chosen = _chosen(session, words, "wait")
    registry = jobs_of(session)
    try:
        still = registry.wait(chosen, timeout)
    except KeyboardInterrupt:
        raise UsageError("stopped waiting; the jobs still run (`%route stop` ends them)") from None
    if still:
        ids = ", ".join(str(job.id) for job in still)
        raise UsageError(f"job {ids} still running after {timeout:g} s; `%route jobs` shows "
                         "it, `%route wait` waits again")  # fmt: skip
    failed = [job for job in chosen if job.state == "failed"]
    if failed:
        job = failed[0]
        raise UsageError(f"job {job.id} ({job.cell}) failed: {job.message}")
    states = [job.state for job in chosen]
    counts = ", ".join(f"{states.count(s)} {s}" for s in ("done", "stopped") if s in states)
    noun = "job" if len(chosen) == 1 else "jobs"
    print(f"{len(chosen)} {noun} ended: {counts}." if chosen else "No job is running.")


def stop(session: Session, shell: InteractiveShell, rest: str) -> None:
    """Stop the job (or every running job); finished rows and partial answers are kept."""
    words = rest.split()
    chosen = [job for job in _chosen(session, words, "stop") if job.running]
    for job in chosen:
        job.stop()
    jobs_of(session).wait(chosen, 0.5)
    if not chosen:
        print("No job is running.")
        return
    ids = ", ".join(str(job.id) for job in chosen)
    print(f"Stopped job {ids}; what had arrived is kept in its cell.")


def _timeout(words: list[str]) -> float | None:
    """`--timeout S` taken out of `words`."""
    if "--timeout" not in words:
        return None
    at = words.index("--timeout")
    try:
        seconds = float(words[at + 1])
    except (IndexError, ValueError):
        raise UsageError("--timeout needs seconds, e.g. %route wait --timeout 60") from None
    if seconds < 0:
        raise UsageError(f"--timeout {seconds:g}: give 0 or more seconds")
    del words[at : at + 2]
    return seconds


def _chosen(session: Session, words: list[str], verb: str) -> list[Job]:
    """The job `words` names, or every running one."""
    registry = jobs_of(session)
    if not words:
        return registry.running()
    if len(words) > 1 or not words[0].isdigit():
        raise UsageError(f"%route {verb} takes one job number, e.g. %route {verb} 2 "
                         "(`%route jobs` lists them)")  # fmt: skip
    job = registry.get(int(words[0]))
    if job is None:
        raise UsageError(f"no job {words[0]}; `%route jobs` lists them")
    return [job]
