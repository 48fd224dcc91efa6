"""The loop every cell runs: request → answer → (the calls it asks for → their results →) again.

A plain cell is this loop with no tools: one step. Each step is an `Exchange`, streamed into
the cell's one view and recorded as its own ledger row. The loop ends when the model answers
without asking for calls, when a request fails or is stopped, or after `max_steps` requests
(the calls the last one asked for are then not run, and the notice says so). Of one turn's
calls, the first `max_calls` run; each of the others is answered "not run" (every call of a
turn must have its tool message), gets no block, and the notice counts them. The view gets one
footer, with the usage of every step summed.

routing.run pins a conversation holding tool messages to one upstream with no server-side
retries; our client's own bounded retries still apply, and an error says which step failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..api import errors
from ..api.models import ChatRequest, Completion, FrameSent, ToolCall, Usage
from ..display.outcome import footer_info, notice_for, provenance
from .exchange import Exchange, OnStream
from .options import DEFAULT_MAX_TOOL_CALLS
from .rates import note_send
from .record import Recorder
from .secrets import Redactor, redaction_notice
from .spend import footer_extras, start_lookups
from .structured import StructuredUse, Verdict, canonical_text, check, mismatch, repair_messages
from .toolbox import Confirm, Toolbox, ToolCallRecord, assistant_message, refused, tool_message

if TYPE_CHECKING:
    from ..display.protocols import View
    from ..ledger import CachedAnswer
    from ..session import Session

DEFAULT_MAX_STEPS = 5


@dataclass
class ToolRun(Completion):
    """A tool loop's result: the answer, `.tool_calls` (ToolCallRecord, in order), `.steps`."""

    steps: int = 0


@dataclass(frozen=True)
class ToolUse:
    """The functions a model may call in one cell, and how far it may go."""

    toolbox: Toolbox
    max_steps: int = DEFAULT_MAX_STEPS
    confirm: Confirm | None = None
    max_calls: int = DEFAULT_MAX_TOOL_CALLS  # run from one model turn; the rest are refused


