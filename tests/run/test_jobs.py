"""run/jobs.py: a job's thread, its states, stopping it and waiting for it."""

from __future__ import annotations

import threading
import time

from routing_magics.run.jobs import Job, JobRegistry, JobStopped


def until_stopped(job: Job) -> None:
    job.stop_event.wait(10)


def test_a_job_runs_on_its_own_thread_and_ends_done() -> None:
    registry = JobRegistry()
    ran_on: list[str] = []
    job = registry.start(
        "In[1]", "route/x", lambda j: ran_on.append(threading.current_thread().name)
    )
    assert job.wait(5)
    assert job.state == "done" and ran_on == [f"routing-magics-job-{job.id}"]
    assert job.ended is not None and job.elapsed < 5


def test_what_the_work_raises_ends_the_job_failed_with_one_line() -> None:
    registry = JobRegistry()

    def broken(job: Job) -> None:
        raise ValueError("the frame\nchanged")

    job = registry.start("In[2]", "route/x", broken)
    assert job.wait(5)
    assert job.state == "failed" and job.message == "the frame changed"


def test_stop_sets_the_event_calls_the_closers_and_the_job_ends_stopped() -> None:
    registry = JobRegistry()
    closed: list[str] = []

    def streaming(job: Job) -> None:
        job.on_stop(lambda: closed.append("stream"))
        until_stopped(job)

    job = registry.start("In[3]", "route/x", streaming)
    time.sleep(0.05)
    assert job.running and job.progress == "0 tokens"
    job.stop()
    assert job.wait(0.5)
    assert job.state == "stopped" and closed == ["stream"]
    late: list[str] = []
    job.on_stop(lambda: late.append("closed at once"))  # a stream opened after the stop
    assert late == ["closed at once"]


def test_a_work_that_says_it_was_stopped_ends_stopped() -> None:
    def stopped(job: Job) -> None:
        raise JobStopped()

    job = JobRegistry().start("In[4]", "route/x", stopped)
    assert job.wait(5) and job.state == "stopped"


def test_wait_gives_the_jobs_still_running_after_the_timeout() -> None:
    registry = JobRegistry()
    slow = registry.start("In[5]", "route/x", until_stopped, rows_total=40)
    quick = registry.start("In[6]", "route/x", lambda job: None)
    assert registry.wait([quick, slow], timeout=0.2) == [slow]
    assert slow.progress == "0/40 rows"
    assert [job.id for job in registry.running()] == [slow.id]
    assert registry.stop_all() == [slow]
    assert not slow.running and slow.thread is not None and not slow.thread.is_alive()
