"""What a response emits, token by token: reasoning first, then content, capped by max_tokens."""

from __future__ import annotations

from dataclasses import dataclass

from .answers import Answer, tokenize
from .tools import ToolCall


@dataclass(frozen=True)
class Emission:
    """The tokens a response sends; for a tool call, `content` holds the argument pieces."""

    reasoning: tuple[str, ...]
    content: tuple[str, ...]
    tool_call: ToolCall | None
    finish_reason: str

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
    call = answer.tool_call
    content = tokenize(call.arguments if call else answer.content)
    finish = "tool_calls" if call else "stop"
    if max_tokens is not None and len(reasoning) + len(content) > max_tokens:
        reasoning = reasoning[:max_tokens]
        content = content[: max_tokens - len(reasoning)]
        finish = "length"
    if call is not None and not content:
        call = None  # the budget ran out before the call began: nothing to report
    return Emission(tuple(reasoning), tuple(content), call, finish)