@dataclass
class Conversation:
    """One cell's exchanges with the model, drawn on one view and written by one recorder."""

    session: Session
    request: ChatRequest  # the first step's; later steps add the calls and their results
    view: View
    tools: ToolUse | None = None
    on_stream: OnStream | None = None
    max_tokens: int | None = None
    structured: StructuredUse | None = None
    steps: list[Completion] = field(default_factory=list)
    records: list[ToolCallRecord] = field(default_factory=list)
    frames: list[FrameSent] = field(default_factory=list)  # the prompt's, for footer and -o

    def __post_init__(self) -> None:
        self.recorder = Recorder(self.session)
        self.messages: list[dict[str, Any]] = list(self.request.messages)
        self.data: Any = None  # the validated object of a structured answer
        self.redacted: Counter[str] = Counter(self.request.redacted)  # tool results add theirs
        self.over_bound: list[int] = []  # calls asked for by each turn that asked too many

    def run(self, *, cached: CachedAnswer | None = None, cache_as: str | None = None) -> Completion:
        """Every step, then the footer; raises the failure (after the footer) if there was one.

        `cached`: the answer the cache holds for this request (no request is sent);
        `cache_as`: the key to keep a finished one-step answer under."""
        start_lookups(self.session)
        if cached is not None:
            exchange = Exchange(self.request)
            self._take(exchange, exchange.replay(cached, self.view), None)
            failure, notice = None, None
            if self.structured is not None:
                self.data = check(self.structured, self.steps[-1]).data
        elif self.structured is not None:
            failure, notice = self._ask_structured(self.structured, cache_as)
        else:
            failure, notice = self._drive(cache_as)
        done = replace(self._result(), frames=list(self.frames))
        self._finish(done, failure, notice, "cached" if cached else errors.outcome_of(failure))
        if failure is not None:
            raise failure
        return done

    def _drive(self, cache_as: str | None) -> tuple[errors.RoutingError | None, str | None]:
        """Steps until an answer, a failure or the bound; (the failure, a notice for the bound)."""
        try:
            while True:
                done, failure = self._step(cache_as if self.tools is None else None)
                if failure is not None or not done.tool_calls or self.tools is None:
                    return failure, None
                if len(self.steps) >= self.tools.max_steps:
                    return None, _bound_notice(self.tools.max_steps, done.tool_calls)
                self._run_calls(done, self.tools)
        except KeyboardInterrupt:  # inside a tool, or while --confirm asked
            return errors.Stopped("stopped by the user while a tool ran"), None
        except errors.RoutingError as exc:  # --confirm with no input box
            return exc, None

    def _ask_structured(
        self, use: StructuredUse, cache_as: str | None
    ) -> tuple[errors.RoutingError | None, str | None]:
        """Ask, check, and repair up to `use.repairs` times; (the failure, a repair notice)."""
        verdict = Verdict()
        for turn in range(use.repairs + 1):
            done, failure = self._step(None)
            if failure is not None:
                return failure, None
            verdict = check(use, done)
            if verdict.ok:
                self.data = verdict.data
                if cache_as is not None:
                    self.recorder.keep(cache_as, done, canonical_text(verdict.raw))
                return None, _repair_notice(turn) if turn else None
            if turn < use.repairs:
                self.messages += repair_messages(use, done, verdict)
        return mismatch(use, verdict), None

    def _step(self, cache_as: str | None) -> tuple[Completion, errors.RoutingError | None]:
        """One request, streamed into the view and recorded whatever happens."""
        request = replace(self.request, messages=list(self.messages), redacted=dict(self.redacted))
        if self.tools is not None:
            offered = {**request.params, "tools": self.tools.toolbox.schemas}
            request = replace(request, params=offered)
        exchange = Exchange(request)
        done = exchange.send(self.session.client, self.view, self.on_stream, self._gate)
        self._take(exchange, done, cache_as)
        failure = exchange.failure
        if failure is not None and self.tools is not None:
            failure.message = f"step {len(self.steps)} of the tool loop: {failure.message}"
        return done, failure

    def _gate(self, model: str) -> None:
        """The budget's check before a send; once it lets the request go, it is counted (the
        footer's caps, and batches of this key in any kernel, in their minute)."""
        self.session.budget.check(model)
        note_send(self.session)

    def _take(self, exchange: Exchange, done: Completion, cache_as: str | None) -> None:
        self.steps.append(done)
        self.recorder.exchange(exchange, done, cache_as=cache_as)

    def _run_calls(self, done: Completion, tools: ToolUse) -> None:
        """Run the calls of the last step in order; their results join the conversation."""
        step = len(self.steps)
        calls = [
            ToolCall(c.id or f"call_{step}_{i}", c.name, c.arguments)
            for i, c in enumerate(done.tool_calls)
        ]
        self.messages.append(assistant_message(done.text, calls))
        redactor = Redactor.of(self.session.settings)  # a tool may return the key, too

        def clean(text: str) -> str:
            return redactor.text(text, self.redacted)

        for call in calls[: tools.max_calls]:
            record = tools.toolbox.run(call, step=step, index=len(self.records), view=self.view,
                                       confirm=tools.confirm, clean=clean)  # fmt: skip
            self._answer(record)
        if len(calls) > tools.max_calls:  # each refused call is answered: the protocol wants it
            self.over_bound.append(len(calls))
            for call in calls[tools.max_calls :]:
                self._answer(refused(call, step=step, asked=len(calls), bound=tools.max_calls))

    def _answer(self, record: ToolCallRecord) -> None:
        """A call's outcome into the record and, as a tool message, into the conversation."""
        self.records.append(record)
        self.messages.append(tool_message(record))

    def _result(self) -> Completion:
        """One step as it is; several added up: texts joined, usage and latency summed."""
        if self.tools is None and len(self.steps) == 1:
            return replace(self.steps[-1], data=self.data)
        steps, last = self.steps, self.steps[-1]
        usage = Usage(
            sum(s.usage.prompt_tokens for s in steps),
            sum(s.usage.completion_tokens for s in steps),
            sum(s.usage.total_tokens for s in steps),
            estimated=any(s.usage.estimated for s in steps),
        )
        kind = ToolRun if self.tools is not None else _Repaired
        return kind(
            text="\n\n".join(s.text for s in steps if s.text.strip()),
            reasoning="\n\n".join(s.reasoning for s in steps if s.reasoning.strip()),
            model=last.model, provider=last.provider, finish_reason=last.finish_reason,
            usage=usage, latency_ms=sum(s.latency_ms or 0 for s in steps),
            endpoint=last.endpoint, tool_calls=list(self.records) or last.tool_calls,
            request=last.request, data=self.data, steps=len(steps),
        )  # fmt: skip

    def _finish(
        self, done: Completion, failure: errors.RoutingError | None, notice: str | None,
        outcome: str,
    ) -> None:  # fmt: skip
        """The footer and notice under the answer (always, even when the ledger failed)."""
        total = self.recorder.notebook_total()
        cost, warning = footer_extras(self.session, done)
        footer = footer_info(done, outcome=outcome, notebook_total=total,
                             offline=self.session.offline, cost=cost, warning=warning)  # fmt: skip
        if self.tools is not None:
            footer = replace(footer, steps=len(self.steps))
        if failure is None:  # a failed answer gets none: each shell shows its error itself
            primary = self.session.client.base_url
            notice = notice or notice_for(done, max_tokens=self.max_tokens, primary=primary)
        unpriced = self.session.budget.unpriced_notice([self.request.model])
        said = (  # what happened on the way is said even when the last request failed
            notice, self._over_bound_notice(), redaction_notice(self.redacted),
            self.recorder.trouble, unpriced,
        )  # fmt: skip
        notice = " ".join(n for n in said if n) or None
        self.view.finish(footer, notice=notice, metadata=provenance(done))

    def _over_bound_notice(self) -> str | None:
        """Turns that asked for more calls than run in one turn, said in one line."""
        if not self.over_bound or self.tools is None:
            return None
        bound = self.tools.max_calls
        setting = f"at most {bound} a turn; %config RouteMagics.max_tool_calls sets it"
        if len(self.over_bound) == 1:
            asked = self.over_bound[0]
            return (f"The model asked for {asked:,} tool calls in one turn: the first {bound} "
                    f"ran, the other {asked - bound:,} did not ({setting}).")  # fmt: skip
        not_run = sum(asked - bound for asked in self.over_bound)
        return (f"The model asked for more than {bound} tool calls in each of "
                f"{len(self.over_bound)} turns: {not_run:,} did not run ({setting}).")  # fmt: skip


@dataclass
class _Repaired(Completion):
    """A structured answer that took repair turns: `.steps` requests, usage summed."""

    steps: int = 0


def _repair_notice(turns: int) -> str:
    said = f"{turns} repair turn" + ("" if turns == 1 else "s")
    return f"The first answer did not match the schema; {said} fixed it."


def _bound_notice(max_steps: int, calls: list[ToolCall]) -> str:
    names = ", ".join(dict.fromkeys(c.name for c in calls))
    steps = f"{max_steps} step" + ("" if max_steps == 1 else "s")
    return (
        f"Stopped after {steps} (--max-steps {max_steps}): the model still asked "
        f"for {names}, which did not run. Raise --max-steps to let it go on."
    )
