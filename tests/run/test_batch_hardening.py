"""A batch survives what one bad reply, one odd row or one broken write would otherwise turn
into a hang or a lost batch: an absurd Retry-After, an answer nested 100,000 deep, a primary
that is down, a row that cannot be sent, a ledger that breaks half-way.

Through `%%route --each` in a real InteractiveShell, or `routing_magics.each`; the services are
the emulator or a scripted one (tests/run/scripted.py).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import routing_magics
from routing_magics.ledger import Ledger, LedgerUnavailable
from tests.helpers import Harness, one_line
from tests.run.flows import (
    CELLS,
    EXPECTED,
    MODEL,
    UNRECORDED,
    answers,
    assert_no_traceback,
    chat_count,
    lines_saying,
    run_flow,
    visible,
)
from tests.run.model_server import ModelServer, compliant
from tests.run.scripted import EchoService, keyed_session, rate_limited


def use_service(h: Harness, base_url: str) -> None:
    h.ok(f"%config RouteMagics.base_url = {base_url!r}")


def each_cell(frame: str, *options: str) -> str:
    return f"%%route {MODEL} --each {frame} -o out {' '.join(options)}\necho: row {{text}}"


# --- 5. an absurd Retry-After never hangs a batch --------------------------------------------

RETRY_AFTERS = {"seconds": "999999", "date": "Thu, 01 Jan 2099 00:00:00 GMT", "inf": "inf"}


@pytest.fixture
def short_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one cap on any Retry-After wait, read at call time: short, so the tests are quick."""
    monkeypatch.setattr("routing_magics.api.policy.RETRY_AFTER_CAP", 0.5)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("retry_after", list(RETRY_AFTERS.values()), ids=list(RETRY_AFTERS))
@pytest.mark.usefixtures("short_cap")
def test_an_absurd_retry_after_never_hangs_a_batch(tmp_path: Path, retry_after: str) -> None:
    frame = pd.DataFrame({"text": ["row0", "row1", "row2"]})
    with (
        EchoService(first=rate_limited(retry_after)) as service,
        keyed_session(service.base_url, tmp_path) as session,
    ):
        out = routing_magics.each(frame, "echo: {text}", session=session, progress=False)
        sent = len(service.chat_bodies())
    assert out.tolist() == ["row0", "row1", "row2"]  # type: ignore[attr-defined]
    assert sent == 4  # the refused row was sent again


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("short_cap")
def test_a_single_cell_waits_no_longer_than_the_retry_after_cap(h: Harness) -> None:
    with EchoService(first=rate_limited(RETRY_AFTERS["seconds"])) as service:
        use_service(h, service.base_url)
        started = time.monotonic()
        h.ok(f"%%route {MODEL} -o out\necho: patience")
        took = time.monotonic() - started
    assert answers(h) == "patience"
    assert took < 5, f"the cell waited {took:.1f} s for a Retry-After capped at 0.5 s"


def service_for(flow: str, retry_after: str) -> EchoService:
    """A service whose first chat request gets a 429 with `retry_after`; a compliant model for
    --schema (its answer is an object), an echo for the others."""
    first = rate_limited(retry_after)
    if flow == "schema":
        return ModelServer(compliant({"answer": EXPECTED["schema"]}), first)
    return EchoService(first=first)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("flow", ["cache", "tools", "schema", "background"])
@pytest.mark.usefixtures("short_cap")
def test_every_other_flow_waits_no_longer_than_the_retry_after_cap(h: Harness, flow: str) -> None:
    with service_for(flow, RETRY_AFTERS["inf"]) as service:
        use_service(h, service.base_url)
        started = time.monotonic()
        cells = run_flow(h, flow)
        took = time.monotonic() - started
        sent = len(service.chat_bodies())
    assert_no_traceback(cells)
    assert sent == 2  # refused once, then answered (a cache flow's second cell: from the cache)
    assert took < 5, f"the flow waited {took:.1f} s for a Retry-After capped at 0.5 s"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("flow", ["compare", "compare-each", "background-each"])
@pytest.mark.usefixtures("short_cap")
def test_flows_of_several_requests_wait_no_longer_than_the_retry_after_cap(
    h: Harness, flow: str
) -> None:
    """The first request of the flow is refused with a Retry-After of forever: it is sent again
    after the cap, and every answer arrives."""
    with EchoService(first=rate_limited(RETRY_AFTERS["inf"])) as service:
        use_service(h, service.base_url)
        started = time.monotonic()
        cells = run_flow(h, flow)
        took = time.monotonic() - started
        sent = len(service.chat_bodies())
    assert_no_traceback(cells)
    assert EXPECTED[flow] in answers(h)
    assert sent == EXPECTED[flow].count("\n") + 2  # every answer, and the refused one again
    assert took < 5, f"the flow waited {took:.1f} s for a Retry-After capped at 0.5 s"


