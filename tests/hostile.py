"""A small hostile HTTP server on loopback, for replies the emulator will not produce: bombs,
endless lines, streams that never end, odd numbers. Real sockets, one thread per connection.

    with HostileServer(lambda conn, server: conn.sendall(head(200) + body)) as bad:
        RoutingClient("rk_x", bad.base_url).complete(...)
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import zlib
from collections.abc import Callable
from types import TracebackType
from typing import Any

Script = Callable[[socket.socket, "HostileServer"], None]


class HostileServer:
    """Answers every request with `script(connection, server)`; the request is read first."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.release = threading.Event()  # scripts that hold a connection open wait on it
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self._listener.close()
        for conn in list(self._open):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.requests.append(_read_request(conn))
            self.script(conn, self)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def head(status: int = 200, **headers: str) -> bytes:
    """A response head; keyword names use _ for - (content_type → Content-Type)."""
    lines = [f"HTTP/1.1 {status} X"] + [
        f"{name.replace('_', '-').title()}: {value}" for name, value in headers.items()
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def reply(
    status: int, body: bytes, content_type: str = "application/json", **headers: str
) -> Script:
    """A script answering with a whole body."""

    def script(conn: socket.socket, server: HostileServer) -> None:
        extra = {"content_type": content_type, "content_length": str(len(body)), **headers}
        conn.sendall(head(status, connection="close", **extra) + body)

    return script


def gzip_bomb(expanded: int, layers: int = 1) -> bytes:
    """A gzip body that expands to `expanded` zero bytes (twice over when layers=2)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [z.compress(block) for _ in range(expanded // len(block))]
    body = b"".join(parts) + z.flush()
    return gzip.compress(body) if layers == 2 else body


def sse(*chunks: dict[str, Any] | str) -> bytes:
    """SSE bytes: dicts as JSON `data:` events, strings as they are."""
    out = []
    for chunk in chunks:
        out.append(chunk if isinstance(chunk, str) else f"data: {json.dumps(chunk)}\n\n")
    return "".join(out).encode()


def stream_then_hold(body: bytes) -> Script:
    """An event stream that sends `body`, then neither ends nor closes until released."""

    def script(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(head(200, content_type="text/event-stream") + body)
        server.release.wait(30)

    return script


def chunk(content: str = "", finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One chat.completion.chunk."""
    delta = {"content": content} if content else {}
    choices = [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c1", "model": "route/x", "choices": choices, **extra}


def pricing_down(*, hang: bool, arrived: threading.Event) -> Script:
    """GET /v1/pricing answers 500 (after the server's release, when `hang`); a POST gets a
    one-chunk answer, so a cell against this server still has something to show."""

    def script(conn: socket.socket, server: HostileServer) -> None:
        if server.requests[-1].startswith(b"POST"):
            body = sse(
                chunk(
                    "hi",
                    "stop",
                    usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
                ),
                "data: [DONE]\n\n",
            )
            reply(200, body, "text/event-stream")(conn, server)
            return
        arrived.set()
        if hang:
            server.release.wait(60)
        reply(500, b"pricing is down", "text/plain")(conn, server)

    return script
