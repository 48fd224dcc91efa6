"""Batches: one prompt per row of a frame, paced under the plan, each row an `Exchange`.

flow.py is the flow top to bottom (run_batch); loop.py the main thread's side, senders.py the
worker threads, pacing.py the per-minute pace, outcomes.py the options and results,
columns.py the answers as columns, each.py the Python face (`routing_magics.each`).
"""

from .flow import run_batch
from .outcomes import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    BatchOptions,
    BatchResult,
    RowOutcome,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "BatchOptions",
    "BatchResult",
    "RowOutcome",
    "run_batch",
]
