"""Typed values that flow out of the client: stream events, finished completions, and the
builder that adds events up to a completion (the one place deltas are joined)."""

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


@dataclass(frozen=True)
class ChatRequest:
    """What one request asks: the model, the messages and the parameters, as sent (no key)."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens, tools…
    stream: bool = True
    #: Credentials replaced in the messages before sending: placeholder → copies.
    redacted: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        words = sum(len(str(m.get("content") or "").split()) for m in self.messages)
        shown = f"{len(self.messages)} messages, {words:,} words"
        return f"ChatRequest(model={self.model!r}, {shown}, params={self.params!r})"


@dataclass(frozen=True)
class FrameSent:
    """A dataframe as the prompt carried it (`--df`, `{frame}`): `rows_sent` of `rows_total`."""

    name: str | None
    rows_sent: int
    rows_total: int
    #: Why rows were left out: "--rows" (the cap) or "context" (what the model can read); None
    #: when every row went.
    cut_by: str | None = None

    def __str__(self) -> str:
        """E.g. '50 of 200 rows sent (--rows)'."""
        why = {"--rows": " (--rows)", "context": " (to fit the context)"}.get(self.cut_by or "", "")
        return f"{self.rows_sent:,} of {self.rows_total:,} rows sent{why}"


@dataclass
class Completion:
    """A whole answer; `str(completion)` is its text. Also the `-o` result object, whose
    `.request` is what was sent for it."""

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
    request: ChatRequest | None = field(default=None, repr=False)
    data: Any = field(default=None, repr=False)  # `--schema`: the validated object
    #: The dataframes the prompt carried, and how many of their rows went.
    frames: list[FrameSent] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        return self.text


class CompletionBuilder:
    """Events in, the Completion they add up to out; tool-call deltas assembled by index."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.request: ChatRequest | None = None
        self.provider: str | None = None
        self.latency_ms: int | None = None
        self.finish_reason: str | None = None
        self.endpoint = ""
        self.usage: Usage | None = None
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._joined: dict[str, str] = {}  # cached joins, dropped when a part arrives
        self._tools: dict[int, list[str]] = {}  # index → [id, name, arguments]

    @property
    def text(self) -> str:
        return self._join("text", self._text)

    @property
    def reasoning(self) -> str:
        return self._join("reasoning", self._reasoning)

    def tool_calls(self) -> list[ToolCall]:
        return [ToolCall(*self._tools[index]) for index in sorted(self._tools)]

    def add(self, event: Event) -> None:
        if isinstance(event, ContentDelta):
            self._text.append(event.text)
            self._joined.pop("text", None)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
            self._joined.pop("reasoning", None)
        elif isinstance(event, ToolCallDelta):
            slot = self._tools.setdefault(event.index, ["", "", ""])
            slot[0], slot[1] = event.id or slot[0], event.name or slot[1]
            slot[2] += event.arguments
        elif isinstance(event, UsageReport):
            self.usage = event.usage
        else:
            self.model = event.model or self.model
            self.provider, self.latency_ms = event.provider, event.latency_ms
            self.finish_reason, self.endpoint = event.reason, event.endpoint

    def build(self) -> Completion:
        """Everything so far (usage zero if none was reported)."""
        return Completion(
            text=self.text,
            reasoning=self.reasoning,
            model=self.model,
            provider=self.provider,
            finish_reason=self.finish_reason,
            usage=self.usage or Usage(),
            latency_ms=self.latency_ms,
            endpoint=self.endpoint,
            tool_calls=self.tool_calls(),
            request=self.request,
        )

    def _join(self, name: str, parts: list[str]) -> str:
        if name not in self._joined:
            self._joined[name] = "".join(parts)
        return self._joined[name]
