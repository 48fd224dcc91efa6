"""Reading a request's body: by Content-Length (capped) or chunked."""

from __future__ import annotations

from email.message import Message
from io import BufferedIOBase

#: The largest request body read: far above any prompt the emulator could answer.
MAX_BODY_BYTES = 64 * 1024 * 1024


class BodyTooLarge(Exception):
    """A Content-Length that is negative or above MAX_BODY_BYTES; str() is the reply's text."""


def read_request_body(rfile: BufferedIOBase, headers: Message) -> bytes:
    length = headers.get("Content-Length")
    if length:
        size = int(length)
        if not 0 <= size <= MAX_BODY_BYTES:
            raise BodyTooLarge(f"A body of {size} bytes is refused")
        return rfile.read(size)
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return _read_chunked(rfile)
    return b""


def _read_chunked(rfile: BufferedIOBase) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline().strip():
                pass  # trailers
            return b"".join(parts)
        parts.append(rfile.read(size))
        rfile.readline()
