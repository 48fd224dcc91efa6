"""The SQLite usage ledger: one file per machine, shared by every kernel, one row per request.

usage.py holds the rows and totals, cache.py the answers cache beside them, schema.py the
migrations and the connection, paths.py where the file lives and which notebook a kernel serves.
"""

from .cache import AnswerCache, CachedAnswer, request_key
from .failure import LedgerUnavailable
from .paths import default_ledger_path, notebook_key
from .schema import MIGRATIONS, migrate, migration, schema_version
from .usage import Ledger, ModelTotals, NotebookTotals, UsageRow

__all__ = [
    "MIGRATIONS",
    "AnswerCache",
    "CachedAnswer",
    "Ledger",
    "LedgerUnavailable",
    "ModelTotals",
    "NotebookTotals",
    "UsageRow",
    "default_ledger_path",
    "migrate",
    "migration",
    "notebook_key",
    "request_key",
    "schema_version",
]
