"""routing_magics: stream routing.run models into Jupyter with `%%route`.

Loading stays cheap: httpx, markdown-it-py and ipywidgets are imported when first used.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "current_session", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext routing_magics`: register `%%route` / `%route`."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload

    unload(ipython)


def current_session() -> Any:
    """This kernel's `Session` (settings, client, ledger, emulator) once `%load_ext` has run.

    Notebooks use it to reach the bundled emulator, e.g. to switch on a fault for a demo:
    `current_session().emulator.inject("PROVIDER_ERROR", times=3)`.
    """
    from IPython import get_ipython

    shell = get_ipython()
    magics = shell.magics_manager.registry.get("RouteMagics") if shell is not None else None
    if magics is None:
        raise RuntimeError("run `%load_ext routing_magics` first")
    return magics.session
