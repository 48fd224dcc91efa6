"""One request, one answer: the exchange every flow sends through.

A single cell, each step of a tool loop, each row of a batch and each answer from the cache is
an `Exchange`: it takes a `ChatRequest`, sends it through a client (the session's, or a batch's
pooled one), adds the events up once (its `AnswerDraft`, whose builder the stream fills
directly), and when it ends settles the usage the service did not report by one rule
(`settled_usage`) and gives its ledger row (`record.usage_row`). Writing that row is the
caller's `Recorder`'s job, so a batch's worker threads send while its main thread writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..api import errors
from ..api.models import (
    ChatRequest,
    Completion,
    ContentDelta,
    Event,
    Finish,
    ReasoningDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from ..prompt.prepare import estimate_tokens
from .draft import AnswerDraft

if TYPE_CHECKING:
    from ..api.client import RoutingClient
    from ..api.stream import ChatStream
    from ..display.protocols import View
    from ..ledger import CachedAnswer

OnStream = Callable[["ChatStream"], None]
#: Called with the model before a request is sent; raises a RoutingError to refuse it unsent
#: (the session's budget: `Session.budget.check`).
Gate = Callable[[str], None]


class Exchange:
    """One request and its answer; `failure` is how it ended when it did not end well."""

    def __init__(self, request: ChatRequest) -> None:
        self.request = request
        self.draft = AnswerDraft(request.model, streamed=request.stream)
        self.draft.builder.request = request
        self.failure: errors.RoutingError | None = None
        self.cached = False
        self.unsent = False  # refused by the gate: nothing was sent, nothing is written

    @property
    def outcome(self) -> str:
        """The ledger's word for it: "ok", "cached", "stopped" or an error code."""
        return "cached" if self.cached else errors.outcome_of(self.failure)

    def send(
        self, client: RoutingClient, view: View | None = None, on_stream: OnStream | None = None,
        gate: Gate | None = None,
    ) -> Completion:  # fmt: skip
        """Send and (if given) draw on `view`; never raises: an error, Ctrl-C or a bug of ours
        ends the exchange as its `failure`, with the partial answer kept. `gate` may refuse
        the request first: then it ends `unsent`."""
        try:
            if gate is not None:
                gate(self.request.model)
        except (Exception, KeyboardInterrupt) as exc:  # refused, stopped, or a bug of ours in
            self.failure, self.unsent = _as_failure(exc), True  # the gate: nothing is sent
            return self.completion()
        try:
            self._draw(self._events(client, on_stream), view)
        except KeyboardInterrupt:
            self.failure = errors.Stopped("stopped by the user", partial_text=self.draft.text)
        except errors.RoutingError as exc:
            self.failure = exc
        except Exception as exc:  # a bug of ours: the answer so far and its row stay whole
            self.failure = _as_failure(exc)
        return self.completion()

    def replay(self, cached: CachedAnswer, view: View | None = None) -> Completion:
        """A cached answer told as the events a stream of it would have sent (bills nothing)."""
        self.cached, self.draft.streamed = True, False
        done = Completion(cached.text, cached.reasoning, cached.model, cached.provider,
                          cached.finish_reason)  # fmt: skip
        self._draw(as_events(done), view)
        return self.completion()

    def completion(self) -> Completion:
        """The answer so far, its usage settled and its request attached."""
        done = self.draft.completion()
        usage = settled_usage(self.draft, self.request, self.failure, cached=self.cached)
        return replace(done, usage=usage, request=self.request)

    def _events(self, client: RoutingClient, on_stream: OnStream | None) -> Iterator[Event]:
        request = self.request
        if not request.stream:
            whole = client.complete(request.model, request.messages, **request.params)
            yield from as_events(whole)
            return
        builder = self.draft.builder
        with client.stream(request.model, request.messages, answer=builder,
                           **request.params) as stream:  # fmt: skip
            if on_stream is not None:
                on_stream(stream)
            for event in stream:
                if isinstance(event, Finish):
                    builder.add(event)  # the stream adds deltas itself; the end is ours to note
                yield event

    def _draw(self, events: Iterator[Event], view: View | None) -> None:
        """Each event into the draft, then, if it shows, onto the view."""
        streamed = self.request.stream and not self.cached  # the stream filled the builder
        try:
            for event in events:
                if streamed:
                    self.draft.note(event)
                else:
                    self.draft.add(event)
                if view is None:
                    continue
                if isinstance(event, ReasoningDelta):
                    view.reasoning(event.text, self.draft)
                elif isinstance(event, ContentDelta):
                    view.content(event.text, self.draft)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # a generator's close runs the stream's `with`: the response closes


def _as_failure(exc: BaseException) -> errors.RoutingError:
    """A RoutingError as it is, Ctrl-C as Stopped; anything else is a bug of ours, in one line."""
    if isinstance(exc, errors.RoutingError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return errors.Stopped("stopped by the user")
    return errors.RoutingError(f"internal error: {type(exc).__name__}: {exc}")


def as_events(done: Completion) -> Iterator[Event]:
    """A whole answer as the events a stream of it would have sent."""
    if done.reasoning:
        yield ReasoningDelta(done.reasoning)
    if done.text:
        yield ContentDelta(done.text)
    for index, call in enumerate(done.tool_calls):
        yield ToolCallDelta(index, call.id, call.name, call.arguments)
    yield UsageReport(done.usage)
    yield Finish(done.finish_reason, done.model, done.provider, done.latency_ms, done.endpoint)


def check_sendable(messages: list[dict[str, Any]]) -> None:
    """ConfigurationError, before anything is sent, for text no request can carry: a lone
    surrogate (text read with `surrogateescape`, or cut mid-character) is not UTF-8."""
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            try:
                content.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = f"U+{ord(exc.object[exc.start]):04X}"
                raise errors.ConfigurationError(
                    f"the prompt holds {bad} at character {exc.start:,}, which is not valid text",
                    hint="decode the data as UTF-8 (errors='replace') before sending it",
                ) from None


def settled_usage(
    draft: AnswerDraft, request: ChatRequest, failure: errors.RoutingError | None, *, cached: bool
) -> Usage:
    """The one rule for usage: what the service reported; nothing for a cached answer or a
    request refused before any answer; else our estimate (a stream cut before its usage)."""
    if cached:
        return Usage()
    if draft.builder.usage is not None:
        return draft.builder.usage
    refused = failure is not None and not isinstance(failure, errors.Stopped)
    if refused and draft.deltas == 0 and not draft.builder.tool_calls():
        return Usage()
    prompt = sum(estimate_tokens(str(m.get("content") or "")) for m in request.messages)
    answer = draft.answer_tokens
    return Usage(prompt, answer, prompt + answer, estimated=True)
