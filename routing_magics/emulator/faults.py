"""Faults queued on the emulator: error statuses, broken streams, stalls, drops, slow streams.

Faults apply to `POST /v1/chat/completions` only. They queue first in, first out; each request
takes the head fault and uses up one of its `times` (the fault leaves the queue at zero), so
`inject("PROVIDER_ERROR", times=2)` makes two requests fail and the third succeed.

    an X-Error-Code    that status, a plain-text body, X-Error-Code, Retry-After if given
    midstream_error    `after` content tokens, then a {"error": …} event, no [DONE];
                       unstreamed: 502 PROVIDER_ERROR
    stall              sleep `seconds` before the response (after == 0, or unstreamed),
                       else after `after` content tokens
    drop               close the socket with no response (after == 0, or unstreamed), else
                       after `after` content tokens, without the end of the chunked body
    slow               one token per `seconds` (unstreamed: the reply waits seconds × tokens)
    invalid_structured the next structured answer (`--schema`, either path) breaks its schema:
                       a number field says "n/a", a required field is missing (structured.py);
                       a request that asks for no structure passes it by, and it waits

An `after` beyond the answer's length fires at its end, before the finish chunk. A tool call's
argument pieces count as content tokens; reasoning tokens never do.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

#: X-Error-Code → (HTTP status, plain-text message) for the error faults.
ERROR_STATUSES: dict[str, tuple[int, str]] = {
    "INVALID_MODEL": (400, "Invalid model"),
    "AUTHENTICATION_ERROR": (401, "Invalid or missing API key"),
    "MODEL_NOT_ALLOWED": (403, "Your plan does not include this model"),
    "DAILY_REQUEST_LIMIT_EXCEEDED": (429, "Daily request limit exceeded"),
    "RATE_LIMIT_EXCEEDED": (429, "Rate limit exceeded; slow down and retry"),
    "PROVIDER_ERROR": (502, "All providers in the routing chain failed"),
    "PROVIDER_TIMEOUT": (504, "Upstream provider timed out"),
}

#: Faults that bend a response instead of replacing it with an error status.
STREAM_FAULTS = ("midstream_error", "stall", "drop", "slow")

#: Faults that change what an answer says: only structured requests take them.
ANSWER_FAULTS = ("invalid_structured",)

FAULT_KINDS: tuple[str, ...] = (*ERROR_STATUSES, *STREAM_FAULTS, *ANSWER_FAULTS)

#: The event a `midstream_error` fault sends inside a 200 stream.
MIDSTREAM_ERROR_TEXT = "Upstream provider disconnected"
MIDSTREAM_ERROR = {"error": {"message": MIDSTREAM_ERROR_TEXT, "type": "api_error"}}


@dataclass(frozen=True)
class Fault:
    """One queued fault; `after` counts content tokens, `seconds` is a stall or per-token delay."""

    kind: str
    times: int = 1
    after: int = 0
    seconds: float = 0.0
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.times < 1 or self.after < 0 or self.seconds < 0:
            raise ValueError("fault needs times >= 1, after >= 0 and seconds >= 0")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_STATUSES

    @property
    def spoils_answer(self) -> bool:
        return self.kind in ANSWER_FAULTS

    @property
    def status(self) -> int:
        return ERROR_STATUSES[self.kind][0] if self.is_error else 200

    @property
    def message(self) -> str:
        return ERROR_STATUSES[self.kind][1] if self.is_error else MIDSTREAM_ERROR_TEXT

    def fires_before_headers(self, streaming: bool) -> bool:
        """Stalls and drops act before the response starts unless they wait for tokens
        of a stream (`after` > 0); an unstreamed response has no "mid-way"."""
        return self.kind in ("stall", "drop") and (self.after == 0 or not streaming)

    def retry_after_header(self) -> str | None:
        """The Retry-After value: whole seconds stay integers ('2', not '2.0')."""
        if self.retry_after is None:
            return None
        return f"{self.retry_after:g}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fault_from_json(data: Any) -> Fault:
    """A Fault from the control surface's JSON; ValueError names what is wrong."""
    if not isinstance(data, Mapping) or not isinstance(data.get("kind"), str):
        raise ValueError('expected a JSON object with a string "kind"')
    try:
        retry_after = data.get("retry_after")
        return Fault(
            kind=data["kind"],
            times=int(data.get("times", 1)),
            after=int(data.get("after", 0)),
            seconds=float(data.get("seconds", 0.0)),
            retry_after=None if retry_after is None else float(retry_after),
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad fault: {exc}") from None


class FaultQueue:
    """Thread-safe FIFO of faults; `take()` hands out the head and counts one use.

    A fault only hits requests that arrived after it was queued, so a straggler from an
    earlier scenario (a request still in flight when its test ended) cannot steal it; and an
    answer fault only hits a structured request, so "the next N structured answers" holds
    whatever plain requests come between.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[Fault, float]] = deque()

    def push(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append((fault, time.monotonic()))

    def take(self, arrived: float | None = None, structured: bool = False) -> Fault | None:
        """The head fault for a request that arrived at `arrived` (monotonic clock);
        `structured`: whether the request asks for a structured answer."""
        with self._lock:
            if not self._queue:
                return None
            head, queued = self._queue[0]
            early = arrived is not None and arrived < queued
            if early or (head.spoils_answer and not structured):
                return None
            if head.times <= 1:
                self._queue.popleft()
            else:
                self._queue[0] = (replace(head, times=head.times - 1), queued)
            return replace(head, times=1)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [fault for fault, _ in self._queue]
