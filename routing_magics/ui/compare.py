"""`%%route route/a,route/b …`: several models in one cell, the shell over run/compare.py.

What does not combine with several models is refused in one line before anything is sent:
`--chat` (one conversation has one model: whose answer would it continue with?), `--tools` (a
tool runs notebook code: once per model would run it several times) and `--format code` (one
new cell, several answers). `--dry-run` shows each model's request; `--each` sends every row to
every model (ui/compare_each.py). A failing model shows its error in its column and its row of
the figures; the cell fails only when no model answered, or when the user stopped it.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from IPython.core.error import UsageError
from IPython.display import display

from .advice import STOPPED_CELL, Stopped, notebook_message
from .views import is_rich

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..display.protocols import Bundle, DisplayMode, Format
    from ..run.comparison import Comparison
    from ..run.options import RunOptions
    from .compare_each import Magics


def several_models(model: str | None) -> bool:
    """Whether the cell names several models (`route/a,route/b`)."""
    return model is not None and "," in model


def check_combinations(args: argparse.Namespace) -> None:
    """One line for each option that cannot go with several models."""
    refused = [
        ("--chat", args.chat, "a conversation continues with one model"),
        ("--tools", args.tools, "a tool would run once per model"),
        ("--confirm", args.confirm, "it goes with --tools"),
        ("--max-steps", args.max_steps is not None, "it goes with --tools"),
        ("--format code", args.format == "code", "one new cell cannot hold several answers"),
    ]
    for flag, given, why in refused:
        if given:
            raise UsageError(f"{flag} does not combine with several models ({why}); name one "
                             f"model to use {flag}")  # fmt: skip


def compare_cell(
    magics: Magics, template: str, options: RunOptions, args: argparse.Namespace,
    out: str | None, fmt: Format,
) -> None:  # fmt: skip
    """Run a cell that names several models: its dry run, its batch, or its comparison."""
    from ..run.compare import parse_models

    check_combinations(args)
    models = parse_models(args.model)
    shell = magics.shell
    assert shell is not None  # magics only run inside a shell
    mode = cast("DisplayMode", magics.display_mode)
    options = replace(options, notebook=magics.cells.context(args.cells))
    if args.each is not None:
        from .compare_each import compare_each

        return compare_each(magics, template, options, models, args)
    if args.dry_run:
        return _dry_runs(magics, shell, template, options, models, mode, out)
    comparison = compare(magics, shell, template, options, models, mode=mode, fmt=fmt)
    if out:
        shell.user_ns[out] = comparison
    _fail_if_none_answered(comparison)
    return None


def compare_line(magics: Magics, models: str, prompt: str) -> None:
    """`%route route/a,route/b prompt…`: the one-line form, as a cell with no options."""
    from ..run.compare import parse_models
    from ..run.options import RunOptions

    shell = magics.shell
    assert shell is not None  # magics only run inside a shell
    options = RunOptions(max_tokens=magics.max_tokens)
    mode = cast("DisplayMode", magics.display_mode)
    comparison = compare(magics, shell, prompt, options, parse_models(models), mode=mode,
                         fmt="markdown")  # fmt: skip
    _fail_if_none_answered(comparison)


def compare(
    magics: Magics, shell: InteractiveShell, template: str, options: RunOptions,
    models: list[str], *, mode: DisplayMode, fmt: Format,
) -> Comparison:  # fmt: skip
    """Stream every model into its column, then show the figures table."""
    from ..display.columns import ColumnBoard
    from ..display.compare_table import figures_bundle
    from ..display.render import preformatted_html
    from ..display.sinks import IPythonSink
    from ..run.compare import run_comparison

    rich = is_rich(shell, mode)
    renderer = preformatted_html if fmt in ("text", "json") else None
    board = ColumnBoard(IPythonSink() if rich else PrintSink(), renderer=renderer)
    comparison = run_comparison(magics.session, template, options, models, shell.user_ns, board,
                                describe=notebook_message)  # fmt: skip
    _show(figures_bundle(comparison.figures), rich)
    return comparison


def _fail_if_none_answered(comparison: Comparison) -> None:
    """Stopped by the user: `Stopped`; no model answered: one line naming each one's error."""
    outcomes = [f.outcome for f in comparison.figures]
    if "stopped" in outcomes:
        raise Stopped(STOPPED_CELL)
    if not any(f.answered for f in comparison.figures):
        said = "; ".join(f"{f.model}: {f.error}" for f in comparison.figures)
        raise UsageError(f"no model answered — {said}")


def _dry_runs(
    magics: Magics, shell: InteractiveShell, template: str, options: RunOptions,
    models: list[str], mode: DisplayMode, out: str | None,
) -> None:  # fmt: skip
    """Each model's request, shown one under another; `-o` binds them by model."""
    from .dryrun import show_dry_run

    requests: dict[str, object] = {}
    for model in models:
        show_dry_run(magics.session, shell, template, replace(options, model=model), mode=mode,
                     out="_routing_magics_dry_run")  # fmt: skip
        requests[model] = shell.user_ns.pop("_routing_magics_dry_run")
    if out:
        shell.user_ns[out] = requests


def _show(bundle: Bundle, rich: bool) -> None:
    if rich:
        display(bundle, raw=True)
    else:
        print(bundle["text/plain"])


class PrintSink:
    """A terminal's sink: nothing live (the answers would interleave), each column at the end."""

    def show(self, data: Bundle, metadata: object = None) -> PrintSink:
        if data.get("text/plain"):
            print(data["text/plain"])
        return self

    def update(self, data: Bundle, metadata: object = None) -> None:
        """The live display is only drawn in a notebook."""
