"""Typed values that flow out of the client: stream events and finished completions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Usage:
    """Token counts; `estimated` is True when we counted them ourselves (stream cut short)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ContentDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call; `arguments` fragments concatenate per `index`."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class UsageReport:
    usage: Usage


@dataclass(frozen=True)
class Finish:
    """Last event of a stream: why it ended and who answered."""

    reason: str | None
    model: str
    provider: str | None = None
    latency_ms: int | None = None
    endpoint: str = ""


Event = ReasoningDelta | ContentDelta | ToolCallDelta | UsageReport | Finish


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class Completion:
    """A whole answer; `str(completion)` is its text. Also the `-o` result object."""

    text: str = ""
    reasoning: str = ""
    model: str = ""
    provider: str | None = None
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    latency_ms: int | None = None
    endpoint: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .render import markdown_to_html

        return {"text/plain": self.text, "text/html": markdown_to_html(self.text)}
