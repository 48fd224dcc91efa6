"""`--tools`, `--max-steps`, `--confirm` and `%route tools`: the shell's side of the tool loop.

The model chooses which notebook function to call and with what arguments; `--confirm` asks
before each call with an input box, so nothing runs that the user did not see first.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from IPython.core.error import StdinNotImplementedError, UsageError

from ..api import errors
from ..run.tools import DEFAULT_MAX_STEPS, DEFAULT_MAX_TOOL_CALLS, ToolRun, run_with_tools

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..display.protocols import View
    from ..run.single import RunOptions
    from ..session import Session

_SPLIT = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class ToolSettings:
    names: tuple[str, ...]
    max_steps: int = DEFAULT_MAX_STEPS
    confirm: bool = False
    max_calls: int = DEFAULT_MAX_TOOL_CALLS  # per model turn (RouteMagics.max_tool_calls)


def split_names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in _SPLIT.split(text.strip()) if n))


def tool_settings(
    args: argparse.Namespace | None, session: Session, max_calls: int = DEFAULT_MAX_TOOL_CALLS
) -> ToolSettings | None:
    """The cell's tool options (its --tools, else the notebook's set); None: no tools."""
    given = getattr(args, "tools", None)
    names = split_names(given) if given is not None else session.default_tools
    max_steps = getattr(args, "max_steps", None)
    confirm = bool(getattr(args, "confirm", False))
    if max_steps is not None and max_steps < 1:
        raise UsageError(f"--max-steps {max_steps}: give at least 1 (the default is 5)")
    if not names:
        if max_steps is not None or confirm:
            raise UsageError("--max-steps and --confirm go with --tools f,g (or `%route tools`)")
        return None
    for name in names:
        if not name.isidentifier():
            raise UsageError(f"--tools {name}: not a function name; write --tools f,g")
    if max_calls < 1:
        raise UsageError(f"RouteMagics.max_tool_calls = {max_calls}: give at least 1 (the "
                         f"default is {DEFAULT_MAX_TOOL_CALLS})")  # fmt: skip
    return ToolSettings(names, max_steps or DEFAULT_MAX_STEPS, confirm, max_calls)


def ask_yes_no(question: str) -> bool:
    """`--confirm`: the user types y to run the call; anything else declines it."""
    try:
        answer = input(f"{question} [y/N] ")
    except (StdinNotImplementedError, EOFError, OSError):
        raise errors.ConfigurationError(
            "--confirm needs an input box, and this frontend has none",
            hint="run the cell in JupyterLab, Notebook or IPython, or drop --confirm",
        ) from None
    return answer.strip().lower() in ("y", "yes")


def run_tool_cell(
    session: Session,
    prompt: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    view: View,
    settings: ToolSettings,
) -> ToolRun:
    from ..run.toolbox import Toolbox

    toolbox = Toolbox.from_namespace(settings.names, namespace)
    confirm = ask_yes_no if settings.confirm else None
    return run_with_tools(
        session, prompt, options, namespace, view, toolbox,
        max_steps=settings.max_steps, confirm=confirm, max_calls=settings.max_calls,
    )  # fmt: skip


def tools(session: Session, shell: InteractiveShell, rest: str) -> None:
    """`%route tools` shows the notebook's set; `%route tools f g` sets it; `none` clears it."""
    if rest.strip() == "none":
        session.default_tools = ()
    elif rest.strip():
        from ..run.toolbox import Toolbox

        names = split_names(rest)
        Toolbox.from_namespace(names, shell.user_ns)  # refuse what cannot be offered, now
        session.default_tools = names
    offered = ", ".join(session.default_tools) or "none"
    print(f"Tools offered to the model in this notebook: {offered}")
