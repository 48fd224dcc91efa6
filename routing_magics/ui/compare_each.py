"""`%%route route/a,route/b --each NAME`: every row to every model (run/batch/by_model.py).

`-o` binds a pandas DataFrame on the frame's index with one column per model (with `--schema`
or JSON objects, one per model and field: `route/a:label`); `--into PREFIX` writes a column
`PREFIX_<model>` per model into the frame (`route/` left out: `label_glm-5`). Under the
progress bars: per model, rows answered, failed, tokens and cost; then how often the models
agree on short answers, with a few rows where they do not.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Protocol, cast

from IPython.core.error import UsageError
from IPython.display import display

from ..api import errors
from ..display.progress import TqdmProgress
from ..run.batch import BatchOptions
from ..run.batch.columns import check_into, write_into
from .advice import Stopped, notebook_message
from .each import EachArgs
from .preflight import preflight
from .views import is_rich

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..display.figures import ModelTally
    from ..display.protocols import Bundle, DisplayMode
    from ..run.batch.by_model import ModelBatches
    from ..run.options import RunOptions
    from ..session import Session
    from .cells import CellLog


class Magics(Protocol):
    """What the several-models shells read of RouteMagics (named so, to keep imports one way)."""

    shell: InteractiveShell | None
    session: Session
    cells: CellLog
    display_mode: str
    requests_per_minute: int | None
    max_tokens: int | None
    confirm_above_usd: float | None


def compare_each(
    magics: Magics, template: str, options: RunOptions, models: list[str],
    args: argparse.Namespace,
) -> None:  # fmt: skip
    """Run the batches, show the summary, bind -o / --into; a stopped batch fails the cell."""
    from ..prompt.frames import frame_kind
    from ..run.batch.by_model import run_by_model

    shell, session = magics.shell, magics.session
    assert shell is not None  # magics only run inside a shell
    each = EachArgs.of(args)
    if args.dry_run or args.cells:
        raise UsageError("--each sends one request per row and model: drop --dry-run and --cells")
    if each.frame not in shell.user_ns:
        raise UsageError(f"--each {each.frame}: no variable named {each.frame!r} in the notebook")
    frame = shell.user_ns[each.frame]
    if (frame_kind(frame) or ("",))[0] != "pandas":
        raise UsageError(f"--each {each.frame} with several models needs a pandas DataFrame or "
                         "Series (their answers come back as one column per model)")  # fmt: skip
    for model in models:
        check_into(each.frame, frame, _column(each.into, model), each.out, fmt=each.fmt,
                   overwrite=each.overwrite)  # fmt: skip
    rich = is_rich(shell, cast("DisplayMode", magics.display_mode))
    batch = BatchOptions(each.concurrency, each.limit, each.cache, each.fmt,
                         magics.requests_per_minute)  # fmt: skip
    done = run_by_model(
        session, each.frame, frame, template, options, models, batch, shell.user_ns,
        lambda model: TqdmProgress(rich=rich, description=f"{each.frame} → {model}"), None,
        preflight(session, yes=each.yes, confirm_above=magics.confirm_above_usd, models=models),
    )  # fmt: skip
    _bind(shell.user_ns, frame, done, each)
    _show_summary(session, done, rich)
    said = [line for r in done.results.values() for line in (r.redacted, r.unrecorded) if line]
    for line in dict.fromkeys(said):  # once, however many models said it
        print(line)
    _fail_if_stopped(done)


def _column(into: str | None, model: str) -> str | None:
    return None if into is None else f"{into}_{model.removeprefix('route/')}"


def _bind(namespace: dict[str, object], frame: object, done: ModelBatches, each: EachArgs) -> None:
    from ..run.batch.by_model import model_table

    table, notes = model_table(done, getattr(frame, "index", None), each.fmt)
    if each.into:
        for model in done.models:
            part = table[[c for c in table.columns if c == model or c.startswith(f"{model}:")]]
            part = part.rename(columns={c: c.removeprefix(f"{model}:") for c in part.columns})
            value = part[model] if list(part.columns) == [model] else part
            _, said = write_into(frame, value, cast(str, _column(each.into, model)),
                                 frame_name=each.frame, overwrite=each.overwrite)  # fmt: skip
            notes += said
    for note in dict.fromkeys(notes):
        print(note)
    if each.out:
        namespace[each.out] = table


def _show_summary(session: Session, done: ModelBatches, rich: bool) -> None:
    from ..display.compare_table import agreement_bundles, tally_bundle
    from ..run.batch.by_model import model_agreement

    bundles = [tally_bundle(_tallies(session, done))]
    agreed = model_agreement(done)
    if agreed is not None:
        bundles += agreement_bundles(done.models, agreed.compared, agreed.agreed,
                                     agreed.long_rows, agreed.disagreements)  # fmt: skip
    for bundle in bundles:
        _show(bundle, rich)


def _tallies(session: Session, done: ModelBatches) -> list[ModelTally]:
    from ..display.figures import ModelTally

    prices = session.prices.get(1.0)
    tallies = []
    for model in done.models:
        result, refused = done.results.get(model), done.refused.get(model)
        if result is None:
            rows = len(next(iter(done.results.values())).outcomes) if done.results else 0
            why = notebook_message(refused) if refused else "not sent: the batch before it stopped"
            tallies.append(ModelTally(model, 0, 0, 0, rows, 0, None, why))
            continue
        s = result.summary()
        tokens = (result.prompt_tokens, result.completion_tokens)
        cost = prices.cost(model, *tokens) if prices is not None else None
        stopped = f"stopped early: {result.stopped}" if result.stopped else None
        tallies.append(ModelTally(model, s.answered, s.cached, s.failed, s.not_sent, s.tokens,
                                  cost, stopped))  # fmt: skip
    return tallies


def _show(bundle: Bundle, rich: bool) -> None:
    if rich:
        display(bundle, raw=True)
    else:
        print(bundle["text/plain"])


def _fail_if_stopped(done: ModelBatches) -> None:
    """A stop fails the cell (answered rows are bound already); so does no model answering."""
    stop = done.stopped_by
    if isinstance(stop, errors.Stopped):
        raise Stopped("answered rows are kept; run the cell again to send only the rest")
    if stop is not None:
        raise UsageError(f"the batch stopped ({notebook_message(stop)}); answered rows are kept "
                         "— run the cell again to send only the rest")  # fmt: skip
    if not done.results:
        said = "; ".join(f"{m}: {notebook_message(e)}" for m, e in done.refused.items())
        raise UsageError(f"no model's batch could run — {said}")
