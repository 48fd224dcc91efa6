"""The `%%route` cell options, checked: each bad value is one UsageError line saying what to do."""

from __future__ import annotations

import argparse
import builtins
import keyword
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple, cast

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.process import arg_split

from ..display.protocols import FORMATS, Format
from ..prompt.prepare import interpolate, placeholders, text_of
from ..run.options import RunOptions

if TYPE_CHECKING:
    from ..run.structured import StructuredUse, Via

# IPython's output history (_1, _i1, _ii, …): rebinding one confuses the shell.
_HISTORY_NAME = re.compile(r"_+|_i+|_i?\d+|_[iod]h")


class OptionDefaults(NamedTuple):
    """What a cell gets when it says nothing: the traits and `%route cache`."""

    rows: int
    max_tokens: int | None
    cache: bool
    schema_via: str = "auto"
    schema_repairs: int = 1


def cell_options(
    args: argparse.Namespace, defaults: OptionDefaults, shell: InteractiveShell | None
) -> tuple[RunOptions, str | None, Format]:
    """The run options, the `-o` name and the format of a cell's parsed options."""
    if args.temperature is not None and not 0 <= args.temperature <= 2:
        raise UsageError(f"-t {args.temperature}: temperature must be between 0 and 2")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError(f"-m {args.max_tokens}: max tokens must be a positive integer")
    rows = defaults.rows if args.rows is None else args.rows  # checked where it is used
    if args.into is not None and args.each is None:  # a single answer has no frame to join
        raise UsageError(f"--into {args.into} goes with --each NAME: it adds every row's answer "
                         "to that frame as a column; a single answer binds with -o")  # fmt: skip
    if args.overwrite and (args.each is None or args.into is None):
        raise UsageError("--overwrite goes with --each NAME --into COL: it lets the answers "
                         "replace a column the frame has")  # fmt: skip
    if args.yes and args.each is None:
        raise UsageError("--yes goes with --each NAME: it sends a batch without asking about "
                         "its estimated cost")  # fmt: skip
    if args.out is not None:
        check_out_name(args.out, shell)
    if args.format not in FORMATS:
        raise UsageError(f"--format {args.format}: use one of {', '.join(FORMATS)}")
    options = RunOptions(
        model=args.model,
        system=args.system,
        temperature=args.temperature,
        max_tokens=defaults.max_tokens if args.max_tokens is None else args.max_tokens,
        df=args.df,
        rows=rows,
        chat=args.chat,
        stream=not args.no_stream,
        cache=args.cache or defaults.cache,
        schema=_structured(args, defaults, shell),
    )
    return options, args.out, cast(Format, args.format)


def check_out_name(name: str, shell: InteractiveShell | None, example: str = "answer") -> None:
    """`-o NAME` must be a variable name that does not belong to Python or IPython."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"-o {name}: not a Python variable name; try -o {example}")
    if _reserved(name, shell):
        raise UsageError(f"-o {name}: that name belongs to Python or IPython, and "
                         f"rebinding it would break later cells; try -o {example}")  # fmt: skip


def _reserved(name: str, shell: InteractiveShell | None) -> bool:
    """Builtins, dunders, IPython's own names (get_ipython, In, Out, exit) and history."""
    hidden = getattr(shell, "user_ns_hidden", {})
    dunder = name.startswith("__") and name.endswith("__")
    return (
        dunder or name in hidden or hasattr(builtins, name) or bool(_HISTORY_NAME.fullmatch(name))
    )


def option_argv(line: str, namespace: Mapping[str, object]) -> list[str]:
    """The options line as arguments, split before `{name}` is filled inside each one.

    Filling first (as IPython does) would let a value's spaces, quotes and dashes become
    options of their own. Here a value is always one argument; one that starts with a dash
    goes to the option before it (`-s {x}` → `-s=<x>`), and an option's name is never a
    value's. ValueError (shlex) for an unclosed quote."""
    argv: list[str] = []
    for written in map(_unquote, arg_split(line)):
        filled = interpolate(written, namespace, render_value=text_of)
        if filled == written or not filled.startswith("-"):
            argv.append(filled)
        elif written.startswith("-") and not _fills(written.partition("=")[0], namespace):
            argv.append(filled)  # `--system={x}`: the option is written, the value is x's
        elif argv and argv[-1].startswith("-") and "=" not in argv[-1]:
            argv[-1] = f"{argv[-1]}={filled}"
        else:
            name = next(n for n in placeholders(written) if n in namespace)
            raise UsageError(f"{{{name}}} gives {filled[:40]!r}, which would read as an option; "
                             f"options are written in the line, a value only fills one, e.g. "
                             f"-s {{{name}}}")  # fmt: skip
    return argv


def _fills(text: str, namespace: Mapping[str, object]) -> bool:
    """Whether `{name}` in `text` names a notebook value."""
    return any(name in namespace for name in placeholders(text))


def _unquote(text: str) -> str:
    """Drop one pair of outer quotes: IPython splits like a shell but keeps them."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _structured(
    args: argparse.Namespace, defaults: OptionDefaults, shell: InteractiveShell | None
) -> StructuredUse | None:
    """`--schema SPEC` read against the notebook (a bad SPEC is one line, before any request)."""
    spec: str | None = getattr(args, "schema", None)
    if not spec:
        return None
    from ..api.errors import RoutingError
    from ..prompt.schema import schema_from_spec
    from ..run.structured import StructuredUse

    if args.tools or args.format in ("code", "json"):
        raise UsageError("--schema gives one object: drop --tools and --format code/json")
    if defaults.schema_repairs < 0:
        raise UsageError("RouteMagics.schema_repairs: give 0 or more repair turns")
    try:
        schema = schema_from_spec(spec, shell.user_ns if shell is not None else {})
    except RoutingError as exc:
        from .advice import notebook_message

        raise UsageError(notebook_message(exc)) from None
    via = cast("Via", defaults.schema_via)
    return StructuredUse(schema, via, defaults.schema_repairs)
