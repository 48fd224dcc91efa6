"""A broken ledger must not break a cell: the answer shows, -o binds, one line says why usage was
not recorded and what to do, `%route usage` says the same, and the user's file is left alone.
Also: sessions outside Jupyter each get a notebook key of their own."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def corrupt(path: Path) -> Path:
    path.write_bytes(b"this is not a database, it is someone's notes\n" * 200)
    return path


def wrong_schema(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE requests (id INTEGER PRIMARY KEY, what TEXT)")
        conn.execute("INSERT INTO requests (what) VALUES ('keep me')")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    return path


def parent_is_a_file(path: Path) -> Path:
    (path.parent / "folder").write_text("a file where a folder should be")
    return path.parent / "folder" / "usage.sqlite"


def a_directory(path: Path) -> Path:
    path.mkdir()
    return path


BROKEN: dict[str, tuple[Callable[[Path], Path], str]] = {
    "corrupt": (corrupt, "is damaged or not a ledger"),
    "wrong schema": (wrong_schema, "has a schema routing_magics does not know"),
    "parent is a file": (parent_is_a_file, "is a file, not a folder"),
    "unwritable path": (a_directory, "cannot be written"),
}


def use_ledger(h: Harness, path: Path) -> None:
    h.ok(f"%config RouteMagics.usage_db = {str(path)!r}")


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_ledger_leaves_the_answer_and_says_why_once(
    h: Harness, tmp_path: Path, kind: str
) -> None:
    make, why = BROKEN[kind]
    path = make(tmp_path / "broken.sqlite")
    before = path.read_bytes() if path.is_file() else None
    use_ledger(h, path)
    cell = h.ok("%%route -o first\necho: the answer")
    assert "the answer" in cell.final_plain()
    notes = [line for line in cell.final_plain().splitlines() if "usage could not be" in line]
    assert len(notes) == 1, cell.final_plain()
    note = notes[0]
    assert str(path) in note and why in note and "ROUTING_MAGICS_USAGE_DB" in note
    assert str(h.shell.user_ns["first"]) == "the answer"
    again = h.ok("%%route -o second\necho: again")  # "Run all" goes on; said once
    assert "usage could not be" not in again.final_plain()
    assert str(h.shell.user_ns["second"]) == "again"
    usage = h.run("%route usage")
    message = one_line(usage.error)
    assert "usage could not be recorded" in message and str(path) in message
    if kind == "corrupt":  # never deleted, never changed
        assert path.read_bytes() == before
    if kind == "wrong schema":  # the user's rows are still there
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT what FROM requests").fetchall() == [("keep me",)]
        conn.close()


def test_the_ledger_message_names_the_fix(h: Harness, tmp_path: Path) -> None:
    path = corrupt(tmp_path / "usage.sqlite")
    use_ledger(h, path)
    cell = h.ok("%%route\necho: hi")
    note = next(line for line in cell.final_plain().splitlines() if "usage could not" in line)
    assert note == (
        f"usage could not be recorded: the ledger {path} is damaged or not a ledger (file is not "
        "a database); move that file aside (routing_magics never deletes it), or set "
        "ROUTING_MAGICS_USAGE_DB (or %config RouteMagics.usage_db) to another file"
    )


def test_moving_the_broken_file_aside_heals_the_next_cell(h: Harness, tmp_path: Path) -> None:
    path = corrupt(tmp_path / "usage.sqlite")
    use_ledger(h, path)
    h.ok("%%route\necho: one")
    path.rename(tmp_path / "usage.sqlite.broken")
    cell = h.ok("%%route\necho: two")
    assert "usage could not" not in cell.final_plain()
    assert "notebook total" in cell.final_plain()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM requests").fetchone() == (1,)
    conn.close()


def test_an_error_answer_with_a_broken_ledger_still_fails_with_its_own_error(
    h: Harness, tmp_path: Path
) -> None:
    use_ledger(h, corrupt(tmp_path / "usage.sqlite"))
    h.emu.inject("PROVIDER_ERROR", times=3)
    cell = h.run("%%route\necho: hi")
    assert "PROVIDER_ERROR" in one_line(cell.error)


# --- 9. a notebook key per session outside Jupyter -----------------------------------------


def key_of_a_new_process() -> str:
    code = "from routing_magics.ledger import notebook_key; print(notebook_key({}, {}, None))"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_sessions_outside_jupyter_get_keys_of_their_own() -> None:
    first, second = key_of_a_new_process(), key_of_a_new_process()
    assert first != second
    assert first.startswith("session:") and second.startswith("session:")


def test_usage_names_the_session_key_and_reset_spares_other_sessions(h: Harness) -> None:
    from routing_magics.ledger import Ledger, UsageRow

    h.ok("%%route\necho: mine")
    key = h.magics.session.notebook
    assert key.startswith("session:")
    with Ledger(h.db) as ledger:
        other = UsageRow("session:1@2026-01-01T00:00:00", "route/x", "e", None, 1, 1, 2, False,
                         None, None, "ok")  # fmt: skip
        ledger.record(other)
    usage = h.ok("%route usage")
    assert key in usage.final_plain() or key in usage.stdout
    h.ok("%route usage --reset")
    with sqlite3.connect(h.db) as conn:
        notebooks = [r[0] for r in conn.execute("SELECT notebook FROM requests")]
    conn.close()
    assert notebooks == ["session:1@2026-01-01T00:00:00"]
