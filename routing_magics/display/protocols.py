"""What the display wing draws on and with: its protocols and Literal aliases, in one place.

run.run_prompt drives a `View`; a view draws through a `DisplaySink` (IPython displays or
ipywidgets) and reads what has arrived so far from a `Draft` (run.AnswerDraft).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

if TYPE_CHECKING:
    from ..api.models import FrameSent

#: --format: how an answer is shown and what follows it.
Format = Literal["markdown", "text", "code", "json"]
FORMATS: tuple[Format, ...] = get_args(Format)
#: RouteMagics.display_mode: HTML live view, printed text, or whichever the shell supports.
DisplayMode = Literal["auto", "rich", "text"]
#: How an answer ended, as its footer says it.
Status = Literal["ok", "stopped", "error", "cached"]
#: A display's data: text/plain and text/html, never text/markdown.
Bundle = dict[str, str]
#: Where a tool call stands, as its block says it.
ToolState = Literal["running", "done", "failed", "declined"]


@dataclass(frozen=True)
class CostInfo:
    """Estimated USD from published prices; None where a model has no known price."""

    answer_usd: float | None
    notebook_usd: float | None
    notebook_partial: bool = False  # some of the notebook's models have no known price
    budget_usd: float | None = None  # today's budget, when one is set (`%route budget`)
    budget_left_usd: float | None = None


@dataclass(frozen=True)
class FooterInfo:
    """What the footer under an answer says."""

    model: str
    provider: str | None
    latency_ms: int | None
    prompt_tokens: int
    completion_tokens: int
    estimated: bool
    notebook_total_tokens: int | None
    offline: bool
    status: Status = "ok"
    cost: CostInfo | None = None  # None: no prices known (say nothing about cost)
    warning: str | None = None  # e.g. "1,212 of 1,500 requests used today"
    steps: int | None = None  # requests made by a tool loop (--tools); None for one request
    frames: tuple[FrameSent, ...] = ()  # dataframes the prompt carried; cut ones are said


@dataclass(frozen=True)
class ToolCallInfo:
    """One tool call as its block shows it: `rows_where(city="Oslo") → 17`."""

    index: int  # the call's position in the run, from 0
    step: int  # the request that asked for it, from 1
    label: str  # the call as Python: name(arg=value, …)
    state: ToolState
    result: str = ""  # the result, the error's one line, or why it did not run


class DisplayHandle(Protocol):
    def update(self, data: Bundle, metadata: dict[str, Any] | None = None) -> None: ...


class DisplaySink(Protocol):
    def show(self, data: Bundle, metadata: dict[str, Any] | None = None) -> DisplayHandle: ...


class Draft(Protocol):
    """The answer so far, as run.run_prompt keeps it; views read it and never copy it."""

    @property
    def reasoning(self) -> str: ...
    @property
    def reasoning_tokens(self) -> int: ...
    @property
    def reasoning_seconds(self) -> float | None: ...


class View(Protocol):
    """What run.run_prompt draws on: live.LiveView in a notebook, live.TextView in a terminal."""

    def reasoning(self, delta: str, draft: Draft) -> None: ...
    def content(self, delta: str, draft: Draft) -> None: ...
    def tool_call(self, call: ToolCallInfo) -> None: ...  # shown, then updated by index
    def finish(
        self, footer: FooterInfo, *, notice: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None: ...  # fmt: skip
