"""routing_magics: stream routing.run models into Jupyter with `%%route`.

Loading stays cheap: httpx, markdown-it-py and ipywidgets are imported when first used. The
Python API lives in `routing_magics.api`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from .run.ask import ask
    from .run.batch.each import each
    from .session import Session

__all__ = [
    "__version__",
    "ask",
    "current_session",
    "each",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext routing_magics`: register `%%route` / `%route`."""
    from .ui.extension import load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    from .ui.extension import unload

    unload(ipython)


def current_session() -> Session:
    """This kernel's `Session` (settings, client, ledger, emulator) once `%load_ext` has run.

    Notebooks use it to reach the bundled emulator, e.g. to switch on a fault for a demo:
    `current_session().emulator.inject("PROVIDER_ERROR", times=3)`.
    """
    from .session import loaded_session

    session = loaded_session()
    if session is None:
        raise RuntimeError("run `%load_ext routing_magics` first")
    return session


def __getattr__(name: str) -> object:
    """`each` and `ask` load their flows on first use (PEP 562): import stays cheap."""
    if name == "each":
        from .run.batch.each import each

        return each
    if name == "ask":
        from .run.ask import ask

        return ask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
