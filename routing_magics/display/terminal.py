"""The terminal view: an answer printed as it arrives, for IPython without a notebook."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from .protocols import Draft, FooterInfo, ToolCallInfo
from .render import footer_text
from .toolblock import tool_plain

# Terminal control sequences in model text could repaint the user's terminal: drop them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)  # looked up per call: IPython swaps sys.stdout
    sys.stdout.flush()


class TextView:
    """The terminal view: prints deltas as they arrive, then the notice and the footer line."""

    def __init__(
        self, write: Callable[[str], Any] | None = None, *, show_reasoning: bool = True
    ) -> None:
        self._write = write or _write_stdout
        self._show_reasoning = show_reasoning
        self._state = "idle"  # idle → reasoning → answer → finished
        self._last_char = "\n"

    def reasoning(self, delta: str, draft: Draft) -> None:
        if not delta or self._state in ("answer", "finished") or not self._show_reasoning:
            return
        if self._state == "idle":
            self._emit("Reasoning:\n")
        self._state = "reasoning"
        self._emit(delta)

    def content(self, delta: str, draft: Draft) -> None:
        if not delta or self._state == "finished":
            return
        if self._state == "reasoning":
            self._emit(("\n" if self._last_char != "\n" else "") + "\nAnswer:\n")
        self._state = "answer"
        self._emit(delta)

    def tool_call(self, call: ToolCallInfo) -> None:
        """One line per call once it has ended; the next step starts afresh."""
        if self._state == "finished" or call.state == "running":
            return
        self._emit(("\n" if self._last_char != "\n" else "") + f"[tool] {tool_plain(call)}\n")
        self._state = "idle"

    def finish(
        self,
        footer: FooterInfo,
        *,
        notice: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if self._state == "finished":
            return
        self._state = "finished"
        if self._last_char != "\n":
            self._emit("\n")
        if notice:
            self._emit(f"{notice}\n")
        self._emit(f"[{footer_text(footer)}]\n")

    def _emit(self, text: str) -> None:
        text = _CONTROL.sub("", text)
        if text:
            self._last_char = text[-1]
            self._write(text)
