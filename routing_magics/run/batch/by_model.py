"""Every row to every model (`%%route route/a,route/b --each NAME`): one batch per model.

The batches run one after another, each the whole batch machinery as one model's `--each`
is (cache, pacing, retries, stop, the daily cap); the pace reads the plan's per-minute count
before each batch, so the models share one rate budget. Under a binding per-minute limit,
one model after another takes as long as interleaving (row, model) jobs would, and below it
both are bound by the same `--concurrency`; so the simpler way wins, and each model keeps
every guarantee of a batch unchanged. A model whose batch cannot start (say, the day's
allowance is spent) fails alone; a stop (Ctrl-C, the daily cap, 401/403) leaves the models
after it "not sent".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ...api import errors
from ..agreement import Agreement, agreement
from .columns import answers
from .estimate import NOT_CONFIRMED
from .flow import run_batch
from .outcomes import BatchOptions, BatchResult

if TYPE_CHECKING:
    from ...api.models import ChatRequest
    from ...display.progress import Progress
    from ...session import Session
    from ..options import RunOptions


@dataclass
class ModelBatches:
    """Each model's batch (or why it did not run), in the order the cell named them."""

    models: list[str]
    results: dict[str, BatchResult] = field(default_factory=dict)
    refused: dict[str, errors.RoutingError] = field(default_factory=dict)
    stopped_by: errors.RoutingError | None = None

    def not_sent(self, model: str) -> bool:
        return model not in self.results and model not in self.refused


def run_by_model(
    session: Session,
    frame_name: str,
    frame: object,
    template: str,
    options: RunOptions,
    models: list[str],
    batch: BatchOptions,
    namespace: Mapping[str, object],
    progress: Callable[[str], Progress],
    stop: threading.Event | None = None,
    preflight: Callable[[list[ChatRequest]], None] | None = None,
) -> ModelBatches:
    """Run the batch for each model in turn; every model is checked before any request.

    `preflight` sees the first model's requests, before any is sent (it estimates every
    model's); if it refuses, nothing is sent to any model."""
    for model in models:
        session.check_model(model)
    done = ModelBatches(list(models))
    for position, model in enumerate(models):
        if done.stopped_by is not None:
            break
        mine = replace(options, model=model)
        ask = preflight if position == 0 else None
        try:
            result = run_batch(session, frame_name, frame, template, mine, batch, namespace,
                               progress(model), stop, ask)  # fmt: skip
        except errors.RoutingError as exc:  # this model's batch cannot start: the others go on
            if exc.code == NOT_CONFIRMED:  # the whole batch was declined: send to no model
                raise
            done.refused[model] = exc
            continue
        except KeyboardInterrupt:  # between two models' batches: the earlier ones stay bound
            done.stopped_by = errors.Stopped("stopped by the user")
            break
        done.results[model] = result
        done.stopped_by = result.stopped_by
    return done


def model_table(done: ModelBatches, index: Any, fmt: str) -> tuple[Any, list[str]]:
    """A pandas DataFrame on the frame's index: a column per model (a model's typed or JSON
    answers: a column per model and field, `model:field`), and notes on keys left out."""
    import pandas as pd

    parts, notes = [], []
    for model in done.models:
        result = done.results.get(model)
        if result is None:
            parts.append(pd.Series(None, index=index, name=model, dtype=object))
            continue
        value, said = answers(result, model, fmt)
        notes += said
        if isinstance(value, pd.DataFrame):
            value = value.add_prefix(f"{model}:")
        parts.append(value)
    return pd.concat(parts, axis=1), notes


def model_agreement(done: ModelBatches) -> Agreement | None:
    """Whether the models agree row by row; None unless every model ran and answered text."""
    if len(done.results) != len(done.models) or any(
        r.schema is not None for r in done.results.values()
    ):
        return None
    first = done.results[done.models[0]]
    columns = [
        [o.text if o.status in ("ok", "cached") else None for o in done.results[m].outcomes]
        for m in done.models
    ]
    return agreement(first.rows.labels, columns)
