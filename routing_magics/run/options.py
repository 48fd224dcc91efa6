"""What one run is asked to do: the cell's options as a value (light, so the shells load fast)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..prompt.history import NotebookContext
    from .structured import StructuredUse


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
    cache: bool = False  # answer from the answers cache when it holds this exact request
    notebook: NotebookContext | None = None  # {In[n]}-style lookups and --cells context
    schema: StructuredUse | None = None  # --schema: a structured answer, validated


#: Most tool calls run from one model turn; the rest go back to the model as not run.
DEFAULT_MAX_TOOL_CALLS = 20
