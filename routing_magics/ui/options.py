"""The `%%route` cell options, checked: each bad value is one UsageError line saying what to do."""

from __future__ import annotations

import argparse
import builtins
import keyword
import re
from typing import NamedTuple, cast

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from ..display.protocols import FORMATS, Format
from ..run.options import RunOptions

# IPython's output history (_1, _i1, _ii, …): rebinding one confuses the shell.
_HISTORY_NAME = re.compile(r"_+|_i+|_i?\d+|_[iod]h")


class OptionDefaults(NamedTuple):
    """What a cell gets when it says nothing: the traits and `%route cache`."""

    rows: int
    max_tokens: int | None
    cache: bool


def cell_options(
    args: argparse.Namespace, defaults: OptionDefaults, shell: InteractiveShell | None
) -> tuple[RunOptions, str | None, Format]:
    """The run options, the `-o` name and the format of a cell's parsed options."""
    if args.temperature is not None and not 0 <= args.temperature <= 2:
        raise UsageError(f"-t {args.temperature}: temperature must be between 0 and 2")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError(f"-m {args.max_tokens}: max tokens must be a positive integer")
    rows = defaults.rows if args.rows is None else args.rows  # checked where it is used
    if args.overwrite and (args.each is None or args.into is None):
        raise UsageError("--overwrite goes with --each NAME --into COL: it lets the answers "
                         "replace a column the frame has")  # fmt: skip
    if args.out is not None:
        check_out_name(args.out, shell)
    if args.format not in FORMATS:
        raise UsageError(f"--format {args.format}: use one of {', '.join(FORMATS)}")
    options = RunOptions(
        model=args.model,
        system=_unquote(args.system),
        temperature=args.temperature,
        max_tokens=defaults.max_tokens if args.max_tokens is None else args.max_tokens,
        df=args.df,
        rows=rows,
        chat=args.chat,
        stream=not args.no_stream,
        cache=args.cache or defaults.cache,
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


def _unquote(text: str | None) -> str | None:
    """Drop one pair of outer quotes: magic_arguments splits like a shell but keeps them."""
    if text and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
