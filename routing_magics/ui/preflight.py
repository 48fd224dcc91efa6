"""Before a batch sends anything: its estimated cost, said in the cell, and above
`RouteMagics.confirm_above_usd` a yes/no in the frontend's input box (`--yes` skips it).

A frontend with no input box (nbval, `jupyter execute`: IPython raises StdinNotImplementedError)
gets a one-line refusal that says how to go on. An unknown cost (no route priced, or no prices)
asks nothing: it cannot be compared with the threshold, and the line says it is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from IPython.core.error import StdinNotImplementedError

from ..api import errors
from ..api.models import ChatRequest
from ..budget import PRICE_WAIT
from ..display.money import estimate, usd
from ..run.batch.estimate import NOT_CONFIRMED, BatchEstimate, budget_line, estimate_batch
from ..session import Session

Preflight = Callable[[list[ChatRequest]], None]


class NotConfirmed(errors.ConfigurationError):
    """The batch was not sent: the user said no, or could not be asked."""

    default_code = NOT_CONFIRMED


def preflight(
    session: Session, *, yes: bool, confirm_above: float | None, can_ask: bool = True,
    models: Sequence[str] = (),
) -> Preflight:  # fmt: skip
    """What run_batch calls with the requests it is about to send; `models`: every model the
    rows will go to (several side by side), else the requests' own; `can_ask` False (a job's
    thread, which has no input box) refuses where a cell would ask."""

    def check(requests: list[ChatRequest]) -> None:
        named = list(models) or list(dict.fromkeys(request.model for request in requests))
        rows = [request for request in requests if request.model == requests[0].model]
        confirm_cost(session, rows, named, yes=yes, confirm_above=confirm_above, can_ask=can_ask)

    return check


def confirm_cost(
    session: Session, requests: Sequence[ChatRequest], models: Sequence[str], *, yes: bool,
    confirm_above: float | None, can_ask: bool = True,
) -> BatchEstimate:  # fmt: skip
    """Say the estimate (rows × models); raise NotConfirmed unless it may go. The side-by-side
    flow calls this with its several models."""
    session.prices.start()
    found = estimate_batch(requests, models, session.prices.get(PRICE_WAIT))
    print(found.describe())
    spend = session.budget.spent()
    if spend.budget is not None and spend.left is not None:
        print(budget_line(spend.left, spend.budget, found.cost_usd))
    notice = session.budget.unpriced_notice(models)
    if notice:
        print(notice)
    cost = found.cost_usd
    if yes or cost is None or confirm_above is None or cost <= confirm_above:
        return found
    over = (
        f"its estimated cost {estimate(cost)} is above RouteMagics.confirm_above_usd "
        f"({usd(confirm_above)})"
    )
    if not can_ask:
        raise NotConfirmed(f"the batch was not sent: {over}, and a background job cannot ask",
                           hint="add --yes to the cell to send it, or raise the threshold, e.g. "
                           "`%config RouteMagics.confirm_above_usd = 10`")  # fmt: skip
    if not _ask(f"Send {found.requests:,} requests, estimated {estimate(cost)}? [y/N] ", over):
        raise NotConfirmed("the batch was not sent: the answer was no",
                           hint="run the cell again to be asked again, or add --yes")  # fmt: skip
    return found


def _ask(question: str, over: str) -> bool:
    """The user's yes; NotConfirmed where there is no input box to ask in."""
    try:
        answer = input(question)
    except (StdinNotImplementedError, EOFError, OSError):
        raise NotConfirmed(
            f"the batch was not sent: {over}, and this frontend has no input box to ask",
            hint="add --yes to the cell to send it, or raise the threshold, e.g. "
            "`%config RouteMagics.confirm_above_usd = 10`",
        ) from None
    return answer.strip().lower() in ("y", "yes")
