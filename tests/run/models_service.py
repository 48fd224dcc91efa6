"""A scripted routing.run on loopback that several models answer, for comparisons: each chat
request is answered by its model's `Reply`, streamed word by word with a pause between words
(so answers in flight overlap), and the server notes when each request arrived and ended.
GET /v1/pricing gives `prices`; a model may fail (status and X-Error-Code) or break off.

    with ModelsService({"route/glm-5": Reply(), "route/kimi-k2.5": Reply(fail=502)}) as s:
        ... base URL s.base_url ...
    s.spans  # (model, arrived, ended) of every chat request, in monotonic seconds
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.hostile import head, reply, sse
from tests.run.scripted import ACCOUNT, EchoService

#: USD per million tokens, as GET /v1/pricing lists them.
PRICES = {
    "route/glm-5": (1.0, 3.0),
    "route/kimi-k2.5": (0.5, 2.0),
    "route/deepseek-v3.2": (0.3, 1.0),
    "route/mistral-small-2503": (0.1, 0.3),
}


@dataclass(frozen=True)
class Reply:
    """How one model answers: `text(user_text)` in words `pause` apart, or an error."""

    text: Callable[[str], str] = lambda prompt: prompt.removeprefix("echo: ")
    pause: float = 0.05
    fail: int | None = None  # answer this status (plain text, X-Error-Code) instead
    code: str = "PROVIDER_ERROR"
    break_after: int | None = None  # words, then a streaming error event


class ModelsService(EchoService):
    def __init__(self, replies: dict[str, Reply], prices: dict[str, tuple[float, float]] = PRICES):
        super().__init__(None, ACCOUNT)
        self.replies = replies
        self.pricing = {"models": [{"model": m, "input_per_million": i, "output_per_million": o}
                                   for m, (i, o) in prices.items()]}  # fmt: skip
        self.spans: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def _chat(self, conn: socket.socket, body: dict[str, Any]) -> None:
        arrived, model = time.monotonic(), body["model"]
        try:
            self._answer(conn, body, self.replies[model])
        finally:
            with self._lock:
                self.spans.append((model, arrived, time.monotonic()))

    def _answer(self, conn: socket.socket, body: dict[str, Any], how: Reply) -> None:
        if how.fail is not None:
            text = f"{body['model']} is down".encode()
            return reply(how.fail, text, "text/plain", x_error_code=how.code)(conn, self)
        prompt = str(body["messages"][-1]["content"])
        words = how.text(prompt).split(" ")
        conn.sendall(head(200, content_type="text/event-stream", connection="close"))
        for n, word in enumerate(words):
            if how.break_after is not None and n == how.break_after:
                error = {"error": {"message": "upstream broke off", "code": "STREAM_ERROR"}}
                return conn.sendall(sse(error))
            delta = word if n == 0 else " " + word
            conn.sendall(sse(_chunk(body["model"], delta)))
            time.sleep(how.pause)
        usage = {"prompt_tokens": 10, "completion_tokens": len(words),
                 "total_tokens": 10 + len(words)}  # fmt: skip
        conn.sendall(sse(_chunk(body["model"], "", "stop", usage), "data: [DONE]\n\n"))
        return None

    def chat_models(self) -> list[str]:
        return [body["model"] for body in self.chat_bodies()]


def _chunk(
    model: str, content: str, finish: str | None = None, usage: dict[str, int] | None = None
) -> dict[str, Any]:
    delta = {"content": content} if content else {}
    chunk: dict[str, Any] = {
        "id": "c1",
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def overlapping(spans: list[tuple[str, float, float]]) -> bool:
    """Whether every request arrived before any of them ended: all were in flight at once."""
    return max(arrived for _, arrived, _ in spans) < min(ended for _, _, ended in spans)
