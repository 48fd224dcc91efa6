"""One prompt, one answer: prompt → stream → view → ledger row.

`%%route` (ui/magics.py) and the panel (ui/panel.py) each build a `RunOptions` and a view, then
call `run_prompt`. Everything between the cell text and the ledger row happens here, top to
bottom, and the answer being built has one owner: the `AnswerDraft` this flow keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..api import errors
from ..api.models import (
    Completion,
    ContentDelta,
    Event,
    Finish,
    ReasoningDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from ..display.outcome import footer_info, notice_for, provenance
from ..prompt.prepare import PreparedPrompt, estimate_tokens, prepare_prompt
from ..session import Session
from .cached import cached_answer, store_answer
from .draft import AnswerDraft
from .options import RunOptions
from .spend import footer_extras, start_lookups

if TYPE_CHECKING:
    from ..api.stream import ChatStream
    from ..display.protocols import View
    from ..ledger import CachedAnswer


def run_prompt(
    session: Session,
    template: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    view: View,
    *,
    on_stream: Callable[[ChatStream], None] | None = None,
) -> Completion:
    """Send one prompt, stream it into `view`, record the ledger row; raise RoutingError on failure.

    Once the request starts, whatever happens, the view is finished with the partial text kept,
    a ledger row is written, and Ctrl-C surfaces as `errors.Stopped` rather than KeyboardInterrupt.
    """
    model = session.check_model(options.model)
    prepared = _prepare(session, template, options, namespace, model)
    if options.cache:
        hit = cached_answer(session, model, prepared.messages, _request_args(options))
        if hit is not None:
            return _from_cache(session, view, hit, prepared, options)
    draft = AnswerDraft(model, streamed=options.stream)
    failure: errors.RoutingError | None = None
    try:
        _consume(_events(session, model, prepared, options, on_stream), view, draft)
    except KeyboardInterrupt:
        failure = errors.Stopped("stopped by the user", partial_text=draft.text)
    except errors.RoutingError as exc:
        failure = exc
    except Exception:  # a bug of ours: leave the view and the ledger whole, then surface it
        _finish(session, view, draft, prepared, options, errors.RoutingError("internal error"))
        raise
    completion = _finish(session, view, draft, prepared, options, failure)
    if failure is not None:
        raise failure
    if options.cache:
        store_answer(session, model, prepared.messages, _request_args(options), completion)
    if options.chat:
        session.memory.add(prepared.user_text, completion.text)
    return completion


def _from_cache(
    session: Session, view: View, hit: CachedAnswer, prepared: PreparedPrompt, options: RunOptions
) -> Completion:
    """A cached answer, shown at once; its ledger row bills nothing."""
    draft = AnswerDraft(hit.model, streamed=False)
    done = Completion(hit.text, hit.reasoning, hit.model, hit.provider, hit.finish_reason)
    _consume(_as_events(done), view, draft)
    completion = _finish(session, view, draft, prepared, options, None, cached=True)
    if options.chat:
        session.memory.add(prepared.user_text, completion.text)
    return completion


def _finish(
    session: Session,
    view: View,
    draft: AnswerDraft,
    prepared: PreparedPrompt,
    options: RunOptions,
    failure: errors.RoutingError | None,
    *,
    cached: bool = False,
) -> Completion:
    """Write the ledger row and close the view (always, even if the ledger fails)."""
    completion = draft.completion()
    if draft.builder.usage is None:
        completion = replace(completion, usage=_usage_unreported(prepared, draft, failure))
    outcome = "cached" if cached else errors.outcome_of(failure)
    total: int | None = None
    unrecorded: str | None = None
    try:
        total, unrecorded = _record(session, completion, draft, outcome)
    finally:
        cost, warning = footer_extras(session, completion)
        footer = footer_info(
            completion, outcome=outcome, notebook_total=total, offline=session.offline,
            cost=cost, warning=warning,
        )  # fmt: skip
        # A failed answer gets no notice: each shell shows its error itself.
        notice = None if failure else _notice(session, completion, options)
        notice = " ".join(n for n in (notice, unrecorded) if n) or None
        view.finish(footer, notice=notice, metadata=provenance(completion))
    return completion


def _notice(session: Session, done: Completion, options: RunOptions) -> str | None:
    return notice_for(done, max_tokens=options.max_tokens, primary=session.client.base_url)


def _prepare(
    session: Session,
    template: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    model: str,
) -> PreparedPrompt:
    return prepare_prompt(
        template,
        namespace,
        df_name=options.df,
        rows=options.rows,
        context_tokens=session.catalog.context_of(model),
        max_tokens=options.max_tokens,
        system=options.system,
        history=session.memory.messages() if options.chat else (),
        notebook=options.notebook,
    )


def request_args(options: RunOptions) -> dict[str, Any]:
    """The request parameters a cell's options set (a batch sends the same for every row)."""
    return _request_args(options)


