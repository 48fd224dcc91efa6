"""The housekeeping subcommands of `%route`, each a few lines over the Session.

`SUBCOMMANDS` maps a word to a `Subcommand(session, shell, rest)`; magics.py only dispatches.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.display import display

from ..api import errors
from ..display.tables import table

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
    from ..display.tables import usage_table

    flags = set(rest.split())
    unknown = flags - {"--all", "--reset"}
    if unknown:
        raise UsageError(
            f"%route usage: unknown option {' '.join(sorted(unknown))}; use --all or --reset"
        )
    if flags == {"--all", "--reset"}:
        raise UsageError("%route usage --reset forgets this notebook's rows only; drop --all")
    if "--reset" in flags:
        gone = session.ledger.reset(session.notebook)
        print(f"Forgot {gone} usage rows of this notebook ({session.notebook}).")
        return
    everyone = "--all" in flags
    totals = session.ledger.totals_by_model(None if everyone else session.notebook)
    title = "Usage, all notebooks" if everyone else f"Usage of {session.notebook}"
    display(usage_table(totals, title=title), raw=True)
    if everyone:
        notebooks = session.ledger.totals_by_notebook()
        rows = [(n.notebook, n.requests, n.prompt_tokens, n.completion_tokens, n.total_tokens)
                for n in notebooks]  # fmt: skip
        headers = ("notebook", "requests", "tokens in", "out", "total")
        display(table(headers, rows, "By notebook"), raw=True)
    account = _account(session)
    if account:
        print(account)


def _account(session: Session) -> str:
    """One line from GET /user/requests, or '' when the service does not answer it."""
    try:
        info: Mapping[str, Any] = session.client.user_requests()
    except errors.RoutingError:
        return ""
    hourly = f"; this hour {info.get('requests_used_this_hour')} used"
    if info.get("requests_limit_this_hour"):  # 0 on plans without an hourly cap
        hourly += f", {info.get('requests_remaining_this_hour')} left"
    return (
        f"Account ({info.get('plan_tier', '?')} plan): today "
        f"{_count(info.get('requests_used_today'), 'request')} used, "
        f"{info.get('requests_remaining')} left{hourly}."
    )


def _count(n: object, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


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
    entered = getpass.getpass("routing.run API key (rk_…): ").strip()
    if not entered:
        raise UsageError("no key entered; nothing changed")
    if not entered.startswith("rk_"):
        raise UsageError("routing.run keys start with rk_; nothing changed")
    session.configure(replace(session.settings, api_key=entered))
    settings = session.settings
    where = "the offline emulator (offline is on)" if settings.offline else settings.base_url
    print(f"Key set for this kernel; requests now go to {where}.")


def _tools(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .tooling import tools

    tools(session, shell, rest)


def _fix(session: Session, shell: InteractiveShell, rest: str) -> None:
    from .fix import fix

    fix(session, shell, rest)


SUBCOMMANDS: dict[str, Subcommand] = {
    "models": models,
    "use": use,
    "usage": usage,
    "key": key,
    "config": config,
    "panel": panel,
    "reset": reset,
    "tools": _tools,
    "fix": _fix,
}
#: Subcommands that read the rest of the line; for the others, more words make it a prompt.
TAKES_ARGUMENTS = frozenset({"use", "usage", "tools", "fix"})
