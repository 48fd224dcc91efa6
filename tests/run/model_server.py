"""A scripted model on loopback for `--schema`: answers each chat request like a compliant model
(the forced tool's call, or JSON in the text) or like a careless one (wrong values first).

    with ModelServer(careless({"score": "n/a"}, {"score": 0.5})) as model:
        ... base URL model.base_url ...
    model.chat_bodies()  # what every chat request sent
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

from tests.hostile import reply, sse
from tests.run.scripted import Answer, EchoService

#: Given a request's body and how many chat requests came before it, the object to answer.
Policy = Callable[[dict[str, Any], int], dict[str, Any]]
USAGE = {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}


def compliant(value: dict[str, Any]) -> Policy:
    return lambda body, n: value


def careless(first: dict[str, Any], then: dict[str, Any]) -> Policy:
    """A wrong object first, then the right one (a model that listens to a repair turn)."""
    return lambda body, n: first if n == 0 else then


def per_row(values: dict[str, dict[str, Any]], wrong: dict[str, Any] | None = None) -> Policy:
    """The object for the first key found in the request's user text; `wrong` when none is."""

    def policy(body: dict[str, Any], n: int) -> dict[str, Any]:
        text = " ".join(str(m.get("content")) for m in body["messages"] if m["role"] == "user")
        return next((v for k, v in values.items() if k in text), wrong or {})

    return policy


class ModelServer(EchoService):
    """Answers every chat request with `policy`'s object, through the tool when one is forced."""

    def __init__(self, policy: Policy, first: Answer | None = None) -> None:
        super().__init__(first)
        self._policy, self._answered = policy, 0

    def _chat(self, conn: socket.socket, body: dict[str, Any]) -> None:
        value = self._policy(body, self._answered)
        self._answered += 1
        text = json.dumps(value)
        if body.get("tool_choice"):
            call = {"index": 0, "id": f"call_{self._answered}", "type": "function",
                    "function": {"name": "record_answer", "arguments": text}}  # fmt: skip
            delta: dict[str, Any] = {"tool_calls": [call]}
            finish = "tool_calls"
        else:
            delta, finish = {"content": f"Here it is:\n```json\n{text}\n```"}, "stop"
        event = {"id": "c1", "model": body["model"], "usage": USAGE,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        reply(200, sse(event, "data: [DONE]\n\n"), "text/event-stream")(conn, self)
