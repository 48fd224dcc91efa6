"""The one flow both shells share: prompt → stream → live view → ledger row.

`%%route` (magics.py) and the panel (panel.py) each build a `RunOptions` and a view, then call
`run_prompt`. Everything between the cell text and the ledger row happens here, top to bottom.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from . import errors
from .events import (
    Completion,
    ContentDelta,
    Event,
    Finish,
    ReasoningDelta,
    Usage,
    UsageReport,
)
from .outcome import footer_info, notice_for, provenance
from .prompt import PreparedPrompt, estimate_tokens, prepare_prompt
from .session import Session

if TYPE_CHECKING:
    from .client import ChatStream
    from .render import FooterInfo


class View(Protocol):
    """What run_prompt draws on: live.LiveView in a notebook, live.TextView in a terminal."""

    def reasoning(self, text: str) -> None: ...
    def content(self, text: str) -> None: ...
    def finish(
        self,
        footer: FooterInfo,
        *,
        notice: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class RunOptions:
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    df: str | None = None
    rows: int = 50
    chat: bool = False
    stream: bool = True


@dataclass
class _Progress:
    """What arrived so far: the partial answer, timings, usage, and how it ended."""

    started: float
    first_token: float | None = None
    deltas: int = 0
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    usage: Usage | None = None
    finish: Finish | None = None

    def saw(self, parts: list[str], text: str) -> None:
        parts.append(text)
        self.deltas += 1
        if self.first_token is None:
            self.first_token = time.monotonic()

    def completion(self, model: str) -> Completion:
        fin = self.finish or Finish(None, model)
        latency = fin.latency_ms
        if latency is None:
            latency = int((time.monotonic() - self.started) * 1000)
        return Completion(
            text="".join(self.text),
            reasoning="".join(self.reasoning),
            model=fin.model or model,
            provider=fin.provider,
            finish_reason=fin.reason,
            usage=self.usage or Usage(),
            latency_ms=latency,
            endpoint=fin.endpoint,
        )


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
    progress = _Progress(started=time.monotonic())
    failure: errors.RoutingError | None = None
    try:
        _consume(_events(session, model, prepared, options, on_stream), view, progress)
    except KeyboardInterrupt:
        failure = errors.Stopped("stopped by the user", partial_text="".join(progress.text))
    except errors.RoutingError as exc:
        failure = exc
    except Exception:  # a bug of ours: leave the view and the ledger whole, then surface it
        internal = errors.RoutingError("internal error")
        _finish(session, view, progress, prepared, options, model, internal)
        raise
    completion = _finish(session, view, progress, prepared, options, model, failure)
    if failure is not None:
        raise failure
    if options.chat:
        session.memory.add(prepared.user_text, completion.text)
    return completion


def _finish(
    session: Session,
    view: View,
    progress: _Progress,
    prepared: PreparedPrompt,
    options: RunOptions,
    model: str,
    failure: errors.RoutingError | None,
) -> Completion:
    """Write the ledger row and close the view (always, even if the ledger fails)."""
    completion = progress.completion(model)
    if progress.usage is None:
        completion = replace(completion, usage=_usage_unreported(prepared, progress, failure))
    total: int | None = None
    try:
        total = _record(session, completion, progress, failure)
    finally:
        view.finish(
            footer_info(session, completion, total, failure),
            notice=notice_for(completion, options, failure, session.client.base_url),
            metadata=provenance(completion),
        )
    return completion


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
    )


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
    """The answer as events: a live stream, or (`--no-stream`) one reply replayed as events."""
    if options.stream:
        with session.client.stream(model, prepared.messages, **_request_args(options)) as stream:
            if on_stream is not None:
                on_stream(stream)
            yield from stream
        return
    done = session.client.complete(model, prepared.messages, **_request_args(options))
    if done.reasoning:
        yield ReasoningDelta(done.reasoning)
    if done.text:
        yield ContentDelta(done.text)
    yield UsageReport(done.usage)
    yield Finish(done.finish_reason, done.model, done.provider, done.latency_ms, done.endpoint)


def _consume(events: Iterator[Event], view: View, progress: _Progress) -> None:
    try:
        for event in events:
            if isinstance(event, ReasoningDelta):
                progress.saw(progress.reasoning, event.text)
                view.reasoning(event.text)
            elif isinstance(event, ContentDelta):
                progress.saw(progress.text, event.text)
                view.content(event.text)
            elif isinstance(event, UsageReport):
                progress.usage = event.usage
            elif isinstance(event, Finish):
                progress.finish = event
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # a generator's close runs the stream's `with`: the response always closes


def _usage_unreported(
    prepared: PreparedPrompt, progress: _Progress, failure: errors.RoutingError | None
) -> Usage:
    """Usage the server never reported: none for a request refused before any answer, else
    estimated by us (a stream cut before its usage chunk)."""
    refused = failure is not None and not isinstance(failure, errors.Stopped)
    if refused and progress.deltas == 0:
        return Usage()
    prompt = sum(estimate_tokens(m["content"]) for m in prepared.messages)
    return Usage(prompt, progress.deltas, prompt + progress.deltas, estimated=True)


def _record(
    session: Session,
    done: Completion,
    progress: _Progress,
    failure: errors.RoutingError | None,
) -> int:
    """Write the ledger row; returns this notebook's running total of tokens."""
    from .ledger import UsageRow

    ttft = progress.first_token
    row = UsageRow(
        notebook=session.notebook,
        model=done.model,
        endpoint=done.endpoint or ("emulator" if session.offline else session.settings.base_url),
        provider=done.provider,
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=done.usage.completion_tokens,
        total_tokens=done.usage.total_tokens,
        estimated=done.usage.estimated,
        ttft_ms=None if ttft is None else int((ttft - progress.started) * 1000),
        latency_ms=done.latency_ms,
        outcome="ok"
        if failure is None
        else ("stopped" if isinstance(failure, errors.Stopped) else failure.code),
    )
    ledger = session.ledger
    ledger.record(row)
    return ledger.notebook_total(session.notebook).total_tokens
