"""The answer as it arrives: one copy of its text, reasoning and tool calls, plus timings."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..api.models import Completion, CompletionBuilder, ContentDelta, Event, ReasoningDelta
from ..prompt.prepare import estimate_tokens


class AnswerDraft:
    """The answer as it arrives (the one copy a run keeps), with the timings it needs.

    Satisfies display.protocols.Draft: views read the reasoning from here, never copy it.
    """

    def __init__(
        self, model: str, *, streamed: bool = True, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.builder = CompletionBuilder(model)
        self.streamed = streamed
        self._clock = clock
        self.started = clock()
        self.first_token: float | None = None
        self.deltas = 0  # text and reasoning deltas: about one token each in a stream
        self._reasoning_deltas = 0
        self._reasoning_span = (0.0, 0.0)  # clock at the first and the last reasoning delta

    def add(self, event: Event) -> None:
        """Add `event` to the answer and note its timing."""
        self.builder.add(event)
        self.note(event)

    def note(self, event: Event) -> None:
        """Note the timing of an event a stream already added to `builder`."""
        if not isinstance(event, (ReasoningDelta, ContentDelta)) or not event.text:
            return
        now = self._clock()
        self.deltas += 1
        self.first_token = now if self.first_token is None else self.first_token
        if isinstance(event, ReasoningDelta):
            self._reasoning_deltas += 1
            first = now if self._reasoning_deltas == 1 else self._reasoning_span[0]
            self._reasoning_span = (first, now)

    @property
    def text(self) -> str:
        return self.builder.text

    @property
    def reasoning(self) -> str:
        return self.builder.reasoning

    @property
    def reasoning_tokens(self) -> int:
        """Streamed: one a delta, as routing.run sends them; a whole answer: our estimate."""
        return self._reasoning_deltas if self.streamed else estimate_tokens(self.reasoning)

    @property
    def answer_tokens(self) -> int:
        """Tokens the answer is assumed to cost, when the service did not say: one a delta in a
        stream (routing.run sends them so), else our estimate of its text and reasoning."""
        if self.streamed:
            return self.deltas
        return estimate_tokens(self.text) + estimate_tokens(self.reasoning)

    @property
    def reasoning_seconds(self) -> float | None:
        """How long the model thought; unknown for a whole answer."""
        if not self.streamed or not self._reasoning_deltas:
            return None
        return self._reasoning_span[1] - self._reasoning_span[0]

    @property
    def ttft_ms(self) -> int | None:
        return None if self.first_token is None else int((self.first_token - self.started) * 1000)

    def completion(self) -> Completion:
        """The answer so far; latency measured here when the server reported none."""
        done = self.builder.build()
        if done.latency_ms is None:
            done.latency_ms = int((self._clock() - self.started) * 1000)
        return done
