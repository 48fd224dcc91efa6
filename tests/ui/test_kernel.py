"""`%%route` in a real Jupyter kernel (jupyter_client), as a notebook frontend and nbval see it.

One kernel with a random key serves the module (the restart test comes after the others that
share it); the offline test starts its own. Teardown checks the key never reached an output.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from routing_magics.emulator import Emulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT interrupts are POSIX")

EMPTY = {"text/plain": "", "text/html": ""}
SHORT_ECHO = "echo: " + " ".join(f"word{i}" for i in range(30))
LONG_ECHO = "echo: " + " ".join(f"word{i}" for i in range(150))
# Eight paragraphs (~2 kB): the live view cuts the answer into two frozen parts.
PARAGRAPHS = "echo: " + "\n\n".join(
    f"Paragraph {p}: " + " ".join(f"w{p}x{i}" for i in range(40)) for p in range(8)
)


@dataclass
class Run:
    """The iopub messages of one execute request, up to the kernel going idle."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=dict)  # the execute_reply's content

    def of(self, *kinds: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["msg_type"] in kinds]

    @property
    def displays(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.of("display_data")]

    def stored(self) -> list[dict[str, Any]]:
        """The cell's outputs after applying updates by display_id, as nbclient stores them."""
        outputs: list[dict[str, Any]] = []
        for m in self.of("display_data", "update_display_data", "stream", "error"):
            content, kind = m["content"], m["msg_type"]
            if kind == "update_display_data":
                target = content["transient"]["display_id"]
                for out in outputs:
                    if out.get("display_id") == target:
                        out["data"] = content["data"]
                continue
            display_id = content.get("transient", {}).get("display_id")
            outputs.append({"type": kind, "data": content.get("data"), "display_id": display_id})
        return outputs

    def stream(self, name: str) -> str:
        return "".join(
            m["content"]["text"] for m in self.of("stream") if m["content"]["name"] == name
        )

    def usage_error(self) -> str:
        """The message of the UsageError that failed the cell, checked to be shown in one line."""
        assert self.reply["status"] == "error" and self.reply["ename"] == "UsageError", self.reply
        message = str(self.reply["evalue"])
        tracebacks = [line for m in self.of("error") for line in m["content"]["traceback"]]
        shown = tracebacks + self.stream("stderr").splitlines()
        assert shown == [f"UsageError: {message}"], shown  # one line, no traceback wall
        return message

    def stopped(self) -> str:
        """The one line a stopped cell shows: it failed (so "Run all" stops), no traceback wall,
        no "UsageError"."""
        assert self.reply["status"] == "error" and self.reply["ename"] == "Stopped", self.reply
        tracebacks = [line for m in self.of("error") for line in m["content"]["traceback"]]
        shown = tracebacks + self.stream("stderr").splitlines()
        assert shown == [f"Stopped: {self.reply['evalue']}"], shown
        return shown[0]


def execute(
    kc: BlockingKernelClient,
    code: str,
    timeout: float = 30,
    on_message: Callable[[dict[str, Any]], None] | None = None,
) -> Run:
    msg_id = kc.execute(code, store_history=False)
    run = Run()
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        run.messages.append(msg)
        if on_message is not None:
            on_message(msg)
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            run.reply = reply["content"]
            return run


def kernel_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUTING_", "JPY_SESSION"))}
    env.update(extra)
    return env


@dataclass
class Kernel:
    km: KernelManager
    kc: BlockingKernelClient
    kernel_id: str
    db: Path
    runs: list[Run] = field(default_factory=list)

    def run(self, code: str, on_message: Callable[[dict[str, Any]], None] | None = None) -> Run:
        run = execute(self.kc, code, on_message=on_message)
        self.runs.append(run)
        return run

    def ok(self, code: str) -> Run:
        """Run a cell that must succeed."""
        run = self.run(code)
        assert run.reply["status"] == "ok", run.reply
        return run

    def assert_never_shown(self, key: str) -> None:
        assert key not in json.dumps([[m["content"] for m in r.messages] for r in self.runs])
        assert key not in json.dumps([r.reply for r in self.runs])
        for path in self.db.parent.glob(self.db.name + "*"):  # the file, its -wal and -shm
            assert key.encode() not in path.read_bytes()


