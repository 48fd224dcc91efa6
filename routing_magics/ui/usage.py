"""`%route usage [--all] [--today] [--reset] [-o NAME] [--csv PATH [--overwrite]]`: the ledger as
tables, a chart, estimated costs, the account's caps, a pandas DataFrame or a CSV file."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.display import display

from ..api.client import QUICK_TIMEOUT
from ..display.charts import token_chart
from ..display.tables import allowance_table, table, usage_table
from ..ledger import reports
from .options import check_out_name

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..api.pricing import PriceList
    from ..ledger import ModelTotals
    from ..session import Session

USAGE_HELP = "%route usage [--all] [--today] [--reset] [-o NAME] [--csv PATH [--overwrite]]"


@dataclass(frozen=True)
class UsageArgs:
    everyone: bool = False
    today: bool = False
    reset: bool = False
    out: str | None = None
    csv: str | None = None
    overwrite: bool = False  # --csv may replace a file that exists


def parse_usage_args(rest: str) -> UsageArgs:
    """The options of `%route usage`; a UsageError names what is wrong."""
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise UsageError(f"%route usage: {exc}; usage: {USAGE_HELP}") from None
    flags = dict.fromkeys(("--all", "--today", "--reset", "--overwrite"), False)
    values: dict[str, str | None] = {"-o": None, "--csv": None}
    while words:
        word = words.pop(0)
        if word in flags:
            flags[word] = True
        elif word in values and words:
            values[word] = words.pop(0)
        else:
            problem = f"{word} needs a value" if word in values else f"unknown option {word}"
            raise UsageError(f"%route usage: {problem}; usage: {USAGE_HELP}")
    args = UsageArgs(flags["--all"], flags["--today"], flags["--reset"], values["-o"],
                     values["--csv"], flags["--overwrite"])  # fmt: skip
    if args.overwrite and not args.csv:
        raise UsageError("--overwrite goes with --csv PATH: it lets the file be replaced")
    if args.reset and (args.everyone or args.today or args.out or args.csv):
        others = "--all" if args.everyone else "the other options"
        raise UsageError(f"%route usage --reset forgets this notebook's rows only; drop {others}")
    return args


def show_usage(session: Session, shell: InteractiveShell, args: UsageArgs) -> None:
    if args.out is not None:
        check_out_name(args.out, shell, example="usage")
    if args.csv and not args.overwrite and Path(args.csv).expanduser().exists():
        raise UsageError(_exists(args.csv))
    this_notebook = session.notebook  # read once: the rows and the title name the same key
    if args.reset:
        gone = session.ledger.reset(this_notebook)
        print(f"Forgot {gone} usage rows of this notebook ({this_notebook}).")
        return
    session.prices.start()
    prices = session.prices.get(QUICK_TIMEOUT)
    notebook = None if args.everyone else this_notebook
    if args.out or args.csv:
        return export(session, shell, args, notebook, prices)
    totals = session.ledger.totals_by_model(notebook)
    costs = model_costs(prices, totals)
    title = "Usage, all notebooks" if notebook is None else f"Usage of {notebook}"
    note = price_note(prices)
    display(usage_table(totals, title=title, costs=costs, cost_note=note), raw=True)
    if notebook is None:
        rows = [(n.notebook, n.requests, n.prompt_tokens, n.completion_tokens, n.total_tokens)
                for n in session.ledger.totals_by_notebook()]  # fmt: skip
        headers = ("notebook", "requests", "tokens in", "out", "total")
        display(table(headers, rows, "By notebook"), raw=True)
    display(_chart(session, notebook, args.today), raw=True)
    session.account.invalidate()  # asked for: fresh counts, worth a short wait
    session.account.start()
    info = session.account_now(QUICK_TIMEOUT)
    if info is not None:
        display(allowance_table(info), raw=True)


def model_costs(
    prices: PriceList | None, totals: list[ModelTotals]
) -> dict[str, float | None] | None:
    """Estimated USD per model (None: unpriced), or None when no prices are known."""
    if prices is None:
        return None
    return {t.model: prices.cost(t.model, t.prompt_tokens, t.completion_tokens) for t in totals}


def _chart(session: Session, notebook: str | None, today: bool) -> dict[str, str]:
    whose = "all notebooks" if notebook is None else "this notebook"
    if today:
        buckets = reports.tokens_per_hour(session.ledger, notebook)
        return token_chart(buckets, f"Tokens per hour today, {whose}")
    buckets = reports.tokens_per_day(session.ledger, notebook)
    return token_chart(buckets, f"Tokens per day, last 30 days, {whose}")


def price_note(prices: PriceList | None) -> str:
    """Where the costs come from, and on which date; or why there are none."""
    if prices is None:
        return "No costs: routing.run's prices (GET /v1/pricing) could not be fetched."
    note = (
        f"Costs (≈) are estimates from routing.run's prices of {prices.fetched_at:%Y-%m-%d} "
        "(GET /v1/pricing); the service's bill is what counts."
    )
    if prices.several_tiers:
        note += f" Several price tiers for {', '.join(sorted(prices.several_tiers))}: "
        note += "the lowest tier's price is used."
    return note


def export(
    session: Session,
    shell: InteractiveShell,
    args: UsageArgs,
    notebook: str | None,
    prices: PriceList | None,
) -> None:
    """`-o NAME`: bind the rows as a pandas DataFrame; `--csv PATH`: write them."""
    from ..ledger.export import to_frame, write_csv

    rows = reports.records(session.ledger, notebook)
    costs = [
        prices.cost(r.model, r.prompt_tokens, r.completion_tokens) if prices else None for r in rows
    ]
    if args.csv:
        path = Path(args.csv).expanduser()
        try:
            write_csv(path, rows, costs, overwrite=args.overwrite)
        except FileExistsError:  # made meanwhile: still not ours to replace
            raise UsageError(_exists(args.csv)) from None
        except OSError as exc:
            raise UsageError(f"--csv {args.csv}: cannot write it ({exc.strerror})") from None
        print(f"Wrote {len(rows):,} usage rows to {path}.")
    if args.out:
        try:
            frame = to_frame(rows, costs)
        except ImportError:
            raise UsageError("-o needs pandas (pip install pandas); --csv PATH does not") from None
        shell.user_ns[args.out] = frame
        print(f"{args.out}: a pandas DataFrame of {len(rows):,} usage rows (cost_usd estimated).")


def _exists(csv: str) -> str:
    return f"--csv {csv}: that file exists; add --overwrite to replace it, or choose another path"
