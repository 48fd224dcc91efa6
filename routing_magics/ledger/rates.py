"""The rate budget: one per-minute send window per key and service, shared by every batch in
every kernel on the machine, in a small SQLite file beside the usage ledger.

routing.run limits a user, not a kernel (100 requests a minute). Each batch reserves its send
slots here, so two batches in one notebook or in two notebooks stay under the limit together,
evenly interleaved. A bucket is named by a hash of the key and the service, never the key.
Several processes write the file: WAL, short `BEGIN IMMEDIATE` transactions, and a short busy
wait (LOCK_WAIT): a caller that cannot get the lock by then paces on its own instead.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from .paths import make_private
from .window import WINDOW, Unknown, next_slot

#: Seconds a reservation may wait for another kernel's lock before the file counts as unusable.
LOCK_WAIT = 2.0
FILE_NAME = "rate-budget.sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sends (bucket TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sends_by_bucket ON sends (bucket, at)",
    """CREATE TABLE IF NOT EXISTS buckets (
        bucket TEXT PRIMARY KEY, next REAL NOT NULL, unknown REAL NOT NULL,
        unknown_at REAL NOT NULL)""",
)


class RateBudgetUnavailable(Exception):
    """The budget file cannot be used; str() is the one line to show."""

    def __init__(self, path: Path, exc: BaseException) -> None:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        super().__init__(
            f"the shared rate budget {path} cannot be used ({reason}); this batch is paced on "
            "its own, so batches in other kernels may meet 429s (they are retried)"
        )


def rate_budget_path(ledger_path: str | os.PathLike[str]) -> Path:
    """The budget file: beside the usage ledger, so every kernel that shares one shares it."""
    return Path(ledger_path).expanduser().with_name(FILE_NAME)


def bucket_of(key: str, service: str) -> str:
    """A bucket's name: a hash of the key and the service (the file never holds the key)."""
    return hashlib.sha256(f"routing-magics-budget\n{service}\n{key}".encode()).hexdigest()


class RateBudget:
    """The budget file; thread-safe. Every method raises RateBudgetUnavailable on failure."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            make_private(self.path)
            self._conn = sqlite3.connect(self.path, timeout=LOCK_WAIT, isolation_level=None,
                                         check_same_thread=False)  # fmt: skip
        except (sqlite3.Error, OSError) as exc:
            raise RateBudgetUnavailable(self.path, exc) from exc
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")  # a lost slot costs nothing
            self._write(lambda conn: [conn.execute(sql) for sql in _SCHEMA])
        except BaseException:
            self._conn.close()
            raise

    def seed(self, bucket: str, used: int, now: float) -> None:
        """The service counted `used` requests this minute: those no send here accounts for
        join the bucket's sends of unknown time."""

        def add(conn: sqlite3.Connection) -> None:
            _, unknown = self._state(conn, bucket, now)
            known = conn.execute(
                "SELECT COUNT(*) FROM sends WHERE bucket = ? AND at > ? AND at <= ?",
                (bucket, now - WINDOW, now),
            ).fetchone()[0]
            extra = used - known - unknown.left(now)
            if extra > 0:
                seeded = unknown.plus(extra, now)
                conn.execute("UPDATE buckets SET unknown = ?, unknown_at = ? WHERE bucket = ?",
                             (seeded.count, seeded.at, bucket))  # fmt: skip

        self._write(add)

    def reserve(self, bucket: str, limit: int, interval: float, now: float) -> float:
        """Reserve the bucket's next send slot (a time.time()) for a batch pacing at `limit`
        a minute, `interval` apart."""
        slots: list[float] = []

        def take(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sends WHERE bucket = ? AND at <= ?", (bucket, now - WINDOW))
            after, unknown = self._state(conn, bucket, now)
            slot = next_slot(_StoredSends(conn, bucket), max(after, now), limit, unknown)
            conn.execute("INSERT INTO sends (bucket, at) VALUES (?, ?)", (bucket, slot))
            conn.execute("UPDATE buckets SET next = ? WHERE bucket = ?", (slot + interval, bucket))
            slots.append(slot)

        self._write(take)
        return slots[0]

    def note(self, bucket: str, at: float) -> None:
        """A send made without a reservation (a cell's), so batches count it in its minute."""

        def add(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sends WHERE bucket = ? AND at <= ?", (bucket, at - WINDOW))
            conn.execute("INSERT INTO sends (bucket, at) VALUES (?, ?)", (bucket, at))

        self._write(add)

    def hold(self, bucket: str, until: float) -> None:
        """No send of this bucket before `until` (a 429's Retry-After), in every kernel."""
        sql = "UPDATE buckets SET next = MAX(next, ?) WHERE bucket = ?"
        self._write(lambda conn: conn.execute(sql, (until, bucket)))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _state(self, conn: sqlite3.Connection, bucket: str, now: float) -> tuple[float, Unknown]:
        """The bucket's next free time and its sends of unknown time (made if missing)."""
        row = conn.execute(
            "SELECT next, unknown, unknown_at FROM buckets WHERE bucket = ?", (bucket,)
        ).fetchone()
        if row is None:
            conn.execute("INSERT INTO buckets VALUES (?, ?, 0, ?)", (bucket, now, now))
            return now, Unknown(0.0, now)
        return float(row[0]), Unknown(float(row[1]), float(row[2]))

    def _write(self, action: Callable[[sqlite3.Connection], object]) -> None:
        """Run `action(conn)` in one short write transaction."""
        try:
            with self._lock, self._conn as conn:
                conn.execute("BEGIN IMMEDIATE")
                action(conn)
        except (sqlite3.Error, OSError) as exc:
            raise RateBudgetUnavailable(self.path, exc) from exc


class _StoredSends:
    """A bucket's sends as next_slot asks about them: indexed queries, nothing loaded whole."""

    def __init__(self, conn: sqlite3.Connection, bucket: str) -> None:
        self._conn, self._bucket = conn, bucket

    def count_after(self, t: float) -> int:
        sql = "SELECT COUNT(*) FROM sends WHERE bucket = ? AND at > ?"
        return int(self._conn.execute(sql, (self._bucket, t)).fetchone()[0])

    def latest(self, k: int) -> float:
        sql = "SELECT at FROM sends WHERE bucket = ? ORDER BY at DESC LIMIT 1 OFFSET ?"
        return float(self._conn.execute(sql, (self._bucket, k - 1)).fetchone()[0])

    def first_after(self, t: float) -> float | None:
        sql = "SELECT MIN(at) FROM sends WHERE bucket = ? AND at > ?"
        found = self._conn.execute(sql, (self._bucket, t)).fetchone()[0]
        return None if found is None else float(found)
