"""What the Python faces (`routing_magics.ask`, `routing_magics.each`) share: the session to use
and whether a rich progress bar fits."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..session import Session


@contextlib.contextmanager
def script_session(given: Session | None) -> Iterator[Session]:
    """`given`, else the loaded extension's session, else a new one from the environment,
    closed after (only a session made here is closed)."""
    from ..session import Session, loaded_session

    found = given or loaded_session()
    if found is not None:
        yield found
        return
    from ..config import settings_from_env

    made = Session(settings_from_env(), notebook=f"script:{Path(sys.argv[0] or 'python').name}")
    try:
        yield made
    finally:
        made.close()


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (a widget progress bar can show)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None
