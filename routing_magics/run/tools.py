"""The tool loop (`--tools`): request → calls → run them in the kernel → results → continue.

Each request is a step, streamed into the same view as a plain answer and written to the ledger
as its own row. The loop ends when the model answers without asking for calls, when a request
fails or is stopped, or after `max_steps` requests (the calls the last one asked for are then
not run, and the notice says so). The view gets one footer, with the usage of every step summed.

routing.run pins a conversation holding tool messages to one upstream with no server-side
retries; our client's own bounded retries still apply, and an error says which step failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..api import errors
from ..api.models import Completion, Event, ToolCall, Usage
from ..display.outcome import footer_info, provenance
from ..prompt.prepare import estimate_tokens
from ..session import Session
from .draft import AnswerDraft
from .options import RunOptions
from .single import _as_events, _consume, _notice, _prepare, _record, _request_args
from .spend import footer_extras, start_lookups
from .toolbox import Confirm, Toolbox, ToolCallRecord, assistant_message, tool_message

if TYPE_CHECKING:
    from ..api.stream import ChatStream
    from ..display.protocols import View

DEFAULT_MAX_STEPS = 5


@dataclass
class ToolRun(Completion):
    """A tool loop's result: the answer, `.tool_calls` (ToolCallRecord, in order), `.steps`."""

    steps: int = 0


@dataclass
class _Loop:
    session: Session
    model: str
    options: RunOptions
    view: View
    toolbox: Toolbox
    max_steps: int
    confirm: Confirm | None
    on_stream: Callable[[ChatStream], None] | None
    messages: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Completion] = field(default_factory=list)
    records: list[ToolCallRecord] = field(default_factory=list)
    total: int | None = None
    unrecorded: str | None = None  # the broken ledger's one line, said once

    def step(self) -> tuple[Completion, errors.RoutingError | None]:
        """One request, streamed into the view; its ledger row written whatever happens."""
        draft = AnswerDraft(self.model, streamed=self.options.stream)
        failure: errors.RoutingError | None = None
        self.session.note_request()
        try:
            _consume(self._events(), self.view, draft)
        except KeyboardInterrupt:
            failure = errors.Stopped("stopped by the user", partial_text=draft.text)
        except errors.RoutingError as exc:
            failure = exc
        done = draft.completion()
        if draft.builder.usage is None:
            done = replace(done, usage=self._unreported(draft, failure))
        self.steps.append(done)
        self.total, unrecorded = _record(self.session, done, draft, errors.outcome_of(failure))
        self.unrecorded = self.unrecorded or unrecorded
        if failure is not None:
            failure.message = f"step {len(self.steps)} of the tool loop: {failure.message}"
        return done, failure

    def _events(self) -> Iterator[Event]:
        args = {**_request_args(self.options), "tools": self.toolbox.schemas}
        client = self.session.client
        if not self.options.stream:
            yield from _as_events(client.complete(self.model, self.messages, **args))
            return
        with client.stream(self.model, self.messages, **args) as stream:
            if self.on_stream is not None:
                self.on_stream(stream)
            yield from stream

    def _unreported(self, draft: AnswerDraft, failure: errors.RoutingError | None) -> Usage:
        """Usage the server never reported: none if refused at once, else our estimate."""
        if failure is not None and not isinstance(failure, errors.Stopped) and not draft.deltas:
            return Usage()
        prompt = sum(estimate_tokens(str(m.get("content") or "")) for m in self.messages)
        return Usage(prompt, draft.deltas, prompt + draft.deltas, estimated=True)

    def run_calls(self, done: Completion) -> None:
        """Run the calls of the last step in order; their results join the conversation."""
        step = len(self.steps)
        calls = [
            ToolCall(c.id or f"call_{step}_{i}", c.name, c.arguments)
            for i, c in enumerate(done.tool_calls)
        ]
        self.messages.append(assistant_message(done.text, calls))
        for call in calls:
            record = self.toolbox.run(
                call, step=step, index=len(self.records), view=self.view, confirm=self.confirm
            )
            self.records.append(record)
            self.messages.append(tool_message(record))

    def result(self) -> ToolRun:
        """The steps added up: texts joined, usage and latency summed, the last step's facts."""
        last = self.steps[-1]
        usage = Usage(
            sum(s.usage.prompt_tokens for s in self.steps),
            sum(s.usage.completion_tokens for s in self.steps),
            sum(s.usage.total_tokens for s in self.steps),
            estimated=any(s.usage.estimated for s in self.steps),
        )
        return ToolRun(
            text="\n\n".join(s.text for s in self.steps if s.text.strip()),
            reasoning="\n\n".join(s.reasoning for s in self.steps if s.reasoning.strip()),
            model=last.model,
            provider=last.provider,
            finish_reason=last.finish_reason,
            usage=usage,
            latency_ms=sum(s.latency_ms or 0 for s in self.steps),
            endpoint=last.endpoint,
            tool_calls=list(self.records),
            steps=len(self.steps),
        )


def run_with_tools(
    session: Session,
    template: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    view: View,
    toolbox: Toolbox,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    confirm: Confirm | None = None,
    on_stream: Callable[[ChatStream], None] | None = None,
) -> ToolRun:
    """Answer `template` letting the model call `toolbox`; raise RoutingError on failure.

    As with run.run_prompt, whatever happens the view is finished, every request has its
    ledger row, and what was answered and called so far stays on screen.
    """
    model = session.check_model(options.model)
    prepared = _prepare(session, template, options, namespace, model)
    loop = _Loop(session, model, options, view, toolbox, max_steps, confirm, on_stream)
    loop.messages = list(prepared.messages)
    start_lookups(session)
    failure, notice = _drive(loop)
    done = loop.result()
    cost, warning = footer_extras(session, done)
    footer = footer_info(
        done, outcome=errors.outcome_of(failure), notebook_total=loop.total,
        offline=session.offline, cost=cost, warning=warning,
    )  # fmt: skip
    if failure is None:
        notice = notice or _notice(session, done, options)
    notice = " ".join(n for n in (notice, loop.unrecorded) if n) or None
    view.finish(replace(footer, steps=done.steps), notice=notice, metadata=provenance(done))
    if failure is not None:
        raise failure
    if options.chat:
        session.memory.add(prepared.user_text, done.text)
    return done


def _drive(loop: _Loop) -> tuple[errors.RoutingError | None, str | None]:
    """Steps until an answer, a failure or the bound; (the failure, a notice for the bound)."""
    try:
        while True:
            done, failure = loop.step()
            if failure is not None or not done.tool_calls:
                return failure, None
            if len(loop.steps) >= loop.max_steps:
                return None, _bound_notice(loop.max_steps, done.tool_calls)
            loop.run_calls(done)
    except KeyboardInterrupt:  # inside a tool, or while --confirm asked
        return errors.Stopped("stopped by the user while a tool ran"), None
    except errors.RoutingError as exc:  # --confirm with no input box
        return exc, None


def _bound_notice(max_steps: int, calls: list[ToolCall]) -> str:
    names = ", ".join(dict.fromkeys(c.name for c in calls))
    steps = f"{max_steps} step" + ("" if max_steps == 1 else "s")
    return (
        f"Stopped after {steps} (--max-steps {max_steps}): the model still asked "
        f"for {names}, which did not run. Raise --max-steps to let it go on."
    )
