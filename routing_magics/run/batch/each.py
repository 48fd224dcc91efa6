"""`routing_magics.each(df, template, …)`: the batch flow for scripts and pipelines.

`%%route --each` is the notebook shell over the same flow; this function is the Python one. In a
kernel where `%load_ext routing_magics` ran, it uses that notebook's session (its ledger key,
cache and emulator); elsewhere it makes a session from the environment and closes it after.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ...display.progress import NoProgress, Progress, TqdmProgress
from ..options import RunOptions
from ..scripts import in_kernel, script_session
from ..structured import structured_use
from .columns import answers
from .flow import run_batch
from .outcomes import DEFAULT_CONCURRENCY, BatchOptions

if TYPE_CHECKING:
    from ...session import Session


def each(
    frame: object,
    template: str,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    schema: object = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    format: str = "markdown",
    cache: bool = True,
    limit: int | None = None,
    requests_per_minute: int | None = None,
    namespace: Mapping[str, object] | None = None,
    progress: bool = True,
    session: Session | None = None,
) -> object:
    """Answer `template` once per row of `frame`; a Series aligned to its index (None where a
    row failed or was not sent), a DataFrame of keys for `format="json"` objects, or, with
    `schema` (a pydantic model, dataclass, TypedDict, JSON Schema dict or concise spec), a
    DataFrame of typed columns, one per field.

    Raises api.errors.ConfigurationError before any request for a bad frame, template, schema
    or model.
    """
    names = dict(namespace or {})
    use = structured_use(schema, names) if schema is not None else None
    options = RunOptions(model=model, system=system, temperature=temperature,
                         max_tokens=max_tokens, schema=use)  # fmt: skip
    batch = BatchOptions(concurrency, limit, cache, format, requests_per_minute)
    bar: Progress = TqdmProgress(rich=in_kernel()) if progress else NoProgress()
    with script_session(session) as chosen:
        result = run_batch(chosen, "frame", frame, template, options, batch, names, bar)
    value, notes = answers(result, "answer", format)
    for line in [result.redacted, result.unrecorded, *result.pacing, *notes]:
        if line:
            print(line, file=sys.stderr)
    return value