def start_kernel(tmp: Path, env: dict[str, str]) -> Kernel:
    kernel_id = str(uuid.uuid4())
    # Named like jupyter_server names it, so the kernel id (the notebook key) comes from it.
    km = KernelManager(kernel_name="python3", connection_file=str(tmp / f"kernel-{kernel_id}.json"))
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return Kernel(km, kc, kernel_id, Path(env["ROUTING_MAGICS_USAGE_DB"]))


def stop_kernel(kernel: Kernel) -> None:
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)


@contextmanager
def keyed_kernel(emulator: Emulator, tmp: Path) -> Iterator[Kernel]:
    """A kernel whose %load_ext talks to `emulator` with a random key, never shown anywhere."""
    key = f"rk_test_{secrets.token_hex(16)}"
    env = kernel_env(
        ROUTING_RUN_API_KEY=key,
        ROUTING_RUN_BASE_URL=emulator.base_url,
        ROUTING_RUN_FALLBACK_BASE_URL="",
        ROUTING_MAGICS_USAGE_DB=str(tmp / "u.sqlite"),
    )
    k = start_kernel(tmp, env)
    try:
        loaded = k.ok("%load_ext routing_magics")
        assert loaded.stream("stdout") == ""  # a key is set: no word about the emulator
        yield k
        k.assert_never_shown(key)
    finally:
        stop_kernel(k)


