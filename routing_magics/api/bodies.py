"""Reading a reply's body in bounded pieces: decompressed by us, so nothing expands unchecked.

httpx inflates each network read in one call, however far it expands (and "gzip, gzip" twice
over), so a few compressed kilobytes could fill the kernel's memory before any check of ours ran.
Here every piece is at most `PIECE` bytes, and a whole reply stops at its cap with one line.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator

import httpx

from . import errors

#: Bytes read from the socket at once, and the most one decoded piece may hold.
PIECE = 64 * 1024
#: What we ask servers to compress with: the encodings decoded here, and nothing else.
ACCEPT_ENCODING = "gzip, deflate"
MIB = 1024 * 1024


class _Inflater:
    """gzip or deflate, inflated at most `PIECE` bytes per step."""

    def __init__(self, encoding: str) -> None:
        self._raw_fallback = encoding == "deflate"  # some servers send raw deflate, no header
        self._z = zlib.decompressobj(31 if encoding != "deflate" else 15)
        self._started = False

    def pieces(self, data: bytes) -> Iterator[bytes]:
        while True:
            out = self._decompress(data)
            if out:
                yield out
            data = self._z.unconsumed_tail
            if not data and len(out) < PIECE:
                return

    def _decompress(self, data: bytes) -> bytes:
        try:
            out = self._z.decompress(data, PIECE)
        except zlib.error as exc:
            if self._started or not self._raw_fallback:
                raise httpx.DecodingError(f"bad {'deflate' if self._raw_fallback else 'gzip'} "
                                          f"body: {exc}") from exc  # fmt: skip
            self._raw_fallback, self._z = False, zlib.decompressobj(-15)
            out = self._z.decompress(data, PIECE)
        self._started = True
        return out


def iter_decoded(response: httpx.Response) -> Iterator[bytes]:
    """The body decoded, in pieces of at most PIECE bytes; an encoding we did not ask for
    raises httpx.DecodingError."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    # iter_raw() without a size: a size would hold small stream chunks back until it filled.
    if encoding in ("", "identity"):
        for raw in response.iter_raw():
            for start in range(0, len(raw), PIECE):
                yield raw[start : start + PIECE]
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise httpx.DecodingError(f"unsupported Content-Encoding {encoding!r}")
    inflater = _Inflater("deflate" if encoding == "deflate" else "gzip")
    for raw in response.iter_raw():
        for start in range(0, len(raw), PIECE):  # bounded input keeps each step's copy small
            yield from inflater.pieces(raw[start : start + PIECE])


def read_body(
    response: httpx.Response, limit: int, endpoint: str, *, deadline: float | None = None
) -> bytes:
    """The whole body, decoded; past `limit` bytes (or `deadline`, a monotonic time) reading
    stops with a one-line error. Closes the response."""
    data = bytearray()
    try:
        for piece in iter_decoded(response):
            data += piece
            if len(data) > limit:
                raise errors.ProtocolError(
                    f"{endpoint} sent a reply larger than {size(limit)}; stopped reading it",
                    code="REPLY_TOO_LARGE",
                    endpoint=endpoint,
                )
            if deadline is not None and time.monotonic() > deadline:
                raise errors.Timeout(
                    f"{endpoint} was still sending the reply at the answer deadline",
                    hint="raise ROUTING_MAGICS_ANSWER_DEADLINE if answers this long are expected",
                    endpoint=endpoint,
                )
    finally:
        response.close()
    return bytes(data)


def size(count: int) -> str:
    """Bytes for a message: '16 MiB', '512 KiB'."""
    return f"{count // MIB} MiB" if count >= MIB else f"{count // 1024} KiB"


def read_capped(response: httpx.Response, limit: int) -> str:
    """Up to `limit` bytes of the body as text; closes the response."""
    data = bytearray()
    try:
        for chunk in iter_decoded(response):
            data += chunk
            if len(data) >= limit:
                break
    except (httpx.HTTPError, errors.RoutingError):
        pass  # what arrived is enough to explain the error
    finally:
        response.close()
    return bytes(data[:limit]).decode("utf-8", "replace").strip()
