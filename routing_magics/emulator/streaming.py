"""Send an Emission as a real SSE stream: one token per chunk, paced, with faults mid-stream.

The body goes out in HTTP/1.1 chunked framing, one frame per event, so a client sees each event
as soon as it is written, and a `drop` fault (closing without the final zero-length frame) looks
to the client like the broken connection it is rather than a normal end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .emission import Emission
from .faults import MIDSTREAM_ERROR, Fault
from .wire import ResponseMeta, sse


class ClientGone(Exception):
    """The client closed the connection (or the emulator is stopping): stop quietly."""


class DropConnection(Exception):
    """A `drop` fault: close the socket without finishing the response."""


def content_deltas(emission: Emission) -> Iterator[dict[str, Any]]:
    """Content pieces; for a tool call, id and name come with its first argument piece."""
    calls = emission.tool_calls
    for index, piece in enumerate(emission.content):
        if not calls:
            yield {"content": piece}
            continue
        which = emission.call_at(index)
        if index == emission.call_starts[which]:
            call = calls[which]
            function = {"name": call.name, "arguments": piece}
            yield {
                "tool_calls": [
                    {"index": which, "id": call.id, "type": "function", "function": function}
                ]
            }
        else:
            yield {"tool_calls": [{"index": which, "function": {"arguments": piece}}]}


class EventStream:
    """Writes one response's events; `delay` is the pause before each token, in seconds."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        meta: ResponseMeta,
        delay: float,
        stopping: threading.Event,
    ) -> None:
        self._write = write
        self._meta = meta
        self._delay = delay
        self._stopping = stopping
        self._next_at = time.monotonic()

    def send(self, data: Any) -> None:
        payload = sse(data)
        self._write(b"%x\r\n%s\r\n" % (len(payload), payload))

    def end(self) -> None:
        self._write(b"0\r\n\r\n")

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise ClientGone("emulator stopping")

    def pace(self) -> None:
        """Sleep until the next token is due (a schedule, so small sleeps do not drift)."""
        if self._delay <= 0:
            return
        self._next_at += self._delay
        self._wait(self._next_at - time.monotonic())

    def _apply(self, fault: Fault) -> bool:
        """Apply a mid-stream fault; True when it ended the stream."""
        if fault.kind == "midstream_error":
            self.send(MIDSTREAM_ERROR)
            self.end()
            return True
        if fault.kind == "drop":
            raise DropConnection
        if fault.kind == "stall":
            self._wait(fault.seconds)
            self._next_at = time.monotonic()
        return False

    def run(self, emission: Emission, fault: Fault | None, usage: dict[str, int] | None) -> None:
        """The whole stream; `fault` fires after `fault.after` content tokens (or at the end)."""
        meta = self._meta
        self.send(meta.chunk({"role": "assistant"}))
        for piece in emission.reasoning:
            self.pace()
            self.send(meta.chunk({"reasoning_content": piece}))
        for index, delta in enumerate(content_deltas(emission)):
            if fault is not None and index == fault.after and self._apply(fault):
                return
            self.pace()
            self.send(meta.chunk(delta))
        if fault is not None and fault.after >= len(emission.content) and self._apply(fault):
            return
        self.send(meta.chunk({}, emission.finish_reason))
        if usage is not None:
            self.send(meta.usage_chunk(usage))
        self.send("[DONE]")
        self.end()
