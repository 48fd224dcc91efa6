"""prompt/tool_schema.py: a notebook function's signature → the tool's JSON schema."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import pytest

from routing_magics.api.errors import ConfigurationError
from routing_magics.prompt.tool_schema import tool_schema


def rows_where(city: str, min_amount: float = 0) -> int:
    """How many sales rows are in `city` with at least `min_amount`.

    Reads the global `sales` frame; this second paragraph is not sent.
    """
    return 0


def test_names_types_defaults_and_first_paragraph() -> None:
    assert tool_schema("rows_where", rows_where) == {
        "type": "function",
        "function": {
            "name": "rows_where",
            "description": "How many sales rows are in `city` with at least `min_amount`.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "min_amount": {"type": "number", "default": 0},
                },
                "required": ["city"],
            },
        },
    }


def everything(
    n: int,
    flag: bool,
    names: list[str],
    unit: Literal["C", "F"],
    tags: list,
    options: dict[str, int],
    note: Annotated[str, "A note for the log"],
    limit: Optional[int] = None,  # noqa: UP045 - the typing spelling is what users write
    scale: float | None = 1.5,
    anything=3,  # no hint: any JSON value
) -> None:
    pass


def test_each_supported_hint() -> None:
    props = tool_schema("everything", everything)["function"]["parameters"]["properties"]
    assert props == {
        "n": {"type": "integer"},
        "flag": {"type": "boolean"},
        "names": {"type": "array", "items": {"type": "string"}},
        "unit": {"enum": ["C", "F"]},
        "tags": {"type": "array"},
        "options": {"type": "object"},
        "note": {"type": "string", "description": "A note for the log"},
        "limit": {"type": "integer", "default": None},
        "scale": {"type": "number", "default": 1.5},
        "anything": {"default": 3},
    }
    required = tool_schema("everything", everything)["function"]["parameters"]["required"]
    assert required == ["n", "flag", "names", "unit", "tags", "options", "note"]
    assert "description" not in tool_schema("everything", everything)["function"]


class Frame:
    pass


def takes_frame(df: Frame) -> None:
    pass


def takes_union(x: int | str) -> None:
    pass


def takes_star(*rows: int) -> None:
    pass


def takes_kwargs(**extra: int) -> None:
    pass


def positional(x: int, /) -> None:
    pass


@pytest.mark.parametrize(
    ("func", "named"),
    [
        (takes_frame, "parameter `df` has a type the model cannot send: Frame"),
        (takes_union, "parameter `x` has a type the model cannot send: the union"),
        (takes_star, "parameter `rows` cannot be passed by name"),
        (takes_kwargs, "parameter `extra` cannot be passed by name"),
        (positional, "parameter `x` cannot be passed by name"),
    ],
)
def test_what_cannot_be_described_is_a_one_line_error_naming_the_parameter(
    func: object, named: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        tool_schema("f", func)  # type: ignore[arg-type]
    message = str(raised.value)
    assert message.startswith(f"--tools f: {named}") and "\n" not in message


def test_a_builtin_without_a_signature_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="--tools f: its signature cannot be read"):
        tool_schema("f", max)
