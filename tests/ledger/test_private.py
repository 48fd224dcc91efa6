"""The ledger and answers-cache file holds prompts (data frames in them) and answers: on a shared
machine nobody else may read it. Created 0600 in folders created 0700, its -wal and -shm too, and
an existing file of ours tightened when opened; through a real shell against the emulator."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness

NOBODY = 65534


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    old = os.umask(0o022)  # the usual umask, under which files are created readable by all
    try:
        with magic_harness(emu, tmp_path, monkeypatch) as harness:
            yield harness
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def use_ledger(h: Harness, path: Path) -> None:
    h.ok(f"%config RouteMagics.usage_db = {str(path)!r}")
    h.ok("%%route --cache -o first\necho: a cached answer")  # a ledger row and a cache entry


def sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def test_a_new_ledger_is_ours_alone_and_so_are_the_folders_made_for_it(
    h: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "made" / "for it" / "usage.sqlite"
    tmp_path.chmod(0o755)
    use_ledger(h, path)
    assert mode(path) == 0o600
    assert [mode(f) for f in sidecars(path)] == [0o600, 0o600]  # open: WAL's files are there
    assert mode(tmp_path / "made") == 0o700 and mode(tmp_path / "made" / "for it") == 0o700
    assert mode(tmp_path) == 0o755  # not made for it: left as it was


def test_an_existing_ledger_of_ours_is_tightened_with_its_wal_files(
    h: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "shared" / "usage.sqlite"
    path.parent.mkdir()
    path.parent.chmod(0o755)
    other = sqlite3.connect(path)  # an older version's kernel, still running
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE t (x)")
    path.chmod(0o644)
    for extra in sidecars(path):
        extra.chmod(0o644)
    try:
        use_ledger(h, path)
        assert [mode(f) for f in (path, *sidecars(path))] == [0o600, 0o600, 0o600]
        assert mode(path.parent) == 0o755  # a folder that existed is the user's to keep
    finally:
        other.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_ledger_that_is_not_ours_keeps_its_mode(h: Harness, tmp_path: Path) -> None:
    path = tmp_path / "theirs.sqlite"
    sqlite3.connect(path).close()
    path.chmod(0o664)
    os.chown(path, NOBODY, NOBODY)
    use_ledger(h, path)
    assert mode(path) == 0o664 and path.stat().st_uid == NOBODY
