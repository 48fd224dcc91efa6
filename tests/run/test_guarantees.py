"""Guarantees every flow keeps, checked over each flow it applies to (tests/run/flows.py): one
cell, the answers cache, a batch over a frame, a tool loop.

Only what a user can observe: cells in a real InteractiveShell, what `-o` binds, the ledger
file's bytes, and what the emulator received.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Harness
from tests.run.flows import (
    CELLS,
    EXPECTED,
    FLOWS,
    MODEL,
    UNRECORDED,
    answers,
    assert_no_traceback,
    ledger_files,
    lines_saying,
    run_flow,
    visible,
)
from tests.test_ledger_failure import a_directory, corrupt, parent_is_a_file

# --- 1. credentials in a base URL never reach the ledger ------------------------------------

SECRETS = (b"s3cretPW", b"t0ps3cret", b"alice:")


def with_credentials(url: str, token: bool) -> str:
    """`url` with a user:password@ and, when `token`, a ?token= query."""
    url = url.replace("http://", "http://alice:s3cretPW@")
    return url + "?token=t0ps3cret" if token else url


def troubled_cells(h: Harness, flow: str) -> list[str]:
    """Cells whose requests fail (an error event mid-answer) and are refused (403): for a batch,
    a frame whose first rows are cached, then one that fails and one that is refused."""
    h.emu.inject("midstream_error", after=1)
    h.emu.inject("MODEL_NOT_ALLOWED")
    if flow == "each":
        h.ok("more = pd.concat([frame, pd.DataFrame({'text': ['delta', 'eps']}, index=[4, 5])])")
        return [f"%%route {MODEL} --each more -o out2 --concurrency 1\necho: row {{text}}"]
    return [CELLS[flow][0] + " (troubled)"] * 2


def assert_ledger_clean(h: Harness) -> None:
    files = ledger_files(h.db)
    assert files, "no ledger was written"
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret not in data, f"{secret.decode()} is in {path.name}"


@pytest.mark.parametrize("flow", FLOWS)
def test_credentials_in_the_base_url_never_reach_the_ledger(h: Harness, flow: str) -> None:
    h.ok(f"%config RouteMagics.base_url = {with_credentials(h.emu.base_url, False)!r}")
    for cell in run_flow(h, flow):
        assert cell.error is None, cell.error
    for source in troubled_cells(h, flow):
        h.run(source)  # fails mid-answer, then is refused (a batch keeps its answered rows)
    outcomes = set(h.outcomes())
    assert {"ok", "STREAM_ERROR", "MODEL_NOT_ALLOWED"} <= outcomes, outcomes
    if flow in ("cache", "each"):
        assert "cached" in outcomes
    assert_ledger_clean(h)


@pytest.mark.parametrize("flow", FLOWS)
def test_a_token_in_the_base_url_query_never_reaches_the_ledger(h: Harness, flow: str) -> None:
    h.ok(f"%config RouteMagics.base_url = {with_credentials(h.emu.base_url, True)!r}")
    for source in CELLS[flow] + troubled_cells(h, flow):
        h.run(source)  # whether the service answers or not, each request gets its ledger row
    assert h.outcomes(), "no request was recorded"
    assert_ledger_clean(h)


# --- 2. a broken ledger never costs the answer -----------------------------------------------

BROKEN = {"garbage file": corrupt, "a directory": a_directory, "under a file": parent_is_a_file}


@pytest.mark.parametrize("kind", list(BROKEN))
@pytest.mark.parametrize("flow", FLOWS)
def test_a_broken_ledger_never_costs_the_answer(
    h: Harness, tmp_path: Path, flow: str, kind: str
) -> None:
    path = BROKEN[kind](tmp_path / "broken.sqlite")
    h.ok(f"%config RouteMagics.usage_db = {str(path)!r}")
    cells = run_flow(h, flow)
    assert_no_traceback(cells)
    assert EXPECTED[flow] in answers(h)  # -o is bound
    shown = "3 rows: 3 answered" if flow == "each" else EXPECTED[flow]
    assert shown in visible(cells[0])
    said = lines_saying(cells, UNRECORDED)
    assert len(said) == 1, said  # one line, once, however many cells or rows
    assert str(path) in said[0]
