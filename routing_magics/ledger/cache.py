"""The answers cache: finished answers kept by a hash of the exact request, in the ledger's file.

A key covers everything that changes an answer (model, messages, temperature, max_tokens, the
output format, any other request parameter) and the service that answered (a public base URL, or
the offline emulator), so a cached answer is only ever reused for the same request to the same
service: never an emulator's answer for a real key. Only finished answers are stored; failed or
stopped ones never are (the callers decide, this module only stores). Several kernels may write
at once: every write is one short `BEGIN IMMEDIATE` transaction, and `INSERT OR REPLACE` makes a
race between two kernels answering the same request harmless (both answers are valid for it).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .failure import guarded
from .schema import connect

#: SQLite's default limit on `?` parameters is 999 in old builds: look keys up in slices.
_LOOKUP_SLICE = 500


@dataclass(frozen=True)
class CachedAnswer:
    """A finished answer as the cache keeps it (no usage: a cached answer bills nothing)."""

    model: str
    text: str
    reasoning: str = ""
    provider: str | None = None
    finish_reason: str | None = None


def request_key(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    *,
    fmt: str,
    service: str,
) -> str:
    """A stable hash of the exact request to one service: the same request, the same key."""
    material = {"model": model, "messages": list(messages), "params": dict(params), "format": fmt,
                "service": service}  # fmt: skip
    text = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class AnswerCache:
    """Finished answers in the ledger's SQLite file; thread-safe, shared by every kernel."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        with guarded(self.path):
            self._conn = connect(self.path)

    def get(self, key: str) -> CachedAnswer | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedAnswer]:
        """The cached answers among `keys`, by key."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, CachedAnswer] = {}
        for start in range(0, len(wanted), _LOOKUP_SLICE):
            part = wanted[start : start + _LOOKUP_SLICE]
            marks = ",".join("?" * len(part))
            sql = (
                "SELECT key, model, text, reasoning, provider, finish_reason FROM answers "
                f"WHERE key IN ({marks})"
            )
            with self._lock, guarded(self.path):
                rows = self._conn.execute(sql, part).fetchall()
            found.update({r[0]: CachedAnswer(*r[1:]) for r in rows})
        return found

    def put_many(self, answers: Mapping[str, CachedAnswer]) -> None:
        """Store finished answers in one transaction."""
        now = time.time()
        values = [
            (key, now, a.model, a.text, a.reasoning, a.provider, a.finish_reason)
            for key, a in answers.items()
        ]
        if not values:
            return
        with self._lock, guarded(self.path), self._conn as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)", values)

    def put(self, key: str, answer: CachedAnswer) -> None:
        self.put_many({key: answer})

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def clear(self) -> int:
        """Forget every cached answer; returns how many there were."""
        with self._lock, self._conn as conn:
            conn.execute("BEGIN IMMEDIATE")
            return conn.execute("DELETE FROM answers").rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