def _request_args(options: RunOptions) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if options.temperature is not None:
        args["temperature"] = options.temperature
    if options.max_tokens is not None:
        args["max_tokens"] = options.max_tokens
    return args


def _events(
    session: Session,
    model: str,
    prepared: PreparedPrompt,
    options: RunOptions,
    on_stream: Callable[[ChatStream], None] | None,
) -> Iterator[Event]:
    """The answer as events: a live stream, or (`--no-stream`) one reply told as events."""
    start_lookups(session)  # prices, alongside the request (once per session)
    session.note_request()
    if options.stream:
        with session.client.stream(model, prepared.messages, **_request_args(options)) as stream:
            if on_stream is not None:
                on_stream(stream)
            yield from stream
        return
    done = session.client.complete(model, prepared.messages, **_request_args(options))
    yield from _as_events(done)


def _as_events(done: Completion) -> Iterator[Event]:
    """A whole answer as the events a stream of it would have sent."""
    if done.reasoning:
        yield ReasoningDelta(done.reasoning)
    if done.text:
        yield ContentDelta(done.text)
    for index, call in enumerate(done.tool_calls):
        yield ToolCallDelta(index, call.id, call.name, call.arguments)
    yield UsageReport(done.usage)
    yield Finish(done.finish_reason, done.model, done.provider, done.latency_ms, done.endpoint)


def _consume(events: Iterator[Event], view: View, draft: AnswerDraft) -> None:
    """Each event into the draft, then, if it shows, onto the view."""
    try:
        for event in events:
            draft.add(event)
            if isinstance(event, ReasoningDelta):
                view.reasoning(event.text, draft)
            elif isinstance(event, ContentDelta):
                view.content(event.text, draft)
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # a generator's close runs the stream's `with`: the response always closes


def _usage_unreported(
    prepared: PreparedPrompt, draft: AnswerDraft, failure: errors.RoutingError | None
) -> Usage:
    """Usage the server never reported: none for a request refused before any answer, else
    estimated by us (a stream cut before its usage chunk)."""
    refused = failure is not None and not isinstance(failure, errors.Stopped)
    if refused and draft.deltas == 0:
        return Usage()
    prompt = sum(estimate_tokens(m["content"]) for m in prepared.messages)
    return Usage(prompt, draft.deltas, prompt + draft.deltas, estimated=True)


def _record(
    session: Session, done: Completion, draft: AnswerDraft, outcome: str
) -> tuple[int | None, str | None]:
    """Write the ledger row; returns this notebook's running total of tokens, or, when the
    ledger cannot be used, None and the line that says so (once per session and reason)."""
    from ..config import public_url
    from ..ledger import LedgerUnavailable, UsageRow

    row = UsageRow(
        notebook=session.notebook,
        model=done.model,
        endpoint=public_url(
            done.endpoint or ("emulator" if session.offline else session.settings.base_url)
        ),
        provider=done.provider,
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=done.usage.completion_tokens,
        total_tokens=done.usage.total_tokens,
        estimated=done.usage.estimated,
        ttft_ms=draft.ttft_ms,
        latency_ms=done.latency_ms,
        outcome=outcome,
    )
    try:  # the answer is the product; the ledger only serves it
        ledger = session.ledger
        ledger.record(row)
        return ledger.notebook_total(session.notebook).total_tokens, None
    except LedgerUnavailable as exc:
        return None, session.ledger_trouble(exc)
