"""Which live view an answer streams into: HTML in a notebook, printed text in a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..display.protocols import DisplayMode, Format, View


def is_rich(shell: InteractiveShell, mode: DisplayMode) -> bool:
    """HTML when a Jupyter frontend is attached (a kernel), text in terminal IPython."""
    if mode != "auto":
        return mode == "rich"
    return getattr(shell, "kernel", None) is not None


def make_view(shell: InteractiveShell, mode: DisplayMode, fmt: Format = "markdown") -> View:
    """The live view for one answer: HTML in a notebook, printed text in a terminal."""
    from ..display.live import LiveView
    from ..display.render import preformatted_html
    from ..display.sinks import IPythonSink
    from ..display.terminal import TextView

    if not is_rich(shell, mode):
        return TextView()
    if fmt in ("text", "json"):
        return LiveView(IPythonSink(), renderer=preformatted_html)
    return LiveView(IPythonSink())
