"""What a hostile server costs a notebook process. Prints figures.

    python benchmarks/hostile.py                      # this checkout
    python benchmarks/hostile.py --code /path/to/old  # another checkout's package, to compare

1. `complete()` (what `--no-stream` calls) meets a small gzip body that expands to `--bomb-gib`
   GiB of zeros: peak RSS of the process and the error line. Each run is a fresh interpreter with
   its address space capped at `--limit-gib`, so a reader without a cap fails with MemoryError
   instead of taking the shared machine's memory.
2. A stream sends one `data:` line of `--line-mib` MiB in 4 KiB writes, then holds the
   connection: seconds from the request to the error, capped at `--max-seconds`.
3. A `%%route` cell with a corrupt ledger file: the line the user sees, and `%route usage`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SERVER = r"""
import socket, threading, zlib

def serve(script):
    listener = socket.create_server(("127.0.0.1", 0))
    def loop():
        while True:
            conn, _ = listener.accept()
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next((l.split(b":")[1] for l in head.split(b"\r\n")
                               if l.lower().startswith(b"content-length")), b"0"))
            while len(body) < length:
                body += conn.recv(65536)
            threading.Thread(target=script, args=(conn,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
"""

BOMB = (
    SERVER
    + r"""
import resource, sys, time
sys.path.insert(0, CODE)
gib, limit = GIB, LIMIT
z = zlib.compressobj(9, zlib.DEFLATED, 31)
block = bytes(1 << 20)
body = b"".join(z.compress(block) for _ in range(gib * 1024)) + z.flush()

def script(conn):
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    try:
        conn.sendall(head + body)
    except OSError:
        pass
    conn.close()

url = serve(script)
from routing_magics.api.client import RoutingClient
client = RoutingClient("rk_bench", url, None, max_attempts=1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
resource.setrlimit(resource.RLIMIT_AS, (limit << 30, limit << 30))
started = time.perf_counter()
try:
    client.complete("route/x", [{"role": "user", "content": "hi"}])
    outcome = "no error"
except MemoryError:
    outcome = "MemoryError"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"compressed_bytes": len(body), "rss_before_mib": before / 1024,
                  "peak_rss_mib": peak / 1024, "seconds": elapsed, "outcome": outcome}))
"""
)

LINE = (
    SERVER
    + r"""
import sys, time
sys.path.insert(0, CODE)
mib = MIB

def script(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: ")
    piece = b"x" * 4096
    try:
        for _ in range(mib * 256):
            conn.sendall(piece)
        time.sleep(3600)  # neither a line break nor a close
    except OSError:
        pass

url = serve(script)
from routing_magics.api.client import RoutingClient
client = RoutingClient("rk_bench", url, None, max_attempts=1)
started = time.perf_counter()
try:
    list(client.stream("route/x", [{"role": "user", "content": "hi"}]))
    outcome = "no error"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome}))
"""
)

LEDGER = r"""
import sys, tempfile
sys.path.insert(0, CODE)
from pathlib import Path
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from routing_magics.emulator import Emulator
import os
with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
    db = Path(tmp) / "usage.sqlite"
    original = b"my notes, not a database\n" * 100
    db.write_bytes(original)
    os.environ.update(ROUTING_RUN_API_KEY="rk_bench", ROUTING_RUN_BASE_URL=emu.base_url,
                      ROUTING_RUN_FALLBACK_BASE_URL="", ROUTING_MAGICS_USAGE_DB=str(db))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "routing_magics")
    shell.run_line_magic("config", "RouteMagics.display_mode = 'text'")
    with capture_output() as cell:
        result = shell.run_cell("%%route -o answer\necho: the answer", store_history=False)
    error = result.error_in_exec
    print("--- %%route -o answer (terminal view) ---")
    print(cell.stdout.rstrip())
    print(f"error: {type(error).__name__}: {error}" if error else "error: none")
    print(f"answer bound: {str(shell.user_ns.get('answer'))!r}")
    with capture_output() as usage:
        result = shell.run_cell("%route usage", store_history=False)
    error = result.error_in_exec
    print("--- %route usage ---")
    print(f"{type(error).__name__}: {error}" if error else usage.stdout)
    print(f"the broken file is kept unchanged: {db.read_bytes() == original}")
"""


def run(probe: str, code: str, timeout: float, **values: object) -> str:
    prelude = f"import json\nCODE = {code!r}\n" + "".join(
        f"{name} = {value!r}\n" for name, value in values.items()
    )
    with tempfile.TemporaryDirectory() as cwd:  # not the checkout: CODE decides what imports
        try:
            done = subprocess.run(
                [sys.executable, "-c", prelude + textwrap.dedent(probe)],
                capture_output=True, text=True, timeout=timeout, cwd=cwd,
                env={**os.environ, "PYTHONPATH": code},
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return json.dumps({"seconds": f">{timeout:g}", "outcome": "still running; killed"})
    return done.stdout.strip() or done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=str(ROOT), help="the checkout whose package is used")
    parser.add_argument("--bomb-gib", type=int, default=4)
    parser.add_argument("--limit-gib", type=int, default=3)
    parser.add_argument("--line-mib", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args()
    print(f"code: {args.code}")
    print(f"1. gzip bomb, {args.bomb_gib} GiB of zeros, address space capped at "
          f"{args.limit_gib} GiB:")  # fmt: skip
    print("  ", run(BOMB, args.code, args.max_seconds, GIB=args.bomb_gib, LIMIT=args.limit_gib))
    print(f"2. one {args.line_mib} MiB data: line in 4 KiB writes, then silence:")
    print("  ", run(LINE, args.code, args.max_seconds, MIB=args.line_mib))
    print("3. a corrupt ledger file:")
    print(textwrap.indent(run(LEDGER, args.code, args.max_seconds), "   "))


if __name__ == "__main__":
    main()
