"""The settings of how an answer is asked for and checked (`--schema`, `--tools`), as traitlets
that RouteMagics inherits: `%config RouteMagics.schema_repairs = 2` sets them."""

from __future__ import annotations

from traitlets import Enum, HasTraits, Int

from ..run.options import DEFAULT_MAX_TOOL_CALLS


class AnswerTraits(HasTraits):
    """`--schema`'s way of asking and repair turns; `--tools`' calls per turn."""

    schema_via = Enum(
        ["auto", "tool", "text"],
        "auto",
        help="How --schema asks: a function the "
        "model must call, or the system message; auto: by route.",
    ).tag(config=True)
    schema_repairs = Int(1, help="Repair turns after an answer that misses --schema.").tag(
        config=True
    )
    max_tool_calls = Int(
        DEFAULT_MAX_TOOL_CALLS,
        help="Most tool calls run from one model turn (--tools); the rest go back as not run.",
    ).tag(config=True)
