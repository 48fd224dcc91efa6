"""One cell: prompt → request → conversation (with or without tools) → answer.

`%%route` (ui/magics.py) and the panel (ui/panel.py) each build a `RunOptions` and a view, then
call `run_prompt`; `--tools` passes a `ToolUse`, and `dry_run` stops before sending. Everything
after the request is built happens in run/conversation.py, over run/exchange.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..api.models import ChatRequest, Completion, FrameSent
from ..prompt.prepare import PreparedPrompt, estimate_tokens, prepare_prompt
from ..session import Session
from .conversation import Conversation, ToolUse
from .exchange import check_sendable
from .options import RunOptions
from .record import cache_key
from .secrets import redact
from .structured import ask_with, check

if TYPE_CHECKING:
    from ..api.pricing import PriceList
    from ..display.protocols import View
    from .exchange import OnStream


def run_prompt(
    session: Session,
    template: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    view: View,
    *,
    on_stream: OnStream | None = None,
    tools: ToolUse | None = None,
) -> Completion:
    """Send one prompt, stream it into `view`, record the ledger row; raise RoutingError on failure.

    Once the request starts, whatever happens, the view is finished with the partial text kept,
    a ledger row is written, and Ctrl-C surfaces as `errors.Stopped` rather than KeyboardInterrupt.
    """
    options = for_route(session, options)
    request, prepared = build_request(session, template, options, namespace)
    frames = frames_sent(prepared, options.rows)
    conversation = Conversation(session, request, view, tools, on_stream, options.max_tokens,
                                options.schema, frames=frames)  # fmt: skip
    key = _cache_key(session, request, options) if options.cache and tools is None else None
    hit = conversation.recorder.cached_answers([key]).get(key) if key else None
    if hit is not None and options.schema is not None:  # validated again before it is served
        hit = hit if check(options.schema, Completion(text=hit.text)).ok else None
    if hit is None:  # refused now, before an empty answer is drawn (each send checks again)
        session.budget.check(request.model)
    done = conversation.run(cached=hit, cache_as=key)
    if options.chat:
        session.memory.add(prepared.user_text, done.text)
    return done


def frames_sent(prepared: PreparedPrompt, rows: int) -> list[FrameSent]:
    """The prompt's frames, each with why rows were left out (the --rows cap or the context)."""
    return [
        FrameSent(f.name, f.rows_shown, f.rows_total, _cut_by(f.rows_shown, f.rows_total, rows))
        for f in prepared.frames
    ]


def _cut_by(shown: int, total: int, rows: int) -> str | None:
    if shown >= total:
        return None
    return "--rows" if shown == rows else "context"


@dataclass(frozen=True)
class DryRun:
    """What a cell would send, and what it would cost, without sending it (`--dry-run`)."""

    request: ChatRequest
    prompt_tokens: int  # estimated
    cost_usd: float | None  # of the prompt alone, where prices are known


def dry_run(
    session: Session, template: str, options: RunOptions, namespace: Mapping[str, object]
) -> DryRun:
    """The exact request a cell would send, with its estimated prompt tokens and their cost."""
    request, _ = build_request(session, template, for_route(session, options), namespace)
    tokens = sum(estimate_tokens(str(m.get("content") or "")) for m in request.messages)
    prices = _prices(session)
    cost = prices.cost(request.model, tokens, 0) if prices is not None else None
    return DryRun(request, tokens, cost)


def build_request(
    session: Session, template: str, options: RunOptions, namespace: Mapping[str, object]
) -> tuple[ChatRequest, PreparedPrompt]:
    """The request a cell (or a batch's row) sends, no credential in it; configuration errors and
    text no request can carry raise here, before anything is sent."""
    model = session.check_model(options.model)
    prepared = prepare_prompt(
        template, namespace, df_name=options.df, rows=options.rows,
        context_tokens=session.catalog.context_of(model), max_tokens=options.max_tokens,
        system=options.system, history=session.memory.messages() if options.chat else (),
        notebook=options.notebook,
    )  # fmt: skip
    check_sendable(prepared.messages)
    request = ChatRequest(model, prepared.messages, request_args(options), stream=options.stream)
    if options.schema is not None:
        request = ask_with(request, options.schema)
    return redact(session.settings, request), prepared


def for_route(session: Session, options: RunOptions) -> RunOptions:
    """The options with `--schema`'s way of asking settled for the cell's route."""
    if options.schema is None:
        return options
    takes_tools = session.catalog.takes_tools(session.check_model(options.model))
    return replace(options, schema=options.schema.for_route(takes_tools))


def _cache_key(session: Session, request: ChatRequest, options: RunOptions) -> str:
    fmt = options.schema.cache_format() if options.schema is not None else "markdown"
    return cache_key(session, request, fmt)


def request_args(options: RunOptions) -> dict[str, Any]:
    """The request parameters a cell's options set (a batch sends the same for every row)."""
    args: dict[str, Any] = {}
    if options.temperature is not None:
        args["temperature"] = options.temperature
    if options.max_tokens is not None:
        args["max_tokens"] = options.max_tokens
    return args


def _prices(session: Session) -> PriceList | None:
    """Prices already known to this session: a dry run sends nothing, not even GET /pricing."""
    return session.prices.value
