"""Which notebook the session serves, through a real InteractiveShell: every reader (`%route
config`, `%route usage`, the panel, the ledger) sees what the frontend says now, with no
`%%route` cell needed to bring it up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from routing_magics.ui.panel import RoutePanel
from tests.helpers import Harness, magic_harness


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def ledger_notebooks(h: Harness) -> list[str]:
    with sqlite3.connect(h.db) as conn:
        return [r[0] for r in conn.execute("SELECT notebook FROM requests ORDER BY id")]


def test_the_key_follows_the_frontend_for_every_reader(h: Harness) -> None:
    assert "session:" in h.ok("%route config").final_plain()  # a terminal: this process's key
    h.shell.user_ns["__vsc_ipynb_file__"] = "/home/me/first.ipynb"  # VS Code, after the start
    assert "/home/me/first.ipynb" in h.ok("%route config").final_plain()
    panel = RoutePanel(h.magics.session, h.shell)
    try:
        assert "Usage of /home/me/first.ipynb" in panel.usage.value
    finally:
        panel.close()
    h.ok("%%route\nhi")
    h.shell.user_ns["__vsc_ipynb_file__"] = "/home/me/renamed.ipynb"
    assert "Usage of /home/me/renamed.ipynb" in h.ok("%route usage").final_plain()
    h.ok("%route hello")
    assert ledger_notebooks(h) == ["/home/me/first.ipynb", "/home/me/renamed.ipynb"]


def test_jupyterlab_names_the_notebook_before_the_kernel_runs_a_cell(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/srv/lab/analysis.ipynb")
    h.shell.user_ns["__vsc_ipynb_file__"] = "/home/me/ignored.ipynb"  # the session name wins
    assert h.magics.session.notebook == "/srv/lab/analysis.ipynb"
    h.ok("%route hello")
    assert ledger_notebooks(h) == ["/srv/lab/analysis.ipynb"]
