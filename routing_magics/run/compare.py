"""Several models on one prompt, at once (`%%route route/a,route/b,route/c`).

Every model's request is built first (as a cell's is: a bad model, option or value fails the
cell before anything is sent); then each model gets its own thread, which runs the cell's own
flow (run/conversation.py: an `Exchange` per request, its ledger row through run/record.py,
the answers cache, `--schema`'s repair turns) into that model's column. Only what the columns
noted crosses back: the kernel's main thread draws them (`Board.tick`) while the threads run,
and on Ctrl-C closes every stream (ChatStream.close is thread-safe), so each model ends
"stopped" with its partial answer kept. A model that fails never costs the others their
answers: its figures say why, and its result keeps what arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from ..api import errors
from ..api.models import ChatRequest, Completion, FrameSent
from ..display.figures import ModelFigures
from .comparison import Comparison
from .conversation import Conversation
from .options import RunOptions
from .record import cache_key
from .single import build_request, for_route, frames_sent
from .spend import start_lookups
from .structured import check

if TYPE_CHECKING:
    from ..api.stream import ChatStream
    from ..display.protocols import View
    from ..ledger import CachedAnswer
    from ..session import Session

#: Most models one cell compares: each is a stream held open at once (routing.run allows 50).
MAX_MODELS = 8
#: How often the main thread draws the columns and looks for Ctrl-C, in seconds.
TICK = 0.05


class Board(Protocol):
    """Where the columns are drawn (display/columns.py's ColumnBoard)."""

    def column(self, model: str) -> View: ...
    def start(self) -> None: ...
    def tick(self) -> None: ...
    def close(self, failures: Mapping[str, str]) -> None: ...


@dataclass
class Entrant:
    """One model's part of the comparison: its request, its column, and how it went."""

    model: str
    request: ChatRequest
    options: RunOptions
    view: View
    frames: list[FrameSent] = field(default_factory=list)
    key: str | None = None
    cached: bool = False
    done: Completion | None = None
    failure: errors.RoutingError | None = None
    seconds: float = 0.0
    streams: list[ChatStream] = field(default_factory=list)


def parse_models(text: str) -> list[str]:
    """`route/a,route/b` → the ids in order; ConfigurationError for an empty or repeated one."""
    models = [m.strip() for m in text.split(",")]
    if any(not m for m in models):
        raise errors.ConfigurationError(
            f"{text!r}: a model is missing between commas",
            hint="separate model ids with single commas, e.g. route/glm-5,route/kimi-k2.5",
        )
    twice = sorted({m for m in models if models.count(m) > 1})
    if twice:
        raise errors.ConfigurationError(f"{', '.join(twice)} is named twice",
                                        hint="name each model once")  # fmt: skip
    if len(models) > MAX_MODELS:
        raise errors.ConfigurationError(f"{len(models)} models in one cell",
                                        hint=f"compare at most {MAX_MODELS} at once")  # fmt: skip
    return models


def run_comparison(
    session: Session,
    template: str,
    options: RunOptions,
    models: list[str],
    namespace: Mapping[str, object],
    board: Board,
    *,
    describe: Callable[[errors.RoutingError], str] = str,
) -> Comparison:
    """Send the prompt to every model at once, each streamed into its column of `board`."""
    entrants = [_entrant(session, template, options, model, namespace, board) for model in models]
    start_lookups(session)
    if not options.cache:  # over budget for every model: refused before empty columns are drawn
        _check_budget(session, models)
    stop = threading.Event()
    threads = [threading.Thread(target=_answer, args=(session, e, stop), daemon=True,
                                name=f"routing-magics {e.model}") for e in entrants]  # fmt: skip
    board.start()
    try:
        for thread in threads:
            thread.start()
        _wait(threads, board, stop, entrants)
    finally:
        board.close({e.model: describe(e.failure) for e in entrants if e.failure is not None})
    return _comparison(session, entrants, describe)


def _check_budget(session: Session, models: list[str]) -> None:
    """Raise the budget's refusal if it refuses every model (each send checks again)."""
    refusals = []
    for model in models:
        try:
            session.budget.check(model)
        except errors.RoutingError as exc:
            refusals.append(exc)
    if refusals and len(refusals) == len(models):
        raise refusals[0]


def _entrant(
    session: Session, template: str, options: RunOptions, model: str,
    namespace: Mapping[str, object], board: Board,
) -> Entrant:  # fmt: skip
    """One model's request, built and checked before anything is sent."""
    mine = for_route(session, replace(options, model=model))
    request, prepared = build_request(session, template, mine, namespace)
    entrant = Entrant(model, request, mine, board.column(model))
    entrant.frames = frames_sent(prepared, options.rows)
    if options.cache:
        fmt = mine.schema.cache_format() if mine.schema is not None else "markdown"
        entrant.key = cache_key(session, request, fmt)
    return entrant


def _answer(session: Session, entrant: Entrant, stop: threading.Event) -> None:
    """One model's whole flow, on its own thread; never raises."""

    def hold(stream: ChatStream) -> None:
        entrant.streams.append(stream)
        if stop.is_set():  # Ctrl-C came before the stream opened
            stream.close()

    options = entrant.options
    conversation = Conversation(session, entrant.request, entrant.view, None, hold,
                                options.max_tokens, options.schema,
                                frames=entrant.frames)  # fmt: skip
    started = time.monotonic()
    try:
        hit = _cached(conversation, entrant) if entrant.key is not None else None
        entrant.cached = hit is not None
        entrant.done = conversation.run(cached=hit, cache_as=entrant.key)
    except errors.RoutingError as exc:
        entrant.failure = exc
    except Exception as exc:  # a bug of ours: this model fails, the others go on
        entrant.failure = errors.RoutingError(f"internal error: {type(exc).__name__}: {exc}")
    finally:
        entrant.seconds = time.monotonic() - started
        if entrant.done is None:
            steps = conversation.steps
            entrant.done = (
                steps[-1] if steps else Completion(model=entrant.model, request=entrant.request)
            )


def _cached(conversation: Conversation, entrant: Entrant) -> CachedAnswer | None:
    key = entrant.key or ""
    hit = conversation.recorder.cached_answers([key]).get(key)
    schema = entrant.options.schema
    if hit is not None and schema is not None and not check(schema, Completion(text=hit.text)).ok:
        return None
    return hit


def _wait(
    threads: list[threading.Thread], board: Board, stop: threading.Event,
    entrants: list[Entrant],
) -> None:  # fmt: skip
    """Draw until every thread ends; Ctrl-C closes every stream and waits for the threads."""
    try:
        while any(t.is_alive() for t in threads):
            board.tick()
            time.sleep(TICK)
    except KeyboardInterrupt:
        stop.set()
        for entrant in entrants:
            for stream in list(entrant.streams):
                stream.close()
        for thread in threads:
            thread.join(timeout=5)
        for entrant in entrants:  # a request that cannot be closed (--no-stream) is let go
            if entrant.done is None and entrant.failure is None:
                entrant.failure = errors.Stopped("stopped by the user")


def _comparison(
    session: Session, entrants: list[Entrant], describe: Callable[[errors.RoutingError], str]
) -> Comparison:
    prices = session.prices.value
    figures = []
    for e in entrants:
        done = e.done or Completion(model=e.model)
        usage = done.usage
        cost = (
            prices.cost(e.model, usage.prompt_tokens, usage.completion_tokens) if prices else None
        )
        outcome = "cached" if e.cached and e.failure is None else errors.outcome_of(e.failure)
        figures.append(ModelFigures(
            e.model, getattr(e.view, "ttft_ms", None), round(e.seconds, 3), usage.prompt_tokens,
            usage.completion_tokens, usage.estimated, cost, done.finish_reason, outcome,
            describe(e.failure) if e.failure is not None else None,
        ))  # fmt: skip
    return Comparison({e.model: e.done or Completion(model=e.model) for e in entrants}, figures)
