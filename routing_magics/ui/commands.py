"""The housekeeping subcommands of `%route`, each a few lines over the Session.

`SUBCOMMANDS` maps a word to a `Subcommand(session, shell, rest)`; magics.py only dispatches
(and runs `%route fix` itself, which needs the magics' cell log: ui/fix.py).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.display import display

from ..api import errors
from ..config import public_url
from ..display.tables import table
from .advice import notebook_message

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..session import Session

Subcommand = Callable[["Session", "InteractiveShell", str], None]


def models(session: Session, shell: InteractiveShell, rest: str) -> None:
    if not session.offline:
        session.refresh_catalog()
    catalog = session.catalog
    listed = catalog.remote_ids if catalog.remote_loaded else None
    rows = [
        (
            r.id,
            f"{r.context:,}",
            "yes" if r.reasoning else "",
            r.tier_label,
            "*" if r.id == session.default_model else "",
        )
        for r in catalog
        if listed is None or r.id in listed
    ]
    source = (
        "offline emulator"
        if session.offline
        else ("your plan" if catalog.remote_loaded else "built-in list")
    )
    display(
        table(("route", "context", "reasoning", "tier", "default"), rows, f"Routes ({source})"),
        raw=True,
    )


def use(session: Session, shell: InteractiveShell, rest: str) -> None:
    if not rest:
        print(f"Default model: {session.default_model}")
        return
    model = session.use_model(rest.split()[0])
    print(f"Default model for this notebook: {model}")


def usage(session: Session, shell: InteractiveShell, rest: str) -> None:
    """Tables, chart, costs and caps; -o NAME / --csv PATH export the rows (ui/usage.py)."""
    from ..ledger import LedgerUnavailable
    from .usage import parse_usage_args, show_usage

    try:
        show_usage(session, shell, parse_usage_args(rest))
    except LedgerUnavailable as exc:  # a broken ledger: say what to do, not a traceback
        raise UsageError(str(exc)) from None


def config(session: Session, shell: InteractiveShell, rest: str) -> None:
    settings = session.settings.describe()
    settings["usage ledger"] = session.ledger_path
    if session.emulator is not None:
        settings["offline emulator"] = f"on, at {session.emulator.base_url}"
    settings["default model"] = session.default_model
    settings["notebook key"] = session.notebook
    display(
        table(("setting", "value"), list(settings.items()), "routing_magics settings"), raw=True
    )


def panel(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .panel import RoutePanel

    display(RoutePanel(session, shell))


def reset(session: Session, shell: InteractiveShell, rest: str) -> None:
    n = len(session.memory)
    session.memory.reset()
    print(f"Chat memory cleared ({n} exchanges forgotten).")


def key(session: Session, shell: InteractiveShell, rest: str) -> None:
    """Ask for the key with getpass, so it is never typed into a cell."""
    from ..api.client import checked_key

    entered = getpass.getpass("routing.run API key (rk_…): ").strip()
    if not entered:
        raise UsageError("no key entered; nothing changed")
    if not entered.startswith("rk_"):
        raise UsageError("routing.run keys start with rk_; nothing changed")
    try:  # the client's own check, now rather than at the next cell
        checked_key(entered)
    except errors.ConfigurationError as exc:
        raise UsageError(f"{notebook_message(exc)}; nothing changed") from None
    session.configure(replace(session.settings, api_key=entered))
    settings = session.settings
    where = (
        "the offline emulator (offline is on)"
        if settings.offline
        else public_url(settings.base_url)
    )
    print(f"Key set for this kernel; requests now go to {where}.")


def cache(session: Session, shell: InteractiveShell, rest: str) -> None:
    """`%route cache on|off|clear`: single cells answer from the answers cache, or not."""
    word = rest.strip()
    if word in ("on", "off"):
        session.cache_cells = word == "on"
        more = (
            "answer from the cache when it can"
            if word == "on"
            else "ask the model (unless --cache)"
        )
        print(f"Answers cache {word}: single cells {more}; --each batches always use it.")
    elif word == "clear":
        print(f"Answers cache cleared ({_count(session.cache.clear(), 'answer')} forgotten).")
    elif not word:
        state = "on" if session.cache_cells else "off"
        print(
            f"Answers cache {state} for single cells; {_count(len(session.cache), 'answer')} kept."
        )
    else:
        raise UsageError(f"%route cache {word}: use on, off or clear")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _budget(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .budget import budget

    budget(session, shell, rest)


def _tools(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .tooling import tools

    tools(session, shell, rest)


def _jobs(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .jobs_commands import jobs

    jobs(session, shell, rest)


def _wait(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .jobs_commands import wait

    wait(session, shell, rest)


def _stop(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .jobs_commands import stop

    stop(session, shell, rest)


SUBCOMMANDS: dict[str, Subcommand] = {
    "models": models,
    "use": use,
    "usage": usage,
    "key": key,
    "config": config,
    "panel": panel,
    "reset": reset,
    "cache": cache,
    "tools": _tools,
    "jobs": _jobs,
    "wait": _wait,
    "stop": _stop,
    "budget": _budget,
}
#: Subcommands that read the rest of the line; for the others, more words make it a prompt.
TAKES_ARGUMENTS = frozenset({"use", "usage", "cache", "tools", "wait", "stop", "budget"})
