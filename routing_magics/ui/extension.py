"""`%load_ext routing_magics`: register the magics and how results show, say where answers
come from, warm up; and `%unload_ext`."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

from IPython.core.interactiveshell import InteractiveShell

from ..run.jobs import jobs_of
from ..session import forget_loaded, remember_loaded
from .magics import RouteMagics

if TYPE_CHECKING:
    from IPython.lib.pretty import RepresentationPrinter

    from ..api.models import Completion


def _warm_up() -> None:
    """Import httpx, build the markdown parser and load Pygments off the main thread, so the
    first cell's first token (and first code block) is not held up by ~100 ms of imports."""
    from ..api import client
    from ..display import render

    render.markdown_to_html("```python\nx = 1\n```")
    del client


def load(ipython: InteractiveShell) -> None:
    magics = RouteMagics(ipython)
    replaced = remember_loaded(ipython, magics)
    if isinstance(replaced, RouteMagics):  # loaded again without %unload_ext (a direct call)
        _take_out(replaced)
    ipython.register_magics(magics)
    magics.cells.attach(ipython)
    show_results_rendered(ipython)
    if magics.session.offline:
        url = magics.session.start_emulator()
        why = "ROUTING_MAGICS_OFFLINE=1" if magics.offline else "no ROUTING_RUN_API_KEY"
        print(
            f"routing_magics: {why}, so answers come from the offline emulator at {url} "
            "(`%route key` to use routing.run).",
            file=sys.stdout,
        )
    threading.Thread(target=_warm_up, name="routing-magics-warm-up", daemon=True).start()


def unload(ipython: InteractiveShell) -> None:
    loaded = forget_loaded(ipython)
    if isinstance(loaded, RouteMagics):
        _take_out(loaded)


def _take_out(magics: RouteMagics) -> None:
    """Undo `load`: `%route` is gone, cells are no longer recorded, the session is released."""
    shell = magics.shell
    if shell is not None:  # IPython has no unregister_magics: take back what _register put in
        manager = shell.magics_manager
        for kind, table in manager.magics.items():
            for name, func in magics.magics[kind].items():
                if table.get(name) == func:
                    del table[name]
        if manager.registry.get(type(magics).__name__) is magics:
            del manager.registry[type(magics).__name__]
        # Magics.__init__ added it: left there, `%config RouteMagics` would read the old one.
        shell.configurables[:] = [c for c in shell.configurables if c is not magics]
    magics.cells.detach()
    jobs_of(magics.session).stop_all()  # no job outlives its session, writing into nothing
    magics.session.close()


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
