"""What a response emits, token by token: reasoning first, then content, capped by max_tokens."""

from __future__ import annotations

from dataclasses import dataclass

from .answers import Answer, tokenize
from .tools import ToolCall


@dataclass(frozen=True)
class Emission:
    """The tokens a response sends; for tool calls, `content` holds their argument pieces,
    call i's from `call_starts[i]` on."""

    reasoning: tuple[str, ...]
    content: tuple[str, ...]
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    call_starts: tuple[int, ...] = ()

    def call_at(self, token: int) -> int:
        """Which call the content token `token` belongs to."""
        return max(i for i, start in enumerate(self.call_starts) if start <= token)

    def arguments(self, call: int) -> str:
        """Call `call`'s argument text as sent (cut short by max_tokens if it ran out)."""
        starts = (*self.call_starts, len(self.content))
        return "".join(self.content[starts[call] : starts[call + 1]])

    @property
    def completion_tokens(self) -> int:
        return len(self.reasoning) + len(self.content)

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    @property
    def text(self) -> str:
        return "".join(self.content)


def plan_emission(answer: Answer, max_tokens: int | None) -> Emission:
    """Tokens of `answer`; `max_tokens` is spent on reasoning first, then content ('length')."""
    reasoning = tokenize(answer.reasoning)
    calls = answer.tool_calls
    pieces = [tokenize(c.arguments) for c in calls] if calls else [tokenize(answer.content)]
    starts = [sum(len(p) for p in pieces[:i]) for i in range(len(pieces))] if calls else []
    content = [token for piece in pieces for token in piece]
    finish = "tool_calls" if calls else "stop"
    if max_tokens is not None and len(reasoning) + len(content) > max_tokens:
        reasoning = reasoning[:max_tokens]
        content = content[: max_tokens - len(reasoning)]
        finish = "length"
    # A call the budget ran out before is not reported at all.
    kept = [i for i, start in enumerate(starts) if start < len(content)]
    return Emission(
        tuple(reasoning), tuple(content), tuple(calls[i] for i in kept), finish,
        tuple(starts[i] for i in kept),
    )  # fmt: skip