@pytest.fixture(scope="module")
def kernel(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with keyed_kernel(emulator, tmp_path_factory.mktemp("kernel")) as k:
        yield k


def outcomes(kernel: Kernel) -> list[str]:
    with sqlite3.connect(kernel.db) as conn:
        return [r[0] for r in conn.execute("SELECT outcome FROM requests ORDER BY id")]


def assert_replay_matches(run: Run) -> None:
    """Placeholders identical and empty again, updates only to placeholders, frozen parts rich."""
    placeholders = [d for d in run.displays if d["data"] == EMPTY]
    assert placeholders, "the live view starts from an empty placeholder"
    assert {json.dumps(d["data"], sort_keys=False) for d in placeholders} == {json.dumps(EMPTY)}
    assert all(d["metadata"] == {} for d in placeholders)
    live_ids = {d["transient"]["display_id"] for d in placeholders}
    frozen = [d for d in run.displays if d["data"] != EMPTY]
    assert frozen and all(set(d["data"]) == {"text/plain", "text/html"} for d in frozen)
    updates = run.of("update_display_data")
    assert updates, "a streamed answer updates its placeholders"
    assert {u["content"]["transient"]["display_id"] for u in updates} <= live_ids
    stored = run.stored()
    assert all(out["type"] == "display_data" for out in stored)
    for out in stored:
        if out["display_id"] in live_ids:
            assert out["data"] == EMPTY  # reset to the placeholder at the end
    # What nbval replays (display_data as sent, updates ignored) equals what the notebook keeps.
    assert [out["data"] for out in stored] == [d["data"] for d in run.displays]


def without_footer(run: Run) -> list[dict[str, str]]:
    """The displays before the footer, with the reasoning time masked as the notebooks'
    sanitizer masks it: the only parts of a cell's record that depend on timing."""
    datas = [d["data"] for d in run.displays]
    assert "routing-magics-footer" in datas[-1]["text/html"]
    seconds = re.compile(r"· \d+(\.\d+)? s<")
    return [{k: seconds.sub("· S s<", v) for k, v in d.items()} for d in datas[:-1]]


# --- tests ----------------------------------------------------------------------------------


def test_streamed_outputs_replay_the_same_under_nbval(kernel: Kernel, emu: Emulator) -> None:
    fast = kernel.ok(f"%%route\n{PARAGRAPHS}")
    assert_replay_matches(fast)
    assert len([d for d in fast.displays if d["data"] != EMPTY]) >= 3  # parts + footer
    emu.token_rate = 200
    slow = kernel.ok(f"%%route\n{PARAGRAPHS}")
    assert_replay_matches(slow)
    assert without_footer(slow) == without_footer(fast)


def test_reasoning_route_replays_the_same_under_nbval(kernel: Kernel, emu: Emulator) -> None:
    fast = kernel.ok(f"%%route route/kimi-k2.5\n{SHORT_ECHO}")
    assert_replay_matches(fast)
    assert any("<details" in d["data"]["text/html"] for d in fast.displays)
    emu.token_rate = 200
    slow = kernel.ok(f"%%route route/kimi-k2.5\n{SHORT_ECHO}")
    assert_replay_matches(slow)
    assert without_footer(slow) == without_footer(fast)


def test_interrupt_stops_the_stream_keeps_the_partial_answer(kernel: Kernel, emu: Emulator) -> None:
    emu.token_rate = 20
    interrupted: list[float] = []

    def interrupt_on_first_content(msg: dict[str, Any]) -> None:
        data = msg["content"].get("data") or {}
        if not interrupted and msg["msg_type"].endswith("display_data") and "word0" in str(data):
            interrupted.append(time.monotonic())
            kernel.km.interrupt_kernel()

    run = kernel.run(f"%%route\n{LONG_ECHO}", on_message=interrupt_on_first_content)
    assert interrupted, "no content arrived to interrupt"
    took = time.monotonic() - interrupted[0]
    print(f"cell ended {took:.3f} s after the interrupt")
    assert took < 2.0
    assert run.stopped() == "Stopped: the answer so far is kept; run the cell again for a full one"
    kept = json.dumps([out["data"] for out in run.stored()])
    assert "word0" in kept and "word149" not in kept
    assert outcomes(kernel)[-1] == "stopped"
    emu.token_rate = None
    after = kernel.ok("%%route\necho: ok")
    assert any("<p>ok</p>" in d["data"]["text/html"] for d in after.displays)
    assert outcomes(kernel)[-1] == "ok"


def test_a_failed_cell_leaves_the_one_line_strict_nbval_compares(
    kernel: Kernel, emu: Emulator
) -> None:
    emu.inject("DAILY_REQUEST_LIMIT_EXCEEDED")
    run = kernel.run("%%route\necho: hi")
    message = run.usage_error()
    assert "(DAILY_REQUEST_LIMIT_EXCEEDED)" in message
    # UsageError reaches iopub as one stderr line (no "error" message): strict nbval records
    # that line as the cell's output, so a cell that starts or stops failing is a mismatch.
    assert [m["content"]["text"] for m in run.of("stream")] == [f"UsageError: {message}\n"]


def test_ledger_survives_a_kernel_restart(kernel: Kernel, emu: Emulator) -> None:
    """Runs last in this module: it restarts the shared kernel."""
    kernel.ok("%%route route/glm-5\necho: remember me")
    config = kernel.ok("%route config")
    assert f"kernel:{kernel.kernel_id}" in json.dumps(config.displays)
    before = usage_row(kernel.ok("%route usage"), "route/glm-5")
    kernel.km.restart_kernel(now=True)  # a new process, the same connection file and id
    kernel.kc.wait_for_ready(timeout=60)
    kernel.ok("%load_ext routing_magics")
    after = usage_row(kernel.ok("%route usage"), "route/glm-5")
    assert after == before
    assert before[0] == "1"  # one request, made before the restart


def usage_row(run: Run, model: str) -> list[str]:
    text = next(d["data"]["text/plain"] for d in run.displays if "Usage of" in str(d["data"]))
    return next(line.split()[1:5] for line in text.splitlines() if line.startswith(model))


def test_offline_load_says_so_once_and_the_footer_says_offline(tmp_path: Path) -> None:
    env = kernel_env(
        ROUTING_MAGICS_OFFLINE="1",
        ROUTING_MAGICS_USAGE_DB=str(tmp_path / "u.sqlite"),
        ROUTING_MAGICS_EMULATOR_TOKEN_RATE="0",
    )
    k = start_kernel(tmp_path, env)
    try:
        loaded = k.ok("%load_ext routing_magics")
        lines = loaded.stream("stdout").splitlines()
        assert len(lines) == 1, lines
        assert loaded.stream("stderr") == ""
        assert "offline emulator" in lines[0]
        assert not loaded.of("display_data")
        answer = k.ok("%%route\necho: hi")
        footer = answer.displays[-1]["data"]["text/plain"]
        assert footer.endswith("offline emulator"), footer
    finally:
        stop_kernel(k)
