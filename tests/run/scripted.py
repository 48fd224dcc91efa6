"""A scripted routing.run on loopback, for replies the emulator will not give (an absurd
Retry-After, an answer nested 100,000 deep): each chat request is answered with the text after
"echo: " in its last message, as one streamed chunk, unless `first` answers the first one.

    with EchoService(first=rate_limited("999999")) as service:
        ... base URL service.base_url ...
    service.chat_bodies()  # what every chat request sent, in arrival order
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from routing_magics.config import Settings
from routing_magics.session import Session
from tests.hostile import HostileServer, _read_request, chunk, reply, sse

#: Answers a chat request given its JSON body (the first one only, when passed as `first`).
Answer = Callable[[socket.socket, dict[str, Any]], None]
#: What GET /v1/user/requests says: plenty left, so batches are neither refused nor paced.
ACCOUNT = {
    "requests_used_today": 0,
    "requests_remaining": 10_000,
    "requests_limit_per_day": 10_000,
    "requests_used_this_minute": 0,
    "requests_limit_per_minute": 6000,
}


def echo(conn: socket.socket, body: dict[str, Any]) -> None:
    """The last message's text after "echo: ", streamed as one chunk."""
    text = str(body["messages"][-1]["content"]).removeprefix("echo: ")
    usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    events = sse(chunk(text, "stop", usage=usage), "data: [DONE]\n\n")
    reply(200, events, "text/event-stream")(conn, None)  # type: ignore[arg-type]


def rate_limited(retry_after: str) -> Answer:
    """A per-minute 429 as routing.run sends it: plain text, X-Error-Code, Retry-After."""
    text = b"Rate limit exceeded; slow down and retry"

    def answer(conn: socket.socket, body: dict[str, Any]) -> None:
        script = reply(429, text, "text/plain", x_error_code="RATE_LIMIT_EXCEEDED",
                       retry_after=retry_after)  # fmt: skip
        script(conn, None)  # type: ignore[arg-type]

    return answer


class EchoService(HostileServer):
    """Chat requests echo (the first may be answered by `first`); GET /v1/user/requests gives
    `account` (ACCOUNT unless said), GET /v1/pricing `pricing` if set; any other request is a
    404."""

    def __init__(self, first: Answer | None = None, account: dict[str, Any] = ACCOUNT) -> None:
        super().__init__(lambda conn, server: None)
        self.pricing: dict[str, Any] | None = None
        self._first = first
        self._account = json.dumps(account).encode()
        self._chats = itertools.count()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            request = _read_request(conn)
            self.requests.append(request)
            line, body = _parts(request)
            if _is_chat(line):
                first = next(self._chats) == 0 and self._first is not None
                (self._first if first else self._chat)(conn, json.loads(body))  # type: ignore[misc]
            elif b"/user/requests" in line:
                reply(200, self._account)(conn, self)
            elif b"/pricing" in line and self.pricing is not None:
                reply(200, json.dumps(self.pricing).encode())(conn, self)
            else:
                reply(404, b"Not found", "text/plain")(conn, self)

    def _chat(self, conn: socket.socket, body: dict[str, Any]) -> None:
        echo(conn, body)

    def chat_bodies(self) -> list[dict[str, Any]]:
        """The JSON body of every chat request, in arrival order."""
        parts = [_parts(request) for request in list(self.requests)]
        return [json.loads(body) for line, body in parts if _is_chat(line)]


def _parts(request: bytes) -> tuple[bytes, bytes]:
    """(request line, body)."""
    head, _, body = request.partition(b"\r\n\r\n")
    return head.partition(b"\r\n")[0], body


def _is_chat(line: bytes) -> bool:
    return line.startswith(b"POST") and b"/chat/completions" in line


@contextlib.contextmanager
def keyed_session(base_url: str, folder: Path) -> Iterator[Session]:
    """A session with a key on `base_url` and no fallback (as `routing_magics.each` takes)."""
    settings = Settings(api_key="rk_test_hardening", base_url=base_url, fallback_base_url=None,
                        usage_db=str(folder / "u.sqlite"))  # fmt: skip
    session = Session(settings, notebook="hardening.ipynb")
    try:
        yield session
    finally:
        session.close()
