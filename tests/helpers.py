"""Shared by test_magics.py and test_run.py: a real InteractiveShell with a fresh RouteMagics.

`magic_harness(...)` points the extension at the test emulator through the environment (as a
user would), registers a new `RouteMagics`, and runs cells with `Harness.run`, which captures
every rich output (display_data and updates), stdout, stderr and the cell's error.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from IPython.utils.capture import RichOutput, capture_output
from traitlets.config import Config

from routing_magics.emulator import Emulator
from routing_magics.ui.magics import RouteMagics

EMPTY = {"text/plain": "", "text/html": ""}


@dataclass
class Cell:
    """What one `shell.run_cell` left: the result, every rich output, stdout and stderr."""

    result: ExecutionResult
    outputs: list[RichOutput]
    stdout: str
    stderr: str

    @property
    def error(self) -> BaseException | None:
        return self.result.error_before_exec or self.result.error_in_exec

    @property
    def shown(self) -> list[dict[str, Any]]:
        """The display_data bundles as sent (what nbval records), in order."""
        return [dict(o.data) for o in self.outputs if not o.update]

    @property
    def final(self) -> list[dict[str, Any]]:
        """The outputs a notebook stores: displays with every update applied (like nbclient)."""
        stored: list[dict[str, Any]] = []
        slots: dict[str, list[int]] = {}
        for output in self.outputs:
            display_id = str((output.transient or {}).get("display_id") or "")
            if output.update:
                for index in slots.get(display_id, []):
                    stored[index] = dict(output.data)
                continue
            if display_id:
                slots.setdefault(display_id, []).append(len(stored))
            stored.append(dict(output.data))
        return stored

    def final_html(self) -> str:
        return "\n".join(d.get("text/html", "") for d in self.final)

    def final_plain(self) -> str:
        return "\n".join(d.get("text/plain", "") for d in self.final)

    def everything(self) -> str:
        """Every byte the user could see, updates included: for the never-the-key checks."""
        parts = [self.stdout, self.stderr, repr(self.error), str(self.error)]
        for output in self.outputs:
            parts += [str(v) for v in output.data.values()] + [repr(output.metadata)]
        return "\n".join(parts)


@dataclass
class Harness:
    shell: InteractiveShell
    magics: RouteMagics
    emu: Emulator
    key: str
    db: Path
    cells: list[Cell] = field(default_factory=list)

    def run(self, source: str, *, history: bool = False) -> Cell:
        """Run a cell; `history` numbers it and keeps it in In/Out, as a notebook does."""
        with capture_output() as captured:
            result = self.shell.run_cell(source, store_history=history)
        cell = Cell(result, list(captured.outputs), captured.stdout, captured.stderr)
        self.cells.append(cell)
        return cell

    def ok(self, source: str) -> Cell:
        """Run a cell that must succeed."""
        cell = self.run(source)
        assert cell.error is None, f"{type(cell.error).__name__}: {cell.error}\n{cell.stderr}"
        return cell

    def outcomes(self) -> list[str]:
        with sqlite3.connect(self.db) as conn:
            return [r[0] for r in conn.execute("SELECT outcome FROM requests ORDER BY id")]

    def chat_requests(self) -> list[Any]:
        return [r for r in self.emu.requests if r.path == "/v1/chat/completions"]

    def assert_key_never_shown(self) -> None:
        for cell in self.cells:
            assert self.key not in cell.everything()
        for stored in self.db.parent.glob("*.sqlite*"):  # the ledger, the rate budget, -wal
            if stored.is_file():
                assert self.key.encode() not in stored.read_bytes(), stored


@contextmanager
def magic_harness(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    display: str = "rich",
    keyed: bool = True,
) -> Iterator[Harness]:
    """A shell whose RouteMagics talks to `emu` with a random key; cleaned up afterwards.

    `keyed=False` starts with no key (the extension's own emulator, unthrottled) until the
    test gives `harness.key` with `%route key`."""
    key = f"rk_test_{secrets.token_hex(16)}"
    db = tmp_path / "u.sqlite"
    if keyed:
        monkeypatch.setenv("ROUTING_RUN_API_KEY", key)
    else:
        monkeypatch.delenv("ROUTING_RUN_API_KEY", raising=False)
        monkeypatch.setenv("ROUTING_MAGICS_EMULATOR_TOKEN_RATE", "0")
    monkeypatch.setenv("ROUTING_RUN_BASE_URL", emu.base_url)
    monkeypatch.setenv("ROUTING_RUN_FALLBACK_BASE_URL", "")
    monkeypatch.setenv("ROUTING_MAGICS_USAGE_DB", str(db))
    for name in ("ROUTING_MAGICS_OFFLINE", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    shell = InteractiveShell.instance()
    shell.config.RouteMagics = Config()  # nothing left from an earlier test's %config
    before = set(shell.user_ns)
    magics = RouteMagics(shell)
    shell.register_magics(magics)
    magics.cells.attach(shell)
    shell.run_line_magic("config", f"RouteMagics.display_mode = {display!r}")
    harness = Harness(shell, magics, emu, key, db)
    try:
        yield harness
        harness.assert_key_never_shown()
    finally:
        magics.cells.detach()
        magics.session.close()
        shell.config.RouteMagics = Config()
        shell.__dict__.pop("rl_next_input", None)  # set by --format code
        for name in set(shell.user_ns) - before:
            del shell.user_ns[name]


def one_line(error: BaseException | None) -> str:
    """The message of a cell's UsageError, checked to be exactly that type and one line."""
    from IPython.core.error import UsageError

    assert error is not None, "the cell should have failed"
    assert type(error) is UsageError, f"{type(error).__name__}: {error}"
    message = str(error)
    assert message and "\n" not in message, repr(message)
    return message
