"""The housekeeping subcommands of `%route`: models, use, usage, config, panel, reset."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.display import display

from . import errors

if TYPE_CHECKING:
    from .magics import RouteMagics


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str = ""
) -> dict[str, str]:
    """A small display bundle: an aligned text table and an escaped HTML table."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def aligned(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))

    text = "\n".join([caption, aligned(headers), *(aligned(r) for r in cells)])
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in cells
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return {
        "text/plain": text.strip("\n"),
        "text/html": f"<table>{cap}<tr>{head}</tr>{body}</table>",
    }


def cmd_models(magics: RouteMagics, rest: str) -> None:
    session = magics.session
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
        else ("your plan" if session.catalog.remote_loaded else "built-in list")
    )
    display(
        _table(("route", "context", "reasoning", "tier", "default"), rows, f"Routes ({source})"),
        raw=True,
    )


def cmd_use(magics: RouteMagics, rest: str) -> None:
    if not rest:
        print(f"Default model: {magics.session.default_model}")
        return
    model = magics.session.use_model(rest.split()[0])
    print(f"Default model for this notebook: {model}")


def cmd_usage(magics: RouteMagics, rest: str) -> None:
    from .usage_view import usage_table

    flags = set(rest.split())
    unknown = flags - {"--all", "--reset"}
    if unknown:
        raise UsageError(
            f"%route usage: unknown option {' '.join(sorted(unknown))}; use --all or --reset"
        )
    session = magics.session
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
        display(_table(headers, rows, "By notebook"), raw=True)
    account = _account(magics)
    if account:
        print(account)


def _account(magics: RouteMagics) -> str:
    """One line from GET /user/requests, or '' when the service does not answer it."""
    try:
        info: Mapping[str, Any] = magics.session.client.user_requests()
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


def cmd_config(magics: RouteMagics, rest: str) -> None:
    settings = magics.session.settings.describe()
    session = magics.session
    settings["usage ledger"] = session.ledger_path
    if session.emulator is not None:
        settings["offline emulator"] = f"on, at {session.emulator.base_url}"
    settings["default model"] = session.default_model
    settings["notebook key"] = session.notebook
    display(
        _table(("setting", "value"), list(settings.items()), "routing_magics settings"), raw=True
    )


def cmd_panel(magics: RouteMagics, rest: str) -> None:
    from .panel import RoutePanel

    display(RoutePanel(magics.session, magics.shell))


def cmd_reset(magics: RouteMagics, rest: str) -> None:
    n = len(magics.session.memory)
    magics.session.memory.reset()
    print(f"Chat memory cleared ({n} exchanges forgotten).")
