"""The two kinds of background job: one answer (`run_prompt`) and one batch (`run_each`).

Everything a job could refuse is checked here, in the starting cell, before it returns: the
model, the prompt's names, the frame, `--into`, the row template. What can only fail later (a
request, the daily cap) is said in one line in the job's cell (ui/background.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api import errors
from ..display.progress import TqdmProgress
from ..prompt.prepare import check_rows
from ..prompt.rows import check_row_template, frame_rows
from ..run.batch import BatchOptions
from ..run.single import build_request, for_route, run_prompt
from .background import JobProgress, JobView, cell_label, snapshot, start_job
from .each import checked_frame, run_each
from .views import is_rich, make_view

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..display.protocols import DisplayMode, Format
    from ..run.jobs import Job
    from ..run.options import RunOptions
    from ..session import Session
    from .each import EachArgs


def ask_in_background(
    session: Session, shell: InteractiveShell, prompt: str, options: RunOptions, *,
    out: str | None, fmt: Format, mode: DisplayMode, number: int | None,
) -> Job:  # fmt: skip
    """Start one answer as a job; `-o` is bound when it ends."""
    namespace = snapshot(shell.user_ns)
    request, _ = build_request(session, prompt, for_route(session, options), namespace)

    def work(job: Job) -> None:
        from .answer_format import apply_format

        if job.stop_event.is_set():
            raise errors.Stopped("stopped before it was sent")
        view = JobView(make_view(shell, mode, fmt), job)
        done = run_prompt(session, prompt, options, namespace, view,
                          on_stream=lambda stream: job.on_stop(stream.close))  # fmt: skip
        if out:
            shell.user_ns[out] = done
        apply_format(shell, done, fmt)

    return start_job(session, shell, cell_label(number), request.model, work)


def each_in_background(
    session: Session, shell: InteractiveShell, template: str, options: RunOptions,
    each: EachArgs, *, mode: DisplayMode, requests_per_minute: int | None, number: int | None,
    confirm_above: float | None = None,
) -> Job:  # fmt: skip
    """Start a `--each` batch as a job; `-o` is bound and `--into` written when it ends."""
    frame = checked_frame(shell, each)
    BatchOptions(each.concurrency, each.limit, each.cache, each.fmt, requests_per_minute).check()
    check_rows(options.rows)
    model = session.check_model(options.model)
    rows = frame_rows(each.frame, frame)
    check_row_template(template, rows, each.frame, shell.user_ns)

    def work(job: Job) -> None:
        progress = TqdmProgress(rich=is_rich(shell, mode), description=each.frame)
        run_each(session, shell, template, options, each, mode=mode,
                 requests_per_minute=requests_per_minute, stop=job.stop_event,
                 progress=JobProgress(progress, job), confirm_above=confirm_above,
                 background=True)  # fmt: skip

    label = cell_label(number, f"--each {each.frame}")
    return start_job(session, shell, label, model, work, rows_total=len(rows.labels))
