"""The ledger file's schema and connection: migrations as a list, WAL, busy waits.

The schema evolves through `MIGRATIONS`, small functions applied in order and tracked with
`PRAGMA user_version`; never reorder or edit one that has shipped. Several kernels (and the
panel's worker thread) write to one file: WAL mode, a 30 s busy timeout, one short
`BEGIN IMMEDIATE` transaction per write.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from .paths import make_private

BUSY_TIMEOUT_S = 30.0

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(step: Migration) -> Migration:
    """Append `step` to MIGRATIONS; never reorder or edit one that has shipped."""
    MIGRATIONS.append(step)
    return step


@migration
def m001_requests(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE requests (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            notebook TEXT NOT NULL,
            model TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            provider TEXT,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            total_tokens INTEGER NOT NULL,
            estimated INTEGER NOT NULL,
            ttft_ms INTEGER,
            latency_ms INTEGER,
            outcome TEXT NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX requests_notebook_model ON requests (notebook, model)")


@migration
def m002_answers(conn: sqlite3.Connection) -> None:
    """The answers cache (ledger/cache.py): finished answers by a hash of the exact request."""
    conn.execute(
        """
        CREATE TABLE answers (
            key TEXT PRIMARY KEY,
            ts REAL NOT NULL,
            model TEXT NOT NULL,
            text TEXT NOT NULL,
            reasoning TEXT NOT NULL,
            provider TEXT,
            finish_reason TEXT
        )
        """
    )


@migration
def m003_answers_by_service(conn: sqlite3.Connection) -> None:
    """Keys now name the service that answered; older ones did not, so an offline emulator's
    answer could be served to a real key. Drop them: a cache may always be emptied."""
    conn.execute("DELETE FROM answers")


@migration
def m004_budgets(conn: sqlite3.Connection) -> None:
    """A notebook's budget for one local day (ledger/budgets.py); NULL usd: switched off."""
    conn.execute(
        """
        CREATE TABLE budgets (
            notebook TEXT NOT NULL,
            day TEXT NOT NULL,
            usd REAL,
            ts REAL NOT NULL,
            PRIMARY KEY (notebook, day)
        )
        """
    )
    conn.execute("CREATE INDEX requests_notebook_ts ON requests (notebook, ts)")


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to len(MIGRATIONS); safe when several processes open a new file at once."""
    if schema_version(conn) >= len(MIGRATIONS):
        return
    with conn:
        # The write lock first, then re-read: another kernel may have migrated meanwhile.
        conn.execute("BEGIN IMMEDIATE")
        version = schema_version(conn)
        for step in MIGRATIONS[version:]:
            step(conn)
        if version < len(MIGRATIONS):
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")


def enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL; retried, since SQLite answers "locked" here without waiting on busy_timeout
    while another kernel is creating the file."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01 + random.random() * 0.04)


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """An open, migrated connection to the ledger file (readable by us alone: make_private),
    shareable across threads."""
    make_private(Path(path))
    # isolation_level=None: we open every transaction ourselves (BEGIN IMMEDIATE), so a
    # writer takes the lock up front and waits on busy_timeout instead of failing midway.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    try:
        enable_wal(conn)
        # NORMAL is crash-safe for the application in WAL mode; only a power cut may drop
        # the last rows, which a usage ledger can afford.
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn
