"""docs/reference.md cannot drift from the magics' own help.

Its generated tables must be what docs/generate_reference.py writes from `%%route`'s parser, its
docstring and the traitlets today; and every `%%route` option, every `%route` subcommand (the
subcommand table and the docstring's list) and every `%route usage` option must be in it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from routing_magics.ui.commands import SUBCOMMANDS
from routing_magics.ui.magics import RouteMagics
from routing_magics.ui.usage import USAGE_HELP

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference.md"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_reference", ROOT / "docs" / "generate_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_reference", module)
    spec.loader.exec_module(module)
    return module


def reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under `heading` (a whole heading line) up to the next heading of any level."""
    start = text.index(heading + "\n") + len(heading) + 1
    following = re.search(r"^#{1,6} ", text[start:], re.M)
    return text[start : start + following.start()] if following else text[start:]


def docstring_subcommands() -> list[str]:
    """The subcommands the magic's docstring lists after 'a subcommand:', first word of each."""
    doc = RouteMagics.route.parser.description or ""  # type: ignore[attr-defined]
    listed = " ".join(doc.partition("a subcommand:")[2].split())
    assert listed, "the %route docstring no longer lists its subcommands after 'a subcommand:'"
    depth, parts, current = 0, [], ""
    for char in listed.rstrip("."):
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.split()[0] for part in parts if part.strip()]


def route_options() -> list[str]:
    parser = RouteMagics.route.parser  # type: ignore[attr-defined]
    return [name for action in parser._actions for name in action.option_strings if name != "-h"]


def test_generated_tables_are_what_the_magics_help_says_today() -> None:
    generator = load_generator()
    text = reference_text()
    assert set(generator.block_names(text)) == set(generator.GENERATORS)
    assert generator.regenerate(text) == text, (
        "docs/reference.md is out of date: run python docs/generate_reference.py"
    )


@pytest.mark.parametrize("option", route_options())
def test_every_route_option_is_in_the_reference(option: str) -> None:
    assert f"`{option}`" in section(reference_text(), "## `%%route`, the cell magic"), option


@pytest.mark.parametrize("word", sorted(set(SUBCOMMANDS) | set(docstring_subcommands())))
def test_every_subcommand_has_its_section(word: str) -> None:
    heading = f"### `%route {word}`"
    assert heading + "\n" in reference_text(), f"docs/reference.md needs a section {heading}"


def test_the_docstring_lists_every_subcommand_of_the_table() -> None:
    assert set(SUBCOMMANDS) <= set(docstring_subcommands())


@pytest.mark.parametrize("option", re.findall(r"-{1,2}[a-z]+", USAGE_HELP))
def test_every_usage_option_is_in_its_table(option: str) -> None:
    usage = section(reference_text(), "### `%route usage`")
    assert re.search(rf"^\| `{re.escape(option)}\b", usage, re.M), option


@pytest.mark.parametrize("trait", sorted(RouteMagics.class_traits(config=True)))
def test_every_setting_is_in_the_reference(trait: str) -> None:
    assert f"| `{trait}` |" in section(reference_text(), "## Settings")


def test_a_missing_option_would_be_noticed() -> None:
    """The check above bites: a reference without `--schema` fails it."""
    text = reference_text().replace("`--schema`", "`--schem`")
    assert "`--schema`" not in section(text, "## `%%route`, the cell magic")
    assert load_generator().regenerate(text) != text
