"""`routing_magics.ask(prompt, …)`: one prompt, one answer, for scripts and pipelines.

The Python face of a single `%%route` cell: the same flow (request, exchange, ledger row,
answers cache, `--schema`'s check and repair), no display unless `show=True`. Failures raise
`api.errors.RoutingError` with advice that fits a script.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..display.terminal import TextView
from .options import RunOptions
from .scripts import script_session
from .single import run_prompt
from .structured import structured_use

if TYPE_CHECKING:
    from ..api.models import Completion
    from ..session import Session


def ask(
    prompt: str,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    schema: object = None,
    cache: bool = False,
    namespace: Mapping[str, object] | None = None,
    show: bool = False,
    session: Session | None = None,
) -> Completion:
    """The answer to `prompt` (`{name}` filled from `namespace`); with `schema` (a pydantic
    model, dataclass, TypedDict, JSON Schema dict or concise spec), `.data` is the validated
    object. `show=True` prints the answer as it streams."""
    names = dict(namespace or {})
    use = structured_use(schema, names) if schema is not None else None
    options = RunOptions(model=model, system=system, temperature=temperature,
                         max_tokens=max_tokens, cache=cache, schema=use)  # fmt: skip
    view = TextView() if show else TextView(write=_quiet)
    with script_session(session) as chosen:
        return run_prompt(chosen, prompt, options, names, view)


def _quiet(text: str) -> None:
    """A view's output, dropped: a script reads the returned answer instead."""
