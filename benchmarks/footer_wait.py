"""What the cost estimate and cap warning add to a cell, and what a hanging GET /v1/pricing costs.
Prints figures.

    python benchmarks/footer_wait.py [--cells 20]

A real InteractiveShell runs `%%route` cells (text view) against the emulator, unthrottled. Three
sessions: prices and account counts served by the emulator; both asked of a server of ours that
never answers (chat still goes to the emulator); and, for scale, both lookups switched off.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from IPython.core.interactiveshell import InteractiveShell

from routing_magics.api.account import parse_account
from routing_magics.api.client import RoutingClient
from routing_magics.api.refresh import Refresher
from routing_magics.emulator import Emulator
from routing_magics.ui.magics import RouteMagics

CELL = "%%route route/kimi-k2.5\necho: one two three"


class Hang(BaseHTTPRequestHandler):
    """Accepts a request and never answers it (until the benchmark ends)."""

    release = threading.Event()

    def do_GET(self) -> None:
        self.release.wait(120)

    def log_message(self, format: str, *args: object) -> None:
        pass


def session_times(emu: Emulator, cells: int, patch: Callable[[RouteMagics], None]) -> list[float]:
    """Seconds per cell for `cells` cells in a fresh RouteMagics."""
    shell = InteractiveShell.instance()
    magics = RouteMagics(shell)
    shell.register_magics(magics)
    shell.run_line_magic("config", "RouteMagics.display_mode = 'text'")
    patch(magics)
    times = []
    for _ in range(cells):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            result = shell.run_cell(CELL, store_history=False)
        times.append(time.perf_counter() - started)
        assert result.success, result.error_in_exec
    magics.session.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=20)
    args = parser.parse_args()
    hang = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    hang.daemon_threads = True
    threading.Thread(target=hang.serve_forever, daemon=True).start()
    hang_url = f"http://127.0.0.1:{hang.server_address[1]}/v1"
    with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            ROUTING_RUN_API_KEY="rk_bench", ROUTING_RUN_BASE_URL=emu.base_url,
            ROUTING_RUN_FALLBACK_BASE_URL="", ROUTING_MAGICS_USAGE_DB=f"{tmp}/u.sqlite",
        )  # fmt: skip

        silent = RoutingClient("rk_bench", hang_url, None)

        def hanging(magics: RouteMagics) -> None:
            """Prices and account counts from the silent server; chat from the emulator."""
            session = magics.session
            session.prices = Refresher(silent.pricing, max_age=86_400)
            session.account = Refresher(
                lambda: parse_account(silent.quick_get("/user/requests")), max_age=60
            )

        def off(magics: RouteMagics) -> None:
            magics.session.prices.start = lambda: None  # type: ignore[method-assign]
            magics.session.account.start = lambda: None  # type: ignore[method-assign]

        normal = session_times(emu, args.cells, lambda m: None)
        hung = session_times(emu, args.cells, hanging)
        none = session_times(emu, args.cells, off)
        silent.close()
    Hang.release.set()
    hang.shutdown()
    print(f"cells per session: {args.cells} (echo answer, ~60 tokens, emulator unthrottled)")
    for name, times in (("prices served", normal), ("pricing hangs", hung), ("lookups off", none)):
        first, second = (f"{t * 1000:7.1f} ms" for t in times[:2])
        rest = statistics.median(times[2:]) * 1000
        print(f"{name:14}  cell 1 {first}   cell 2 {second}   later (median) {rest:5.1f} ms")


if __name__ == "__main__":
    main()
