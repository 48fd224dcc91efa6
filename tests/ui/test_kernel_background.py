"""`--background` in a real Jupyter kernel: the cell returns at once, the job's output reaches
the cell that started it (by the iopub messages' parent) after that cell went idle, other cells
get none of it; `%route wait` binds -o; a batch binds aligned results; `%route stop` ends a
batch at once keeping its rows; an interrupt spares the jobs; a restart ends them cleanly."""

from __future__ import annotations

import json
import queue
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from routing_magics.emulator import Emulator
from tests.ui.test_kernel import Kernel, Run, keyed_kernel

WORDS = "echo: " + " ".join(f"word{i}" for i in range(120))
FRAME = (
    "import pandas as pd\n"
    "reviews = pd.DataFrame({'text': [f'review{i}' for i in range(40)]}, index=range(100, 140))"
)


@dataclass
class Iopub:
    """Every iopub message of the kernel, whatever its parent, with when it arrived."""

    kernel: Kernel
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    idle_at: dict[str, float] = field(default_factory=dict)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def execute(self, code: str) -> str:
        """Run `code` until its cell is idle; its msg_id."""
        msg_id = self.kernel.kc.execute(code, store_history=False)
        self.until(lambda: msg_id in self.idle_at, timeout=60)
        reply = self.kernel.kc.get_shell_msg(timeout=30)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kernel.kc.get_shell_msg(timeout=30)
        self.replies[msg_id] = reply["content"]
        return msg_id

    def ok(self, code: str) -> str:
        msg_id = self.execute(code)
        assert self.replies[msg_id]["status"] == "ok", self.replies[msg_id]
        return msg_id

    def until(self, done: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "timed out waiting on iopub"
            try:
                msg = self.kernel.kc.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            now = time.monotonic()
            self.messages.append((now, msg))
            parent = msg["parent_header"].get("msg_id")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                self.idle_at.setdefault(parent, now)

    def of(self, msg_id: str, *kinds: str) -> list[tuple[float, dict[str, Any]]]:
        return [
            (t, m)
            for t, m in self.messages
            if m["parent_header"].get("msg_id") == msg_id and (not kinds or m["msg_type"] in kinds)
        ]

    def texts(self, msg_id: str) -> str:
        """Everything shown under `msg_id`: display data, updates and streams, as text."""
        kinds = ("display_data", "update_display_data", "stream")
        return json.dumps([m["content"] for _, m in self.of(msg_id, *kinds)], ensure_ascii=False)

    def stdout(self, msg_id: str) -> str:
        return "".join(m["content"]["text"] for _, m in self.of(msg_id, "stream"))

    def value(self, expression: str) -> Any:
        return json.loads(self.stdout(self.ok(f"import json; print(json.dumps({expression}))")))


@pytest.fixture(scope="module")
def kernel(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with keyed_kernel(emulator, tmp_path_factory.mktemp("kernel-background")) as k:
        yield k


@pytest.fixture
def iopub(kernel: Kernel) -> Iterator[Iopub]:
    seen = Iopub(kernel)
    yield seen
    # Every message of the test, the jobs' too, goes to the module's check that the key never
    # reached an output (keyed_kernel's teardown).
    kernel.runs.append(Run(messages=[m for _, m in seen.messages]))


def chats(emu: Emulator) -> int:
    return len([r for r in emu.requests if r.path == "/v1/chat/completions"])


def ended_line(iopub: Iopub, msg_id: str) -> bool:
    return "ran in the background as job" in iopub.texts(msg_id)


def test_a_background_cell_returns_at_once_and_streams_into_its_own_cell(
    iopub: Iopub, emu: Emulator
) -> None:
    iopub.ok("%%route\necho: warm")  # the flows' first import is not what this test times
    emu.token_rate = 100  # ~1.3 s of streaming
    sent = time.monotonic()
    job = iopub.ok(f"%%route --background -o essay\n{WORDS}")
    returned = iopub.idle_at[job] - sent
    assert returned < 0.5, f"the cell took {returned:.2f} s to return"
    before_idle = [m for t, m in iopub.of(job) if t <= iopub.idle_at[job]]
    shown = [m["content"]["data"]["text/plain"] for m in before_idle if "data" in m["content"]]
    assert shown == [  # the job drew nothing before its cell was idle
        "Job 1 runs in the background; its output comes here. "
        "`%route wait 1` waits for it, `%route stop 1` stops it."
    ]
    other = iopub.ok("import time; time.sleep(0.6); print('other work')")
    assert iopub.stdout(other) == "other work\n"
    assert "word" not in iopub.texts(other)  # none of the job's output went to that cell
    waited = iopub.ok("%route wait")
    assert iopub.stdout(waited) == "1 job ended: 1 done.\n"
    assert iopub.value("essay.text") == WORDS.removeprefix("echo: ")
    iopub.until(lambda: ended_line(iopub, job))
    late = [m for t, m in iopub.of(job) if t > iopub.idle_at[job]]
    answer = [m for m in late if "word119" in json.dumps(m["content"])]
    assert answer, "the answer reached its cell after the cell went idle"
    assert "routing-magics-footer" in iopub.texts(job)
    assert "ran in the background as job 1 · done · " in iopub.texts(job)
    assert "word" not in iopub.texts(waited)


def test_a_background_batch_binds_results_aligned_to_the_index(iopub: Iopub, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    iopub.ok(FRAME)
    job = iopub.ok("%%route --each reviews --background -o out --into answer --concurrency 4\n"
                   "echo: {text}")  # fmt: skip
    before_idle = [m for t, m in iopub.of(job, "display_data") if t <= iopub.idle_at[job]]
    assert [m["content"]["data"]["text/plain"][:31] for m in before_idle] == [
        "Job 2 runs in the background; i"
    ]
    meanwhile = iopub.ok("print(sum(range(10)))")
    assert iopub.stdout(meanwhile) == "45\n"
    iopub.ok("%route wait")
    assert iopub.value("out.index.tolist()") == list(range(100, 140))
    assert iopub.value("out.tolist()") == [f"review{i}" for i in range(40)]
    assert iopub.value("reviews['answer'].tolist()") == [f"review{i}" for i in range(40)]
    iopub.until(lambda: ended_line(iopub, job))
    shown = iopub.texts(job)
    assert "application/vnd.jupyter.widget-view+json" in shown  # the bar, in its own cell
    assert "40 rows: 40 answered, 0 from cache, 0 failed, 0 not sent" in shown
    assert " rows: " not in iopub.texts(meanwhile)
    assert "Estimate: " in shown and "Estimate: " not in iopub.texts(meanwhile)  # printed too


def test_stop_during_a_batch_stops_sending_at_once_and_keeps_the_finished_rows(
    iopub: Iopub, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    emu.latency = 0.25
    iopub.ok(FRAME.replace("review{i}", "halt{i}"))
    job = iopub.ok("%%route --each reviews --background -o out --concurrency 4\necho: {text}")
    iopub.until(lambda: chats(emu) >= 10, timeout=20)
    asked = time.monotonic()
    stop = iopub.ok("%route stop")
    took = iopub.idle_at[stop] - asked
    assert took < 1.0, f"stopping took {took:.2f} s"
    assert iopub.stdout(stop).startswith("Stopped job ")
    sent = chats(emu)
    time.sleep(0.6)
    assert chats(emu) == sent, "requests were still sent after the stop"
    answered = iopub.value("[t for t in out.tolist() if isinstance(t, str)]")
    assert 6 <= len(answered) < 40
    assert all(text.startswith("halt") for text in answered)
    iopub.until(lambda: ended_line(iopub, job))
    assert f"{len(answered)} answered rows are kept" in iopub.texts(job)
    assert "ran in the background as job" in iopub.texts(job) and "· stopped · " in iopub.texts(job)
    listed = iopub.texts(iopub.ok("%route jobs"))
    assert "/40 rows" in listed and "stopped" in listed and "(0 running)" in listed


def test_an_interrupt_stops_the_foreground_cell_not_the_job(
    kernel: Kernel, iopub: Iopub, emu: Emulator
) -> None:
    emu.token_rate = 100
    job = iopub.ok(f"%%route --background -o kept\n{WORDS}")
    msg_id = kernel.kc.execute("import time; time.sleep(10)", store_history=False)
    time.sleep(0.5)
    kernel.km.interrupt_kernel()
    iopub.until(lambda: msg_id in iopub.idle_at, timeout=10)
    iopub.ok("%route wait")
    assert iopub.value("kept.text") == WORDS.removeprefix("echo: ")
    iopub.until(lambda: ended_line(iopub, job))
    assert "· done · " in iopub.texts(job)


def test_what_a_job_cannot_do_is_refused_in_one_line(iopub: Iopub) -> None:
    refused = iopub.execute("%%route --background --format code\nwrite code")
    reply = iopub.replies[refused]
    assert reply["ename"] == "UsageError" and "--format code" in reply["evalue"]
    assert "Job " not in iopub.texts(refused)


def test_a_restart_with_a_job_running_ends_it_cleanly(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    emulator.reset()
    emulator.token_rate = 20  # ~6 s of streaming: still running at the restart
    with keyed_kernel(emulator, tmp_path_factory.mktemp("kernel-restart")) as kernel:
        Iopub(kernel).ok(f"%%route --background\n{WORDS}")
        deadline = time.monotonic() + 10
        while chats(emulator) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # some of the answer has arrived
        process = kernel.km.provisioner.process  # type: ignore[union-attr]
        kernel.km.restart_kernel(now=False)
        # It ended by itself (not killed), after the job's stop recorded the partial answer.
        assert process.poll() == 0
        with sqlite3.connect(kernel.db) as conn:
            rows = list(conn.execute("SELECT outcome, completion_tokens FROM requests"))
        assert len(rows) == 1 and rows[0][0] == "stopped" and rows[0][1] > 0
    emulator.token_rate = None


@pytest.mark.parametrize(
    ("cell", "bound"),
    [
        ("%%route --background -o answer\necho: kept answer", "answer.text"),
        ("%%route --each reviews --background -o answer\necho: {text}", "answer.tolist()[:2]"),
    ],
    ids=["single", "each"],
)
def test_a_broken_ledger_never_costs_a_background_answer(
    iopub: Iopub, emu: Emulator, tmp_path: Path, cell: str, bound: str
) -> None:
    emu.per_minute_limit = 6000
    iopub.ok(FRAME)
    broken = tmp_path / "a-directory.sqlite"
    broken.mkdir()
    iopub.ok(f"%config RouteMagics.usage_db = {str(broken)!r}")
    try:
        job = iopub.ok(cell)
        iopub.ok("%route wait")
        iopub.until(lambda: ended_line(iopub, job))
    finally:
        iopub.ok(f"%config RouteMagics.usage_db = {str(iopub.kernel.db)!r}")
    expected = "kept answer" if "each" not in cell else ["review0", "review1"]
    assert iopub.value(bound) == expected
    shown = iopub.texts(job)
    said = [
        m for _, m in iopub.of(job) if "usage could not be recorded" in json.dumps(m["content"])
    ]
    assert len(said) == 1, shown  # one line, once, however many rows
    assert "Traceback" not in shown and "· done · " in shown


def test_credentials_in_the_base_url_never_reach_the_ledger_from_a_job(
    iopub: Iopub, emu: Emulator
) -> None:
    from tests.run.flows import ledger_files
    from tests.run.test_guarantees import SECRETS, with_credentials

    emu.per_minute_limit = 6000
    iopub.ok(FRAME)
    iopub.ok(f"%config RouteMagics.base_url = {with_credentials(emu.base_url, True)!r}")
    try:
        emu.inject("midstream_error", after=1)  # the first job's answer breaks off: a failed row
        broken = iopub.ok("%%route --background\necho: one two three four five six")
        iopub.ok("%%route --each reviews --background -o rows --limit 5\necho: {text}")
        waited = iopub.replies[iopub.execute("%route wait")]  # fails, so "Run all" stops there
        assert waited["ename"] == "UsageError" and " failed: " in waited["evalue"], waited
        iopub.until(lambda: ended_line(iopub, broken))
        assert "· failed · " in iopub.texts(broken)
    finally:
        iopub.ok(f"%config RouteMagics.base_url = {emu.base_url!r}")
    assert iopub.value("rows.tolist()[:5]") == [f"review{i}" for i in range(5)]
    for path in ledger_files(iopub.kernel.db):
        for secret in SECRETS:
            assert secret not in path.read_bytes(), f"{secret.decode()} is in {path.name}"


def test_the_jobs_table_stays_live_until_its_jobs_end(iopub: Iopub, emu: Emulator) -> None:
    """`%route jobs` is drawn once in its cell, then updated in place (after that cell went idle)
    until the job ends; the last update says how it ended."""
    emu.token_rate = 60  # a few seconds of answer
    try:
        iopub.ok(f"%%route --background -o live_essay\n{WORDS}")
        cell = iopub.ok("%route jobs")
        [(_, first)] = iopub.of(cell, "display_data")
        assert "(1 running)" in first["content"]["data"]["text/plain"]
        display_id = first["content"]["transient"]["display_id"]

        def updates() -> list[tuple[float, dict[str, Any]]]:
            return [(t, m) for t, m in iopub.messages if m["msg_type"] == "update_display_data"
                    and m["content"]["transient"]["display_id"] == display_id]  # fmt: skip

        iopub.until(lambda: any("(0 running)" in m["content"]["data"]["text/plain"]
                                for _, m in updates()), timeout=60)  # fmt: skip
        assert all(t >= iopub.idle_at[cell] for t, _ in updates())
        last = updates()[-1][1]["content"]["data"]["text/plain"]
        assert "done" in last and "running" not in last.split(")", 1)[1]
    finally:
        emu.token_rate = None
