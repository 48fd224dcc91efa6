"""The machine's rate budget (ledger/rates.py) as a session sees it: whose bucket, and a
cell's sends noted in it.

A cell is never held back by the budget: it is typed by a person, and a 429 it meets is retried
after Retry-After like any. But its send is noted, so a batch starting or running in any kernel
knows when it was made instead of guessing from the service's count.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from typing import TYPE_CHECKING

from ..config import EMULATOR_KEY, public_url
from ..ledger.rates import RateBudget, RateBudgetUnavailable, bucket_of, rate_budget_path

if TYPE_CHECKING:
    from ..session import Session


def session_bucket(session: Session) -> str:
    """The bucket of the key the requests carry and where they go (each emulator is a service
    of its own: two kernels offline do not share a limit)."""
    if session.offline:
        return bucket_of(EMULATOR_KEY, session.start_emulator())
    return bucket_of(session.settings.api_key or "", public_url(session.settings.base_url))


#: Each session's open budget file, kept across its cells (opening it costs more than a note).
_OPEN: weakref.WeakKeyDictionary[Session, RateBudget] = weakref.WeakKeyDictionary()
_OPENING = threading.Lock()


def note_send(session: Session) -> None:
    """Note a cell's request in the budget; a budget that cannot be used is a batch's to say."""
    session.note_request()
    with contextlib.suppress(RateBudgetUnavailable):
        _budget_of(session).note(session_bucket(session), time.time())


def _budget_of(session: Session) -> RateBudget:
    """The session's budget file, opened once (again if the ledger moved)."""
    path = rate_budget_path(session.ledger_path)
    with _OPENING:
        budget = _OPEN.get(session)
        if budget is None or budget.path != path:
            if budget is not None:
                budget.close()
            budget = _OPEN[session] = RateBudget(path)
        return budget
