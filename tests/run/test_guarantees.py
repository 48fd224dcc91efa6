"""Guarantees every flow keeps, checked over each flow it applies to (tests/run/flows.py): one
cell, the answers cache, a batch over a frame, a tool loop, a structured answer, a comparison.

Only what a user can observe: cells in a real InteractiveShell, what `-o` binds, the ledger
file's bytes, and what the emulator received.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Cell, Harness
from tests.ledger.test_failure import a_directory, corrupt, parent_is_a_file
from tests.run.flows import (
    CELLS,
    EXPECTED,
    FLOWS,
    MODEL,
    OTHER,
    UNRECORDED,
    answers,
    assert_no_traceback,
    chat_count,
    chats,
    ledger_files,
    lines_saying,
    run_flow,
    visible,
)

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
    wait = ["%route wait"] if flow.startswith("background") else []  # the job's end
    if flow in ("each", "background-each"):
        h.ok("more = pd.concat([frame, pd.DataFrame({'text': ['delta', 'eps']}, index=[4, 5])])")
        job = " --background" if wait else ""
        return [f"%%route {MODEL} --each more -o out2 --concurrency 1{job}\necho: row {{text}}",
                *wait]  # fmt: skip
    return [CELLS[flow][0] + " (troubled)", *wait] * 2


def assert_ledger_clean(h: Harness) -> None:
    files = ledger_files(h.db)
    assert files, "no ledger was written"
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret not in data, f"{secret.decode()} is in {path.name}"


@pytest.mark.parametrize("query", [False, True], ids=["user:password@", "and ?token="])
@pytest.mark.parametrize("flow", FLOWS)
def test_credentials_in_the_base_url_never_reach_the_ledger(
    h: Harness, flow: str, query: bool
) -> None:
    h.ok(f"%config RouteMagics.base_url = {with_credentials(h.emu.base_url, query)!r}")
    for cell in run_flow(h, flow):  # answered: a query in the base URL stays a query
        assert cell.error is None, cell.error
    for source in troubled_cells(h, flow):
        h.run(source)  # fails mid-answer, then is refused (a batch keeps its answered rows)
    outcomes = set(h.outcomes())
    assert {"ok", "STREAM_ERROR", "MODEL_NOT_ALLOWED"} <= outcomes, outcomes
    if flow in ("cache", "each", "background-each"):
        assert "cached" in outcomes
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
    shown = {"each": "3 rows: 3 answered", "compare": "the compared answer",
             "compare-each": "Every row to every model",
             "background-each": "3 rows: 3 answered"}.get(flow, EXPECTED[flow])  # fmt: skip
    # A job draws after its cell returned: here, while `%route wait` waits.
    drawn = cells if flow.startswith("background") else cells[:1]
    assert shown in "\n".join(visible(cell) for cell in drawn)
    said = lines_saying(cells, UNRECORDED)
    assert len(said) == 1, said  # one line, once, however many cells or rows
    assert str(path) in said[0]


# --- 3. the answers cache knows which service answered ---------------------------------------


def give_key(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """`%route key`, as a user gives it: the test emulator is the keyed service from now on."""
    monkeypatch.setattr("getpass.getpass", lambda prompt="": h.key)
    h.ok("%route key")


def asked_then_cached(h: Harness, source: str, asked: Callable[[], int]) -> Cell:
    """Run `source` on a service the cache has no answer from: it is asked; run it again: it
    is not (the same service twice answers from the cache). The first cell is returned.
    A background cell is followed by `%route wait`, so its job has sent before counting."""
    wait = "--background" in source
    cell = h.ok(source)
    if wait:
        h.ok("%route wait")
    assert asked() > 0, "the service was never asked: another service's cached answer was reused"
    sent = asked()
    h.ok(source)
    if wait:
        h.ok("%route wait")
    assert asked() == sent
    return cell


@pytest.mark.parametrize("flow", ["cache", "each"])
def test_the_answers_cache_knows_the_offline_emulator_from_the_service(
    offline: Harness, monkeypatch: pytest.MonkeyPatch, flow: str
) -> None:
    h, source = offline, CELLS[flow][0]
    answered_offline = h.ok(source)
    if flow == "cache":
        assert "offline emulator" in visible(answered_offline)
    assert chat_count(h) == 0  # the extension's own emulator answered
    give_key(h, monkeypatch)
    keyed = asked_then_cached(h, source, lambda: chat_count(h))
    assert "offline emulator" not in visible(keyed)
    assert EXPECTED[flow] in answers(h)


#: The flows that take --cache beyond the cache flow and a batch (which always reads it).
CACHED = {
    "compare": f"%%route {MODEL},{OTHER} --cache -o out\necho: the compared answer",
    "compare-each": CELLS["compare-each"][0],
    "background": f"%%route {MODEL} --background --cache -o out\necho: the background answer",
    "background-each": CELLS["background-each"][0],
}


@pytest.mark.parametrize("flow", ["cache", "each", *CACHED])
def test_the_answers_cache_knows_one_service_from_another(h: Harness, flow: str) -> None:
    source = CACHED.get(flow, CELLS[flow][0])
    asked_then_cached(h, source, lambda: chat_count(h))
    with Emulator(token_rate=None) as other:
        other.per_minute_limit = 6000
        h.ok(f"%config RouteMagics.base_url = {other.base_url!r}")
        asked_then_cached(h, source, lambda: len(chats(other)))
    assert EXPECTED[flow] in answers(h)


# --- 4. -o results carry the request; --dry-run shows it without sending ---------------------

SYSTEM = "Be brief."


def fields_of(value: object) -> list[object]:
    """Every public, non-callable attribute of `value`."""
    names = [n for n in dir(value) if not n.startswith("_")]
    return [v for v in (getattr(value, n) for n in names) if not callable(v)]


@pytest.mark.parametrize("flow", ["single", "cache"])
def test_o_results_carry_the_request_that_was_sent_without_the_key(h: Harness, flow: str) -> None:
    h.shell.user_ns["topic"] = "owls"
    cache = "--cache " if flow == "cache" else ""
    source = f'%%route {MODEL} -s "{SYSTEM}" -t 0.3 -m 200 {cache}-o out\necho: about {{topic}}'
    for _ in CELLS[flow]:  # the cache flow's second cell answers from the cache
        h.ok(source)
    request = h.shell.user_ns["out"].request
    sent = chats(h.emu)[-1].body
    assert request.model == MODEL
    assert [dict(m) for m in request.messages] == sent["messages"]
    assert sent["messages"][0] == {"role": "system", "content": SYSTEM}
    assert isinstance(request.params, dict)
    assert (request.params["temperature"], request.params["max_tokens"]) == (0.3, 200)
    assert h.key not in repr(request)
    for value in fields_of(request):
        assert h.key not in repr(value)


@pytest.mark.parametrize(
    ("line", "prompt", "shown"),
    [
        ("", "hello there", ["hello there"]),
        (f'-s "{SYSTEM}" -o req', "Tell me about {topic}", [SYSTEM, "Tell me about owls"]),
    ],
    ids=["plain", "system, name and -o"],
)
def test_dry_run_shows_the_messages_and_an_estimate_and_sends_nothing(
    h: Harness, line: str, prompt: str, shown: list[str]
) -> None:
    h.shell.user_ns["topic"] = "owls"
    before = len(h.emu.requests)
    cell = h.ok(f"%%route {MODEL} --dry-run {line}\n{prompt}")
    assert len(h.emu.requests) == before  # nothing was sent
    for text in shown:
        assert text in visible(cell)
    assert "tokens" in visible(cell)  # the estimate
    if "-o req" in line:
        request = h.shell.user_ns["req"]
        assert request.model == MODEL
        assert [dict(m) for m in request.messages] == [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Tell me about owls"},
        ]
