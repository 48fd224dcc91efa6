"""How an answer is shown in IPython (--format, display mode) and what follows it: the view for
one answer, the code cell below for `--format code`, the JSON check, and how an `-o` result
displays on its own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..api import errors

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.lib.pretty import RepresentationPrinter

    from ..api.models import Completion
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


def extract_code(text: str) -> str:
    """The fenced code blocks of an answer, joined; the whole answer if it has none."""
    from ..display.render import code_blocks

    blocks = [block.rstrip("\n") for block in code_blocks(text)]
    return "\n\n".join(blocks) if blocks else text.strip()


def apply_format(shell: InteractiveShell, done: Completion, fmt: Format) -> None:
    """--format code: the code goes into a new cell below; json: the answer must parse."""
    if fmt == "code" and done.text.strip():
        shell.set_next_input(extract_code(done.text), replace=False)
    elif fmt == "json":
        try:
            json.loads(extract_code(done.text))
        except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
            raise errors.ProtocolError(
                f"the answer is not valid JSON ({exc})",
                hint="ask for JSON only in the prompt, or use --format text",
                code="NOT_JSON",
            ) from None


def show_results_rendered(shell: InteractiveShell) -> None:
    """A result alone in a cell (`answer`) shows as its answer did: markdown rendered, escaped.

    Registered by module and class name, so nothing is imported until a result is shown.
    """
    if shell.display_formatter is None:
        return
    formatters: Any = shell.display_formatter.formatters
    where = ("routing_magics.api.models", "Completion")
    formatters["text/html"].for_type_by_name(*where, _result_html)
    formatters["text/plain"].for_type_by_name(*where, _result_plain)


def _result_html(done: Completion) -> str:
    from ..display.render import markdown_to_html

    return markdown_to_html(done.text)


def _result_plain(done: Completion, printer: RepresentationPrinter, cycle: bool) -> None:
    printer.text(done.text)
