"""What a hostile model's tool turn can do to a cell (issue 21, item 6): ask for thousands of
calls at once (the first `max_tool_calls` run, the rest go back to it as not run, and the cell
says so), or send arguments nested thousands deep (that call fails, in one line to the model,
not the cell). A scripted routing.run on loopback asks; a real shell runs the cell."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from routing_magics.run.options import DEFAULT_MAX_TOOL_CALLS
from tests.helpers import Harness, one_line
from tests.hostile import reply, sse
from tests.run.flows import MODEL, visible
from tests.run.scripted import Answer, EchoService

TALLY = '''
ran = []

def tally(n: int = 0, data: list | None = None) -> str:
    """Count one call."""
    ran.append(n)
    return f"counted {n}"
'''
CELL = f"%%route {MODEL} --tools tally -o r\ncount them"


def tool_turn(arguments: list[str]) -> Answer:
    """A model turn that asks for `tally` once per entry of `arguments`, in one chunk."""
    wire = [
        {"index": i, "id": f"call_{i}", "type": "function",
         "function": {"name": "tally", "arguments": text}}
        for i, text in enumerate(arguments)
    ]  # fmt: skip
    delta = {"role": "assistant", "tool_calls": wire}
    choice = {"index": 0, "delta": delta, "finish_reason": "tool_calls"}
    usage = {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}
    body = sse(
        {"id": "c1", "model": MODEL, "choices": [choice], "usage": usage}, "data: [DONE]\n\n"
    )

    def answer(conn: socket.socket, request: dict[str, Any]) -> None:
        reply(200, body, "text/event-stream")(conn, None)  # type: ignore[arg-type]

    return answer


Serve = Callable[[list[str]], EchoService]


@pytest.fixture
def serve(h: Harness) -> Iterator[Serve]:
    """Point the shell at a scripted service whose first answer asks for these calls."""
    h.ok(TALLY)
    with contextlib.ExitStack() as stack:

        def start(arguments: list[str]) -> EchoService:
            service = stack.enter_context(EchoService(first=tool_turn(arguments)))
            h.ok(f"%config RouteMagics.base_url = {service.base_url!r}")
            return service

        yield start


def tool_messages(service: EchoService) -> list[dict[str, Any]]:
    """The tool messages of the second request: what the model was told of its calls."""
    bodies = service.chat_bodies()
    assert len(bodies) == 2
    return [m for m in bodies[1]["messages"] if m["role"] == "tool"]


def test_one_turn_asking_for_5000_calls_runs_the_bound_and_refuses_the_rest(
    h: Harness, serve: Serve
) -> None:
    service = serve([json.dumps({"n": i}) for i in range(5_000)])
    cell = h.ok(CELL)
    bound = DEFAULT_MAX_TOOL_CALLS
    assert h.shell.user_ns["ran"] == list(range(bound))
    answers = tool_messages(service)
    assert len(answers) == 5_000  # every call the model asked for is answered
    assert [m["content"] for m in answers[:bound]] == [f"counted {i}" for i in range(bound)]
    refused = answers[bound]["content"]
    assert refused.startswith("Error: not run:") and "\n" not in refused
    assert {m["content"] for m in answers[bound:]} == {refused}
    assert (
        f"The model asked for 5,000 tool calls in one turn: the first {bound} ran, the other "
        f"{5_000 - bound:,} did not (at most {bound} a turn; "
        "%config RouteMagics.max_tool_calls sets it)."
    ) in visible(cell)
    assert visible(cell).count("tally(n=") == bound  # a block per call that ran, no more
    calls = h.shell.user_ns["r"].tool_calls
    assert len(calls) == 5_000 and calls[-1].error == refused.removeprefix("Error: ")


def test_the_bound_is_a_setting(h: Harness, serve: Serve) -> None:
    h.ok("%config RouteMagics.max_tool_calls = 2")
    serve([json.dumps({"n": i}) for i in range(5)])
    cell = h.ok(CELL)
    assert h.shell.user_ns["ran"] == [0, 1]
    assert "the first 2 ran, the other 3 did not (at most 2 a turn" in visible(cell)
    h.ok("%config RouteMagics.max_tool_calls = 0")
    message = one_line(h.run(CELL).error)
    assert "max_tool_calls" in message and "at least 1" in message


def test_a_turn_within_the_bound_says_nothing_of_it(h: Harness, serve: Serve) -> None:
    serve([json.dumps({"n": i}) for i in range(3)])
    cell = h.ok(CELL)
    assert h.shell.user_ns["ran"] == [0, 1, 2]
    assert "did not (at most" not in visible(cell)


@pytest.mark.parametrize("depth", [100_000, 40], ids=["100,000 deep", "40 deep"])
def test_arguments_nested_too_deep_fail_that_call_not_the_cell(
    h: Harness, serve: Serve, depth: int
) -> None:
    deep = '{"data": ' + "[" * depth + "]" * depth + "}"
    service = serve([deep, json.dumps({"n": 7, "data": [[["fine"]]]})])
    cell = h.ok(CELL)  # no RecursionError, no traceback
    assert "Traceback" not in visible(cell) and "RecursionError" not in visible(cell)
    assert h.shell.user_ns["ran"] == [7]
    first, second = tool_messages(service)
    assert first["content"].startswith("Error: the arguments are nested deeper than ")
    assert "\n" not in first["content"]
    assert second["content"] == "counted 7"
    assert h.shell.user_ns["r"].tool_calls[0].error == first["content"].removeprefix("Error: ")
