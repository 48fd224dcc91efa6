"""The "a budget stopping a batch" section for notebooks/12-choosing-a-route.ipynb, as plain cell
sources for the lead to paste at the end of that notebook (written beside it, not in it, while
another engineer writes the rest).

Each entry is (cell type, tags, source). The batch cell fails on purpose (the budget stops it):
it carries nbval's `raises-exception` tag. The section runs on the offline emulator as nbval
runs it (no input box; the batch's estimate stays under RouteMagics.confirm_above_usd, so no
question is asked) and gives the same outputs every run: `+0.0001` sets the budget relative to
whatever the cells above spent, and `--concurrency 1` makes where it stops deterministic.
Checked by pasting it after `%load_ext routing_magics` and one answered cell, executing with
`python notebooks/conftest.py`, and replaying with nbval twice.
"""

from __future__ import annotations

CELLS: list[tuple[str, list[str], str]] = [
    (
        "markdown",
        [],
        """## A budget that stops a batch

Every batch first says what it should cost, and above `RouteMagics.confirm_above_usd` ($1) it
asks before sending. A budget goes further: `%route budget USD` caps what this notebook may
spend today (an estimate from routing.run's prices), and a request that would start once the
spend has reached it is refused before it is sent. `+USD` sets the budget to today's spend so
far plus that much: here a hundredth of a cent, enough for a few rows of the batch below.""",
    ),
    ("code", [], "%route budget +0.0001"),
    (
        "code",
        [],
        """tickets = pd.DataFrame({"text": [
    "The invoice is wrong and the support was terrible.",
    "Thanks, the new dashboard is great!",
    "Login has been broken since this morning.",
    "Can I change the billing address?",
    "Export to CSV is slow and drops a column.",
    "I love how fast the support team solved it.",
    "The app crashes on every photo upload: awful.",
    "Please cancel my subscription.",
]})""",
    ),
    (
        "markdown",
        [],
        """The batch shows its estimate and what the budget leaves, then stops when the budget is
spent: the rows answered so far are kept (in `-o` and in the frame), the rest are "not sent",
and the cell fails in one line that says why, so "Run all" stops here (in this notebook the
cell is tagged `raises-exception`).""",
    ),
    (
        "code",
        ["raises-exception"],
        """%%route route/deepseek-v3.2 --each tickets -o labels --into label --concurrency 1
The sentiment of this support ticket, in one word: {text}""",
    ),
    ("code", [], "tickets"),
    (
        "markdown",
        [],
        """Raise the budget and run the batch again: the answers cache gives back the rows already
answered, and only the rest are sent.""",
    ),
    ("code", [], "%route budget +0.01"),
    (
        "code",
        [],
        "%%route route/deepseek-v3.2 --each tickets -o labels --into label --overwrite "
        "--concurrency 1\nThe sentiment of this support ticket, in one word: {text}",
    ),
    ("code", [], "%route budget off"),
]
