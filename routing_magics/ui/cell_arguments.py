"""The options of a `%%route` cell, in one place: `@cell_arguments` builds the magic's parser
(IPython's magic_arguments; `%%route?` and docs/reference.md print their help)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments

_ARGUMENTS = [
    argument(
        "model",
        nargs="?",
        help="route/… id; default: `%%route use` or the panel's picker. Several, separated by "
        "commas (route/a,route/b): each answers at once, side by side.",
    ),
    argument("-s", "--system", help="System prompt."),
    argument("-t", "--temperature", type=float, help="Sampling temperature, 0–2."),
    argument("-m", "--max-tokens", type=int, help="Cap on tokens generated (reasoning included)."),
    argument("-o", "--out", help="Bind the result object to this variable."),
    argument("--df", help="Append this DataFrame/Series as text fitted to the model's context."),
    argument("--rows", type=int, help="Most dataframe rows to send (default 50)."),
    argument("--chat", action="store_true", help="Continue this notebook's conversation."),
    argument("--no-stream", action="store_true", help="Wait for the whole answer."),
    argument("--format", default="markdown", help="markdown | text | code | json."),
    argument("--each", help="Run the cell once per row of this DataFrame/Series."),
    argument("--into", help="With --each: also write the answers into the frame as this column."),
    argument("--overwrite", action="store_true", help="With --into: replace columns that exist."),
    argument("--concurrency", type=int, help="With --each: requests in flight (default 8)."),
    argument("--limit", type=int, help="With --each: send at most N rows now."),
    argument("--yes", action="store_true", help="With --each: send without asking about cost."),
    argument("--cache", action="store_true", help="Answer from the answers cache when it can."),
    argument("--no-cache", action="store_true", help="With --each: fresh answers for every row."),
    argument("--tools", help="Notebook functions the model may call: f,g."),
    argument("--max-steps", type=int, help="Most requests of a tool loop (default 5)."),
    argument("--confirm", action="store_true", help="Ask before each tool call runs."),
    argument("--cells", type=int, default=0, help="Add the last N cells and their outputs."),
    argument("--dry-run", action="store_true", help="Show what would be sent; send nothing."),
    argument(
        "--background",
        action="store_true",
        help="Return at once; the answer or batch runs as a job (`%%route jobs`).",
    ),
    argument(
        "--schema",
        help="Answer as this schema (a model, dataclass, TypedDict, dict or "
        '"name, age int"); -o .data holds it.',
    ),
]


def cell_arguments(func: Callable[..., object]) -> Any:
    """Give `func` the cell options' parser (`.parser`), as a stack of `@argument` lines would;
    Any, as IPython's own decorators are."""
    for add in reversed(_ARGUMENTS):
        func = add(func)
    return magic_arguments()(func)
