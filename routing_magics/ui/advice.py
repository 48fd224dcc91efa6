"""What a notebook user should do about an error: the magics' words for each error code.

api/ advises a script (environment variables, RoutingClient's methods); in a notebook the same
error points at `%route models`, `%route key`, `%route usage` or running the cell again. Only a
general hint is replaced (`hint_is_generic`): a raiser's own words, such as "did you mean …" or
"add --limit 40", say more about this error than any table can.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from IPython.core.error import UsageError

from ..api import errors

#: Error code → the notebook's hint; "{reset}" becomes when the daily cap resets.
NOTEBOOK_HINTS: Final[Mapping[str, str]] = {
    "INVALID_MODEL": "run `%route models` to see the routes you can call",
    "AUTHENTICATION_ERROR": "set a valid rk_ key with `%route key` or ROUTING_RUN_API_KEY",
    "MALFORMED_KEY": "copy the rk_… key again, exactly, into ROUTING_RUN_API_KEY or `%route key`",
    "MODEL_NOT_ALLOWED": "pick a route your plan includes (`%route models`) or upgrade your plan",
    "RATE_LIMITED": "wait a minute and run the cell again",
    "DAILY_REQUEST_LIMIT_EXCEEDED": (
        "the plan's daily cap is reached and resets {reset}; `%route usage` shows what is left"
    ),
    "STREAM_ERROR": "the partial answer is kept; run the cell again for a full one",
    "CONNECTION_ERROR": "check your network or ROUTING_RUN_BASE_URL, then run the cell again",
    "TIMEOUT": "the service went quiet; run the cell again",
}

# Server text in an error must not drive a terminal (colours, cursor moves, a retitled window).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def notebook_hint(error: errors.RoutingError) -> str:
    """The hint for a notebook: the magics' words for the error's code, else its own hint."""
    if not error.hint_is_generic:
        return error.hint
    # A server may send its own X-Error-Code for a known status (a 429's RATE_LIMIT_EXCEEDED):
    # the class it maps to still says which advice applies.
    hint = NOTEBOOK_HINTS.get(error.code) or NOTEBOOK_HINTS.get(type(error).default_code)
    if hint is None:
        return error.hint
    if "{reset}" in hint:
        from ..api.account import reset_phrase

        hint = hint.replace("{reset}", reset_phrase())
    return hint


def notebook_message(error: errors.RoutingError) -> str:
    """The error as a notebook shows it: one line, the notebook's hint, no control characters."""
    return _CONTROL.sub(" ", error.describe(notebook_hint(error))).strip()


class Stopped(Exception):
    """A cell the user stopped (Ctrl-C, the stop button): it still fails, so "Run all" stops
    there, but reads as one plain line, `Stopped: …`, not as a usage error. IPython gives a
    one-liner only to exactly UsageError (worded "UsageError: …"); any other exception shows
    what its `_render_traceback_` returns instead of a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"Stopped: {self}"]


#: What a stopped cell says under its partial answer (whose footer already says "stopped").
STOPPED_CELL = "the answer so far is kept; run the cell again for a full one"


def cell_error(error: errors.RoutingError) -> Exception:
    """What fails the cell: `Stopped` for the user's stop, else the one-line UsageError."""
    if isinstance(error, errors.Stopped):
        return Stopped(STOPPED_CELL)
    return UsageError(notebook_message(error))
