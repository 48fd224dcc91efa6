"""`--tools`: a cell whose model may call notebook functions (run/toolbox.py) between steps.

The loop itself is run/conversation.py's, which a plain cell runs too with no tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from .conversation import DEFAULT_MAX_STEPS, ToolRun, ToolUse
from .options import DEFAULT_MAX_TOOL_CALLS
from .single import run_prompt

if TYPE_CHECKING:
    from ..display.protocols import View
    from ..session import Session
    from .exchange import OnStream
    from .options import RunOptions
    from .toolbox import Confirm, Toolbox

__all__ = ["DEFAULT_MAX_STEPS", "DEFAULT_MAX_TOOL_CALLS", "ToolRun", "run_with_tools"]


def run_with_tools(
    session: Session,
    template: str,
    options: RunOptions,
    namespace: Mapping[str, object],
    view: View,
    toolbox: Toolbox,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    confirm: Confirm | None = None,
    on_stream: OnStream | None = None,
    max_calls: int = DEFAULT_MAX_TOOL_CALLS,
) -> ToolRun:
    """Answer `template` letting the model call `toolbox`; raise RoutingError on failure.

    As with run_prompt, whatever happens the view is finished, every request has its ledger
    row, and what was answered and called so far stays on screen. At most `max_calls` calls of
    one model turn run; the others go back to the model as not run, and the cell says so.
    """
    tools = ToolUse(toolbox, max_steps, confirm, max_calls)
    done = run_prompt(session, template, options, namespace, view, on_stream=on_stream,
                      tools=tools)  # fmt: skip
    return cast(ToolRun, done)
