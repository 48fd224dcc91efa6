"""Write the generated parts of docs/reference.md from the magics' own help.

    python docs/generate_reference.py           # rewrite the generated blocks in place
    python docs/generate_reference.py --check   # exit 1 when they are out of date

Three blocks come from the code, never by hand: the `%%route` options (the argparse parser that
`%%route?` prints), the magic's docstring (what `%route help` prints above the options), and the
`%config RouteMagics.<trait>` settings (the traitlets and their help). Each sits between
`<!-- generated: NAME -->` and `<!-- end generated -->`; everything else in the page is prose.
tests/docs/test_reference.py runs the check, so the reference cannot drift from `%%route?`.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "reference.md"
BLOCK = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S
)


def route_parser() -> argparse.ArgumentParser:
    """The parser `%%route?` prints (IPython's magic_arguments keeps it on the function)."""
    from routing_magics.ui.magics import RouteMagics

    parser: argparse.ArgumentParser = RouteMagics.route.parser  # type: ignore[attr-defined]
    return parser


def option_rows() -> list[tuple[str, str, str, str]]:
    """(option, value, default, help) for every option of `%%route`, in the parser's order."""
    rows = []
    for action in route_parser()._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        metavar = action.metavar or action.dest.upper()
        names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{metavar}`"
        takes_value = action.nargs != 0 and bool(action.option_strings)
        value = f"`{metavar}`" if takes_value else ""
        default = action.default
        shown = "" if default in (None, False) or not takes_value else f"`{default}`"
        help_text = (action.help or "").replace("%%", "%").replace("|", "\\|")
        rows.append((names, value, shown, help_text))
    return rows


def synopsis_block() -> str:
    """`%%route [MODEL] [-s SYSTEM] …`, one bracket per option, wrapped at 96 columns."""
    words = ["%%route"]
    for name, value, _default, _help in option_rows():
        first = name.split(", ")[0].strip("`")
        words.append(f"[{first} {value.strip('`')}]" if value else f"[{first}]")
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > 96:
            lines.append(line)
            line = "       "
        line = f"{line} {word}" if line.strip() else f"{line}{word}"
    lines.append(line)
    body = "\n".join(lines)
    return f"```text\n{body}\nprompt text, with {{name}} replaced by notebook values\n```\n"


def options_block() -> str:
    lines = ["| option | value | default | what it does |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in option_rows()]
    return "\n".join(lines) + "\n"


def docstring_block() -> str:
    description = route_parser().description or ""
    return "```text\n" + inspect.cleandoc(description) + "\n```\n"


def trait_rows() -> list[tuple[str, str, str]]:
    """(trait, default, help) for every `%config RouteMagics.<trait>` setting."""
    from routing_magics.ui.magics import RouteMagics

    rows = []
    traits = RouteMagics.class_traits(config=True)
    dynamic = {  # defaults computed at run time (@default), wherever in the class tree
        name
        for cls in RouteMagics.__mro__
        for name in vars(cls).get("_trait_default_generators", {})
    }
    for name in sorted(traits):
        trait = traits[name]
        default = "from the environment" if name in dynamic else f"`{trait.default_value!r}`"
        help_text = str(trait.help).replace("|", "\\|").replace("\n", " ")
        rows.append((f"`{name}`", default, help_text))
    return rows


def settings_block() -> str:
    lines = ["| `RouteMagics.` | default | what it sets |", "|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in trait_rows()]
    return "\n".join(lines) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "route-synopsis": synopsis_block,
    "route-options": options_block,
    "route-docstring": docstring_block,
    "settings": settings_block,
}


def regenerate(text: str) -> str:
    """`text` with every generated block rewritten; an unknown block name is an error."""

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in GENERATORS:
            raise KeyError(f"no generator for the block {name!r} in {REFERENCE.name}")
        return match.group(1) + GENERATORS[name]() + match.group(4)

    return BLOCK.sub(fill, text)


def block_names(text: str) -> list[str]:
    return [match["name"] for match in BLOCK.finditer(text)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when out of date")
    args = parser.parse_args(argv)
    current = REFERENCE.read_text(encoding="utf-8")
    fresh = regenerate(current)
    if args.check:
        if fresh != current:
            print(f"{REFERENCE} is out of date: run python docs/generate_reference.py")
            return 1
        return 0
    REFERENCE.write_text(fresh, encoding="utf-8")
    return 0


def _repo_on_path() -> None:
    """Import routing_magics from this checkout, whatever the working directory."""
    root = str(REFERENCE.parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)


if __name__ == "__main__":
    _repo_on_path()
    raise SystemExit(main())
