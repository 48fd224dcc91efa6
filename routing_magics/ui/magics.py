"""`%%route` and `%route`: thin IPython shells over run.run_prompt and the Session."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import observe

from ..api import errors
from ..config import Settings, settings_from_env
from ..display.protocols import DisplayMode, Format
from ..run.options import RunOptions
from ..session import Session
from .advice import cell_error
from .cell_arguments import cell_arguments
from .cells import CellLog
from .commands import SUBCOMMANDS, TAKES_ARGUMENTS
from .compare import compare_cell, compare_line, several_models
from .notebook import ShellNotebook
from .options import OptionDefaults, cell_options, option_argv
from .traits import RouteTraits

if TYPE_CHECKING:
    from ..api.models import Completion
    from .tooling import ToolSettings

T = TypeVar("T")


@magics_class
class RouteMagics(Magics, RouteTraits):
    """Settings are traitlets: `%config RouteMagics.rows = 100` (or `c.RouteMagics` in a config)."""

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        self._env = settings_from_env()
        super().__init__(shell, **kwargs)
        settings = self._settings(self._env.api_key)
        self.session = Session(settings, notebook=ShellNotebook(shell))
        self.cells = CellLog()  # recording once attached (load): {Err[n]}, --cells, %route fix
        self.apply_money()  # the budget's defaults, from the traits (ui/money_traits.py)
        if self.default_model:
            self.session.default_model = self.default_model

    @observe(
        "base_url", "fallback_base_url", "offline", "usage_db", "emulator_token_rate",
        "answer_deadline",
    )  # fmt: skip
    def _settings_changed(self, change: dict[str, object]) -> None:
        if hasattr(self, "session"):
            self.session.configure(self._settings(self.session.settings.api_key))

    @observe("default_model")
    def _default_model_changed(self, change: dict[str, object]) -> None:
        if hasattr(self, "session") and change["new"]:
            self._call(self.session.use_model, str(change["new"]))

    def _settings(self, api_key: str | None) -> Settings:
        return Settings(
            api_key=api_key,
            base_url=self.base_url,
            fallback_base_url=self.fallback_base_url or None,
            offline=self.offline,
            usage_db=self.usage_db,
            emulator_token_rate=self.emulator_token_rate,
            answer_deadline=self.answer_deadline
            if self.answer_deadline > 0
            else self._env.answer_deadline,
        )

    @cell_arguments
    @no_var_expand  # {name} is ours to fill, once, with dataframes fitted (prompt.interpolate)
    @line_cell_magic
    def route(self, line: str, cell: str | None = None) -> None:
        """Ask a routing.run model; the answer streams into the output as markdown.

        Cell: the cell is the prompt; {name} is replaced by the notebook variable `name`
        (dataframes as fitted text), {{ and }} are literal braces.

            %%route route/mistral-small-2503 -t 0.2
            Summarize this for a busy reader: {report}

        Each row: `--each NAME` runs the cell once per row of a DataFrame ({col}, {row},
        {index}); -o binds the answers, --into COL [--overwrite] writes them into the frame.

        Notebook history: {In[3]}, {Out[3]}, {Err[3]}, {Err[-1]} (the cell above's error).

        Background: `--background` returns at once; the answer or batch streams into this cell
        as a job, and -o is bound when it ends.

        Several models: `%%route route/a,route/b -o cmp` answers with each at once, side by
        side, with a figures table; cmp["route/a"] is that model's result.

        Line: `%route MODEL prompt…` (one-shot), or a subcommand: models, use MODEL, usage
        [--all] [--today] [--reset] [-o NAME] [--csv PATH [--overwrite]], key, config, panel,
        reset (forget --chat memory), cache on|off|clear, tools [F G | none], fix [--apply],
        jobs, wait [ID] [--timeout S], stop [ID], budget [USD | +USD | off] (this notebook's
        budget for today), help.
        """
        if cell is None:
            return self._line(line)
        from .tooling import tool_settings

        try:
            args = self.route.parser.parse_args(self._option_argv(line))
        except ValueError as exc:  # shlex: "No closing quotation"
            hint = 'close the quote, e.g. -s "Be brief"'
            raise UsageError(f"%%route options: {exc}; {hint}") from None
        options, out, fmt = self._cell_options(args)
        if args.cells < 0:
            raise UsageError(f"--cells {args.cells}: give a number of cells, e.g. --cells 3")
        if args.background:  # what a job cannot do is refused now, in one line
            from .background import refuse_background

            refuse_background(args, self.session.default_tools)
        if several_models(args.model):  # route/a,route/b: side by side (ui/compare.py)
            return self._call(compare_cell, self, cell, options, args, out, fmt)
        if args.each is not None:
            if args.tools or args.cells or args.dry_run:
                raise UsageError("--each sends one request per row: drop --tools, --cells and "
                                 "--dry-run")  # fmt: skip
            return self._each(cell, options, args)
        if args.dry_run:
            return self._dry_run(cell, replace(options, notebook=self.cells.context(args.cells)),
                                 out)  # fmt: skip
        if args.background:
            return self._in_background(cell, options, out=out, fmt=fmt, cells=args.cells)
        tools = tool_settings(args, self.session, self.max_tool_calls)
        return self._ask(cell, options, out=out, fmt=fmt, tools=tools, cells=args.cells)

    def _dry_run(self, template: str, options: RunOptions, out: str | None) -> None:
        from .dryrun import show_dry_run

        assert self.shell is not None  # magics only run inside a shell
        mode = cast(DisplayMode, self.display_mode)
        self._call(show_dry_run, self.session, self.shell, template, options, mode=mode, out=out)

    def _each(self, template: str, options: RunOptions, args: argparse.Namespace) -> None:
        from .each import EachArgs, run_each

        assert self.shell is not None  # magics only run inside a shell
        mode = cast(DisplayMode, self.display_mode)
        each = EachArgs.of(args)
        if args.background:
            from .background_runs import each_in_background

            self._call(each_in_background, self.session, self.shell, template, options, each,
                       mode=mode, requests_per_minute=self.requests_per_minute,
                       number=self.cells.current, confirm_above=self.confirm_above_usd)  # fmt: skip
            return
        self._call(run_each, self.session, self.shell, template, options, each, mode=mode,
                   requests_per_minute=self.requests_per_minute,
                   confirm_above=self.confirm_above_usd)  # fmt: skip

    def _in_background(
        self, prompt: str, options: RunOptions, *, out: str | None, fmt: Format, cells: int
    ) -> None:
        from .background_runs import ask_in_background

        options = replace(options, notebook=self.cells.context(cells))
        mode = cast(DisplayMode, self.display_mode)
        self._call(ask_in_background, self.session, self.shell, prompt, options, out=out,
                   fmt=fmt, mode=mode, number=self.cells.current)  # fmt: skip

    def _option_argv(self, line: str) -> list[str]:
        """The options line's arguments, `{name}` filled in each (IPython's own is switched off
        for the prompt's sake)."""
        namespace = self.shell.user_ns if self.shell is not None else {}
        return self._call(option_argv, line, namespace)

    def _cell_options(self, args: argparse.Namespace) -> tuple[RunOptions, str | None, Format]:
        defaults = OptionDefaults(self.rows, self.max_tokens, self.session.cache_cells,
                                  self.schema_via, self.schema_repairs)  # fmt: skip
        return cell_options(args, defaults, self.shell)

    def _ask(
        self, prompt: str, options: RunOptions, *, out: str | None = None,
        fmt: Format = "markdown", tools: ToolSettings | None = None, cells: int = 0,
    ) -> None:  # fmt: skip
        from ..run.single import run_prompt
        from .answer_format import apply_format
        from .views import make_view

        shell = self.shell
        assert shell is not None  # magics only run inside a shell
        view = make_view(shell, cast(DisplayMode, self.display_mode), fmt)
        options = replace(options, notebook=self.cells.context(cells))
        done: Completion
        if tools is not None:
            from .tooling import run_tool_cell

            ns = shell.user_ns
            done = self._call(run_tool_cell, self.session, prompt, options, ns, view, tools)
        else:
            done = self._call(run_prompt, self.session, prompt, options, shell.user_ns, view)
        if out:
            shell.user_ns[out] = done
        self._call(apply_format, shell, done, fmt)

    def ask(self, prompt: str, options: RunOptions, *, fmt: Format = "markdown") -> None:
        """Send `prompt` as a cell would: streamed, ledger row, --format (`%route fix`)."""
        self._ask(prompt, options, fmt=fmt)

    def _call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `func`; a RoutingError fails the cell in one line (advice.cell_error)."""
        try:
            return func(*args, **kwargs)
        except errors.RoutingError as exc:
            raise cell_error(exc) from None

    def _line(self, line: str) -> None:
        word, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if not word:
            raise UsageError("%route needs a prompt or a subcommand; see `%route help`")
        if word.startswith("-"):
            raise UsageError("options go on a %%route cell's first line; one line takes "
                             "`%route MODEL prompt…`")  # fmt: skip
        if word == "help" and not rest:
            print(self.route.__doc__)
            return None
        if word == "fix":  # the subcommand that needs these magics: their cell log and ask()
            from .fix import fix

            return self._call(fix, self, rest)
        if word in SUBCOMMANDS and (rest == "" or word in TAKES_ARGUMENTS):
            return self._call(SUBCOMMANDS[word], self.session, self.shell, rest)
        if word.startswith("route/") or word in self.session.catalog:
            if not rest:
                raise UsageError(f"write the prompt after the model: %route {word} your question…")
            if several_models(word):  # %route route/a,route/b prompt… (ui/compare.py)
                return self._call(compare_line, self, word, rest)
            return self._ask(rest, RunOptions(model=word, max_tokens=self.max_tokens),
                             tools=self._default_tools())  # fmt: skip
        return self._ask(line, RunOptions(max_tokens=self.max_tokens), tools=self._default_tools())

    def _default_tools(self) -> ToolSettings | None:
        from .tooling import tool_settings

        return tool_settings(None, self.session, self.max_tool_calls)
