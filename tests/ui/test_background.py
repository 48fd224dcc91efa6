"""`--background` and `%route jobs|wait|stop` through a real InteractiveShell: refusals in one
line, the subcommands' words, the running cell's notes kept free of a job's output, and
`%unload_ext` ending every job. (Output routing between cells: test_kernel_background.py.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.emulator import Emulator
from routing_magics.run.jobs import jobs_of
from tests.helpers import Harness, magic_harness, one_line

WORDS = "echo: " + " ".join(f"word{i}" for i in range(60))


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        try:
            yield harness
        finally:
            jobs_of(harness.magics.session).stop_all()


def job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("routing-magics-job-")]


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("%%route --background --tools len\nhi", "--background does not take --tools"),
        ("%%route --background --chat\nhi", "--background does not take --chat"),
        ("%%route --background --dry-run\nhi", "--dry-run sends nothing: drop --background"),
        ("%%route --background --format code\nhi", "--format code puts the code in a new cell"),
        ("%%route --background route/nope\nhi", "route/nope"),
        (
            "%%route --background route/mistral-small-2503,route/deepseek-v3.2\nhi",
            "--background takes one model",
        ),
        ("%%route --background --each nothing\n{text}", "no variable named 'nothing'"),
        ("%%route --background --each frame\n{missing}", "missing"),
    ],
)
def test_what_a_job_cannot_do_is_refused_before_it_starts(h: Harness, cell: str, says: str) -> None:
    h.shell.user_ns["frame"] = pd.DataFrame({"text": ["a", "b"]})
    assert says in one_line(h.run(cell).error)
    assert h.chat_requests() == [] and jobs_of(h.magics.session).jobs() == []


def test_the_notebooks_tools_are_refused_too(h: Harness) -> None:
    h.shell.user_ns["area"] = lambda w, h: w * h
    h.ok("%route tools area")
    assert "`%route tools none`" in one_line(h.run("%%route --background\nhi").error)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("%route wait 99", "no job 99; `%route jobs` lists them"),
        ("%route stop 1 2", "%route stop takes one job number"),
        ("%route wait --timeout soon", "--timeout needs seconds"),
        ("%route wait --timeout -1", "--timeout -1: give 0 or more seconds"),
    ],
)
def test_the_subcommands_refuse_bad_words_in_one_line(h: Harness, line: str, says: str) -> None:
    assert says in one_line(h.run(line).error)


def test_with_no_jobs_the_subcommands_say_so(h: Harness) -> None:
    assert h.ok("%route jobs").stdout.startswith("No background jobs")
    assert h.ok("%route wait").stdout == "No job is running.\n"
    assert h.ok("%route stop").stdout == "No job is running.\n"


def test_wait_with_a_timeout_fails_in_one_line_and_the_job_runs_on(
    h: Harness, emu: Emulator
) -> None:
    emu.token_rate = 40
    started = h.ok(f"%%route --background -o slow\n{WORDS}")
    assert "Job 1 runs in the background" in started.final_plain()
    [job] = jobs_of(h.magics.session).jobs()
    deadline = time.monotonic() + 10
    while job.tokens == 0 and time.monotonic() < deadline:  # the answer is streaming
        time.sleep(0.02)
    message = one_line(h.run("%route wait 1 --timeout 0.2").error)
    assert message.startswith("job 1 still running after 0.2 s")
    table = h.ok("%route jobs").final_plain()
    assert "Background jobs (1 running)" in table and "running" in table
    stopped = h.ok("%route stop 1")
    assert stopped.stdout == "Stopped job 1; what had arrived is kept in its cell.\n"
    assert h.ok("%route wait 1").stdout == "1 job ended: 1 stopped.\n"
    assert "slow" not in h.shell.user_ns  # as in the foreground: a stopped answer is not bound
    assert h.outcomes() == ["stopped"]


def test_a_jobs_output_is_not_noted_into_the_cell_running_meanwhile(
    h: Harness, emu: Emulator
) -> None:
    emu.token_rate = 100
    h.ok(f"%%route --background -o essay\n{WORDS}")
    h.run("import time; time.sleep(0.4); print('mine')", history=True)
    h.ok("%route wait")
    assert h.shell.user_ns["essay"].text.endswith("word59")
    noted = h.magics.cells.entries[-2]  # the sleeping cell, as {In[n]}/--cells read it
    assert noted.output == "mine" and "word" not in noted.output


def test_unload_ext_ends_every_job_and_leaves_no_thread(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with magic_harness(emu, tmp_path, monkeypatch) as h:
        h.magics.cells.detach()
        h.shell.run_line_magic("load_ext", "routing_magics")
        emu.token_rate = 30
        h.ok(f"%%route --background\n{WORDS}")
        deadline = time.monotonic() + 5
        while not emu.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job_threads()
        started = time.monotonic()
        h.shell.run_line_magic("unload_ext", "routing_magics")
        assert time.monotonic() - started < 1.0
        assert job_threads() == []
        assert h.outcomes() == ["stopped"]


def test_a_kernel_too_old_to_route_a_threads_output_is_refused(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ipykernel before 7 (no set_thread_parent) cannot be had beside 7.4 in one venv: a
    # shell that says it has a kernel stands for it.
    monkeypatch.setattr(h.shell, "kernel", object(), raising=False)
    message = one_line(h.run("%%route --background\nhi").error)
    assert message.startswith("--background needs ipykernel 7 or newer")
    assert h.chat_requests() == [] and jobs_of(h.magics.session).jobs() == []


def test_a_background_batch_above_the_threshold_is_refused_unsent_without_yes(
    h: Harness,
) -> None:
    """A job has no input box: where a cell would ask, its batch is refused before any row is
    sent, and says how to go on; with --yes it runs."""
    h.shell.user_ns["frame"] = pd.DataFrame({"text": ["a", "b", "c"]})
    h.ok("%config RouteMagics.confirm_above_usd = 0.0")
    h.ok("%%route route/deepseek-v3.2 --background --each frame -o out\nlabel: {text}")
    message = one_line(h.run("%route wait").error)
    assert message.startswith("job 1 (cell --each frame) failed: the batch was not sent"), message
    assert "a background job cannot ask" in message and "add --yes" in message
    assert h.chat_requests() == [] and "out" not in h.shell.user_ns
    h.ok("%%route route/deepseek-v3.2 --background --each frame -o out --yes\necho: {text}")
    h.ok("%route wait")
    assert list(h.shell.user_ns["out"]) == ["a", "b", "c"]
