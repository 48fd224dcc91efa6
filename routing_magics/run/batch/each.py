"""`routing_magics.each(df, template, …)`: the batch flow for scripts and pipelines.

`%%route --each` is the notebook shell over the same flow; this function is the Python one. In a
kernel where `%load_ext routing_magics` ran, it uses that notebook's session (its ledger key,
cache and emulator); elsewhere it makes a session from the environment and closes it after.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...display.progress import NoProgress, Progress, TqdmProgress
from ..options import RunOptions
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
    row failed or was not sent), or a DataFrame of keys for `format="json"` objects.

    Raises api.errors.ConfigurationError before any request for a bad frame, template or model.
    """
    own = session is None
    session = session or _session()
    options = RunOptions(model=model, system=system, temperature=temperature,
                         max_tokens=max_tokens)  # fmt: skip
    batch = BatchOptions(concurrency, limit, cache, format, requests_per_minute)
    bar: Progress = TqdmProgress(rich=_in_kernel()) if progress else NoProgress()
    try:
        result = run_batch(session, "frame", frame, template, options, batch,
                           dict(namespace or {}), bar)  # fmt: skip
    finally:
        if own:
            session.close()
    value, notes = answers(result, "answer", format)
    for line in ([result.unrecorded] if result.unrecorded else []) + notes:
        print(line, file=sys.stderr)
    return value


def _in_kernel() -> bool:
    shell = _shell()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _shell() -> object | None:
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _session() -> Session:
    """The loaded extension's session, else a new one from the environment."""
    from ...session import Session, loaded_session

    found = loaded_session()
    if found is not None:
        return found
    from ...config import settings_from_env

    return Session(settings_from_env(), notebook=f"script:{Path(sys.argv[0] or 'python').name}")