# --- 6. one answer nested 100,000 deep does not lose the batch -------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def test_an_answer_nested_too_deep_fails_its_row_alone_and_is_not_cached(h: Harness) -> None:
    texts = ['{"n": 1}', DEEP, '{"n": 3}']
    h.shell.user_ns["docs"] = pd.DataFrame({"text": texts}, index=[10, 20, 30])
    source = f"%%route {MODEL} --each docs -o out --format json\necho: {{text}}"
    with EchoService() as service:
        use_service(h, service.base_url)
        cell = h.run(source)
        assert_no_traceback([cell])
        out = h.shell.user_ns["out"]
        assert (out.loc[10, "n"], out.loc[30, "n"]) == (1, 3)  # the others are parsed
        assert out.loc[20].isna().all()
        assert "1 failed" in visible(cell) and "NOT_JSON" in visible(cell)
        assert "<td>20</td>" in cell.final_html()  # listed among the failed rows
        h.run(source)
        deep = [b for b in service.chat_bodies() if DEEP in b["messages"][-1]["content"]]
    assert len(deep) == 2, "the poisoned answer was cached: the re-run did not ask again"


# --- 7. batches fail over as single cells do -------------------------------------------------


def closed_port_url() -> str:
    """A loopback base URL nobody listens on (the port was bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize("flow", ["single", "each"])
def test_requests_fail_over_when_the_primary_is_down(h: Harness, flow: str) -> None:
    use_service(h, closed_port_url())
    h.ok(f"%config RouteMagics.fallback_base_url = {h.emu.base_url!r}")
    cells = run_flow(h, flow)
    assert_no_traceback(cells)
    assert answers(h) == EXPECTED[flow]  # a batch: every row answered


@pytest.mark.parametrize(
    "flow", ["cache", "tools", "schema", "compare", "compare-each", "background", "background-each"]
)
def test_every_other_flow_fails_over_too(h: Harness, flow: str) -> None:
    use_service(h, closed_port_url())
    h.ok(f"%config RouteMagics.fallback_base_url = {h.emu.base_url!r}")
    cells = run_flow(h, flow)
    assert_no_traceback(cells)
    assert EXPECTED[flow] in answers(h)


# --- 8. one odd row does not kill the batch --------------------------------------------------


class Unprintable:
    def __str__(self) -> str:
        raise ValueError("this value cannot be shown")


ODD = {"lone surrogate": "\udcff", "str raises": Unprintable()}


@pytest.mark.parametrize("odd", list(ODD))
def test_one_odd_row_fails_alone_in_one_line(h: Harness, odd: str) -> None:
    values = ["alpha", ODD[odd], "gamma"]
    h.shell.user_ns["odd"] = pd.DataFrame({"text": values}, index=[10, 20, 30], dtype=object)
    cell = h.run(each_cell("odd"))
    assert_no_traceback([cell])
    out = h.shell.user_ns["out"]
    assert (out[10], out[30]) == ("row alpha", "row gamma")
    assert pd.isna(out[20])
    assert "1 failed" in visible(cell)
    assert "<td>20</td>" in cell.final_html()  # listed among the failed rows


@pytest.mark.parametrize("flow", ["single", "tools", "schema"])
def test_text_no_request_can_carry_fails_a_cell_in_one_line_before_sending(
    h: Harness, flow: str
) -> None:
    h.shell.user_ns["odd"] = "caf\udcff"
    source = CELLS[flow][0] + " {odd}"  # the cell's prompt ends with the lone surrogate
    line = one_line(h.run(source).error)
    assert "U+DCFF" in line and "not valid text" in line
    assert chat_count(h) == 0  # nothing was sent


# --- 9. a ledger that breaks mid-batch keeps the answers -------------------------------------


def batch_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [
        t for t in threading.enumerate()
        if t not in before and t.name.startswith("routing-magics-batch-") and t.is_alive()
    ]  # fmt: skip


def break_ledger_after_first_write(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Ledger writes succeed once, then fail as a full disk would; returns the writes' sizes."""
    writes: list[int] = []
    write = Ledger.record_many

    def breaking(self: Ledger, rows: object) -> None:
        writes.append(len(rows))  # type: ignore[arg-type]
        if len(writes) > 1:
            raise LedgerUnavailable(self.path, "failed (disk I/O error)", "free some space")
        write(self, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "record_many", breaking)
    return writes


def test_a_ledger_that_breaks_mid_batch_keeps_the_answers(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.ok("many = pd.DataFrame({'text': [f'n{i}' for i in range(20)]})")
    h.emu.latency = 0.15  # 20 rows two at a time: about 1.5 s, so the ledger is written mid-way
    writes = break_ledger_after_first_write(monkeypatch)
    before = set(threading.enumerate())
    cell = h.run(each_cell("many", "--concurrency 2"))
    assert_no_traceback([cell])
    assert len(writes) > 1, "the ledger was written once only: it never broke mid-batch"
    assert answers(h) == "\n".join(f"row n{i}" for i in range(20))
    assert len(lines_saying([cell], UNRECORDED)) == 1
    deadline = time.monotonic() + 2
    while batch_threads(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not batch_threads(before)
