"""run/toolbox.py: one call as the model asked for it — run, refused, declined or failed."""

from __future__ import annotations

import json

import pytest

from routing_magics.api.errors import ConfigurationError
from routing_magics.api.models import ToolCall
from routing_magics.display.protocols import ToolCallInfo
from routing_magics.run.toolbox import (
    RESULT_CHARS,
    Toolbox,
    ToolCallRecord,
    assistant_message,
    call_label,
    capped_result,
    error_line,
    tool_message,
)


class Blocks:
    """A view that records tool blocks (the only thing Toolbox.run draws)."""

    def __init__(self) -> None:
        self.calls: list[ToolCallInfo] = []

    def tool_call(self, call: ToolCallInfo) -> None:
        self.calls.append(call)


def double(n: int) -> int:
    """Twice n."""
    return 2 * n


def stop(n: int) -> int:
    raise KeyboardInterrupt


BOX = Toolbox({"double": double, "stop": stop})


def run(name: str, arguments: str, **kw: object) -> tuple[ToolCallRecord, list[ToolCallInfo]]:
    view = Blocks()
    record = BOX.run(ToolCall("c1", name, arguments), step=1, index=0, view=view, **kw)  # type: ignore[arg-type]
    return record, view.calls


def test_a_call_runs_and_its_block_goes_running_then_done() -> None:
    record, blocks = run("double", '{"n": 21}', confirm=None)
    assert (record.result, record.error, record.kwargs) == ("42", None, {"n": 21})
    assert [(b.state, b.result) for b in blocks] == [("running", ""), ("done", "42")]
    assert blocks[0].label == "double(n=21)"
    assert tool_message(record) == {"role": "tool", "tool_call_id": "c1", "content": "42"}


DEEP = "the arguments are nested deeper than 32 levels; send them flatter"


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("triple", "{}", "no tool named 'triple'; the tools are double, stop"),
        ("double", "{not json", "the arguments are not a JSON object: {not json"),
        ("double", "[1]", "the arguments are not a JSON object: [1]"),
        ("double", '{"m": 1}', "TypeError: double() got an unexpected keyword argument 'm'"),
        ("double", '{"n": ' + "[" * 33 + "]" * 33 + "}", DEEP),
        ("double", '{"n": ' + "{" * 50_000, DEEP),  # counted before parsing, so never parsed
    ],
)
def test_what_cannot_run_goes_back_as_an_error(name: str, arguments: str, error: str) -> None:
    record, blocks = run(name, arguments, confirm=None)
    assert record.result is None and record.error == error
    assert blocks[-1].state == "failed"
    assert tool_message(record)["content"] == f"Error: {error}"


def test_arguments_as_deep_as_the_bound_or_with_brackets_in_strings_run() -> None:
    nested = "[" * 31 + "]" * 31
    record, _ = run("double", '{"n": ' + nested + "}", confirm=None)
    assert record.error is None and record.result is not None  # 32 levels with the braces: ran
    record, _ = run("double", json.dumps({"n": "[{" * 100}), confirm=None)
    assert record.error is None and record.result == "[{" * 200


def test_ctrl_c_inside_a_tool_is_not_swallowed() -> None:
    with pytest.raises(KeyboardInterrupt):
        run("stop", '{"n": 1}', confirm=None)


def test_declined_calls_do_not_run() -> None:
    record, blocks = run("double", '{"n": 1}', confirm=lambda question: False)
    assert record.error == "the user declined to run this call" and blocks[-1].state == "declined"


def test_results_are_capped_and_errors_are_one_line() -> None:
    assert capped_result("x" * RESULT_CHARS) == "x" * RESULT_CHARS
    note = f"the result has {RESULT_CHARS + 1:,} characters, the first {RESULT_CHARS:,} are shown"
    assert capped_result("x" * (RESULT_CHARS + 1)).endswith(f"(cut: {note})")
    assert error_line(ValueError("first\nsecond")) == "ValueError: first"
    assert error_line(KeyError()) == "KeyError"


def test_labels_read_like_python_and_cut_long_values() -> None:
    assert call_label("f", {"s": 'a"b', "n": 1.5, "b": True, "l": [1]}) == (
        'f(s="a\\"b", n=1.5, b=True, l=[1])'
    )
    assert call_label("f", {"s": "y" * 100}).endswith("…)")
    assert call_label("f", {"s": "y" * 100}, limit=0) == f'f(s="{"y" * 100}")'
    assert call_label("f", None, "{broken") == "f({broken)"


def test_the_models_turn_goes_back_with_its_calls() -> None:
    message = assistant_message("", [ToolCall("c1", "double", '{"n": 2}')])
    assert message == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "double", "arguments": '{"n": 2}'},
            }
        ],
    }


def test_names_that_are_not_functions_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="--tools x: the notebook has an int"):
        Toolbox.from_namespace(["x"], {"x": 1})
