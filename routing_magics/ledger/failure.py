"""A ledger that cannot be used: why, in one line that says what to do. Never deletes a file."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..config import ENV_USAGE_DB


class LedgerUnavailable(Exception):
    """The ledger file cannot be opened, read or written; str() is the one line to show."""

    def __init__(self, path: Path, reason: str, advice: str) -> None:
        self.path, self.reason, self.advice = path, reason, advice
        super().__init__(
            f"usage could not be recorded: the ledger {path} {reason}; {advice}, or set "
            f"{ENV_USAGE_DB} (or %config RouteMagics.usage_db) to another file"
        )


def diagnose(path: Path, exc: BaseException) -> LedgerUnavailable:
    """What went wrong with the file at `path`, and what the user can do about it."""
    text = str(exc).strip() or type(exc).__name__
    move = "move that file aside (routing_magics never deletes it)"
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        parent = next((p for p in path.parents if p.is_file()), path.parent)
        return LedgerUnavailable(path, f"cannot be created: {parent} is a file, not a folder",
                                 "choose a path inside a folder")  # fmt: skip
    if isinstance(exc, PermissionError) or any(
        word in text for word in ("readonly", "read-only", "unable to open", "permission")
    ):
        return LedgerUnavailable(path, f"cannot be written ({text})",
                                 "give yourself write access to it and its folder")  # fmt: skip
    if any(word in text for word in ("no such", "has no column", "already exists", "schema")):
        return LedgerUnavailable(path, f"has a schema routing_magics does not know ({text})", move)
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return LedgerUnavailable(path, f"is damaged or not a ledger ({text})", move)
    return LedgerUnavailable(path, f"failed ({type(exc).__name__}: {text})", move)


@contextlib.contextmanager
def guarded(path: Path) -> Iterator[None]:
    """Turn SQLite and file-system errors on `path` into LedgerUnavailable."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise diagnose(path, exc) from exc
