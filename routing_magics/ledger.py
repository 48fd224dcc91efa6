"""SQLite usage ledger: one row per request, keyed by notebook, so totals survive kernel restarts.

Several kernels (and the panel's worker thread) write to one file: WAL mode, a 30 s busy timeout,
one short `BEGIN IMMEDIATE` transaction per write. The schema evolves through `MIGRATIONS`, a list
of small functions applied in order and tracked with `PRAGMA user_version`.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .config import ENV_USAGE_DB

BUSY_TIMEOUT_S = 30.0
#: Outcomes that are not errors; anything else is an error code such as "PROVIDER_ERROR".
NON_ERROR_OUTCOMES = ("ok", "stopped")


@dataclass(frozen=True)
class UsageRow:
    """One request as the ledger stores it. There is deliberately no place for the API key."""

    notebook: str
    model: str
    endpoint: str
    provider: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool  # counted by us: the stream was cut before the server's usage arrived
    ttft_ms: int | None
    latency_ms: int | None
    outcome: str  # "ok", "stopped", or an error code like "PROVIDER_ERROR"
    ts: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ModelTotals:
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    mean_latency_ms: float | None
    estimated: bool  # any row estimated
    errors: int


@dataclass(frozen=True)
class NotebookTotals:
    notebook: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


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


_INSERT = """
INSERT INTO requests (ts, notebook, model, endpoint, provider, prompt_tokens, completion_tokens,
                      total_tokens, estimated, ttft_ms, latency_ms, outcome)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_MODEL_TOTALS = f"""
SELECT model, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens),
       AVG(latency_ms), MAX(estimated), SUM(outcome NOT IN {NON_ERROR_OUTCOMES!r})
FROM requests {{where}} GROUP BY model ORDER BY SUM(total_tokens) DESC, model
"""
_NOTEBOOK_TOTALS = """
SELECT notebook, COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),
       COALESCE(SUM(total_tokens), 0)
FROM requests {where}
"""


def _enable_wal(conn: sqlite3.Connection) -> None:
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


class Ledger:
    """The usage ledger in one SQLite file; thread-safe, shared by every kernel on the machine."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: we open every transaction ourselves (BEGIN IMMEDIATE), so a
        # writer takes the lock up front and waits on busy_timeout instead of failing midway.
        self._conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            _enable_wal(self._conn)
            # NORMAL is crash-safe for the application in WAL mode; only a power cut may drop
            # the last rows, which a usage ledger can afford.
            self._conn.execute("PRAGMA synchronous = NORMAL")
            migrate(self._conn)
        except BaseException:
            self._conn.close()
            raise

    def record(self, row: UsageRow) -> None:
        values = (
            row.ts, row.notebook, row.model, row.endpoint, row.provider, row.prompt_tokens,
            row.completion_tokens, row.total_tokens, int(row.estimated), row.ttft_ms,
            row.latency_ms, row.outcome,
        )  # fmt: skip
        with self._lock, self._conn as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_INSERT, values)

    def totals_by_model(self, notebook: str | None) -> list[ModelTotals]:
        """Per-model sums for one notebook, or for all notebooks when `notebook` is None."""
        where, params = ("WHERE notebook = ?", (notebook,)) if notebook is not None else ("", ())
        with self._lock:
            rows = self._conn.execute(_MODEL_TOTALS.format(where=where), params).fetchall()
        return [ModelTotals(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows]

    def notebook_total(self, notebook: str) -> NotebookTotals:
        """This notebook's sums; zeros when it has made no request."""
        sql = _NOTEBOOK_TOTALS.format(where="WHERE notebook = ?")
        with self._lock:
            _, *sums = self._conn.execute(sql, (notebook,)).fetchone()
        return NotebookTotals(notebook, *sums)

    def totals_by_notebook(self) -> list[NotebookTotals]:
        sql = _NOTEBOOK_TOTALS.format(where="") + " GROUP BY notebook ORDER BY notebook"
        with self._lock:
            rows = self._conn.execute(sql).fetchall()
        return [NotebookTotals(*r) for r in rows]

    def reset(self, notebook: str) -> int:
        """Forget this notebook's rows; returns how many were deleted."""
        with self._lock, self._conn as conn:
            conn.execute("BEGIN IMMEDIATE")
            return conn.execute("DELETE FROM requests WHERE notebook = ?", (notebook,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def default_ledger_path(env: Mapping[str, str] = os.environ) -> Path:
    """ROUTING_MAGICS_USAGE_DB, else routing_magics/usage.sqlite under Jupyter's data dir."""
    explicit = env.get(ENV_USAGE_DB)
    if explicit:
        return Path(explicit).expanduser()
    return _jupyter_data_dir(env) / "routing_magics" / "usage.sqlite"


def _jupyter_data_dir(env: Mapping[str, str]) -> Path:
    # jupyter_core reads os.environ itself, so honour JUPYTER_DATA_DIR from `env` first.
    if env.get("JUPYTER_DATA_DIR"):
        return Path(env["JUPYTER_DATA_DIR"]).expanduser()
    try:
        from jupyter_core.paths import jupyter_data_dir
    except ImportError:
        return _platform_data_dir(env)
    return Path(jupyter_data_dir())


def _platform_data_dir(env: Mapping[str, str]) -> Path:
    """Jupyter's own defaults, for when jupyter_core is not installed."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter"
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        return Path(appdata) / "jupyter" if appdata else home / ".jupyter" / "data"
    xdg = env.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "jupyter"


def notebook_key(
    user_ns: Mapping[str, object], env: Mapping[str, str], kernel_id: str | None
) -> str:
    """Which notebook this kernel serves: its path when the frontend says, else the kernel id."""
    for candidate in (
        env.get("JPY_SESSION_NAME"),
        user_ns.get("__session__"),
        user_ns.get("__vsc_ipynb_file__"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate
    return f"kernel:{kernel_id or 'unknown'}"
