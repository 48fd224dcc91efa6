"""`%%route … --dry-run`: show the exact request a cell would send, and send nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from IPython.display import display

from ..display.request import request_bundle

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..display.protocols import DisplayMode
    from ..run.options import RunOptions
    from ..session import Session


def show_dry_run(
    session: Session,
    shell: InteractiveShell,
    template: str,
    options: RunOptions,
    *,
    mode: DisplayMode,
    out: str | None,
) -> None:
    """Display the messages and the estimate; `-o` binds the request (a `ChatRequest`)."""
    from ..run.single import dry_run
    from .views import is_rich

    namespace: Mapping[str, object] = shell.user_ns
    plan = dry_run(session, template, options, namespace)
    request = plan.request
    bundle = request_bundle(request.model, request.messages, request.params,
                            plan.prompt_tokens, plan.cost_usd)  # fmt: skip
    if is_rich(shell, mode):
        display(cast(dict[str, str], bundle), raw=True)
    else:
        print(bundle["text/plain"])
    if out:
        shell.user_ns[out] = request
