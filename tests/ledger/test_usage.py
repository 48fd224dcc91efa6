"""The usage ledger: totals, isolation, restarts, migrations, concurrent kernels, keys, path."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from routing_magics.ledger import (
    MIGRATIONS,
    Ledger,
    ModelTotals,
    NotebookTotals,
    UsageRow,
    default_ledger_path,
    migrate,
    notebook_key,
)

if TYPE_CHECKING:
    from multiprocessing.synchronize import Barrier


def make_row(
    notebook: str = "a.ipynb",
    model: str = "route/alpha",
    prompt: int = 10,
    completion: int = 5,
    *,
    estimated: bool = False,
    latency_ms: int | None = 100,
    outcome: str = "ok",
) -> UsageRow:
    return UsageRow(
        notebook=notebook,
        model=model,
        endpoint="https://api.routing.run/v1",
        provider="prov",
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        estimated=estimated,
        ttft_ms=20,
        latency_ms=latency_ms,
        outcome=outcome,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "usage.sqlite") as opened:
        yield opened


def test_totals_are_sums_of_recorded_rows(ledger: Ledger) -> None:
    ledger.record(make_row(model="route/alpha", prompt=10, completion=5, latency_ms=100))
    ledger.record(make_row(model="route/alpha", prompt=7, completion=3, latency_ms=300))
    ledger.record(
        make_row(
            model="route/beta",
            prompt=1,
            completion=2,
            latency_ms=None,
            estimated=True,
            outcome="PROVIDER_ERROR",
        )
    )
    ledger.record(
        make_row(model="route/beta", prompt=4, completion=0, latency_ms=None, outcome="stopped")
    )

    by_model = {t.model: t for t in ledger.totals_by_model("a.ipynb")}

    assert by_model["route/alpha"] == ModelTotals(
        "route/alpha", requests=2, prompt_tokens=17, completion_tokens=8, total_tokens=25,
        mean_latency_ms=200.0, estimated=False, errors=0,
    )  # fmt: skip
    assert by_model["route/beta"] == ModelTotals(
        "route/beta", requests=2, prompt_tokens=5, completion_tokens=2, total_tokens=7,
        mean_latency_ms=None, estimated=True, errors=1,
    )  # fmt: skip
    assert [t.model for t in ledger.totals_by_model("a.ipynb")] == ["route/alpha", "route/beta"]
    assert ledger.notebook_total("a.ipynb") == NotebookTotals("a.ipynb", 4, 22, 10, 32)


def test_notebooks_are_isolated_and_none_means_all(ledger: Ledger) -> None:
    ledger.record(make_row(notebook="a.ipynb", prompt=10, completion=5))
    ledger.record(make_row(notebook="b.ipynb", prompt=100, completion=50))
    ledger.record(make_row(notebook="b.ipynb", model="route/beta", prompt=1, completion=1))

    assert [(t.model, t.total_tokens) for t in ledger.totals_by_model("a.ipynb")] == [
        ("route/alpha", 15)
    ]
    assert [(t.model, t.requests, t.total_tokens) for t in ledger.totals_by_model(None)] == [
        ("route/alpha", 2, 165),
        ("route/beta", 1, 2),
    ]
    assert ledger.totals_by_notebook() == [
        NotebookTotals("a.ipynb", 1, 10, 5, 15),
        NotebookTotals("b.ipynb", 2, 101, 51, 152),
    ]
    assert ledger.notebook_total("never-used.ipynb") == NotebookTotals(
        "never-used.ipynb", 0, 0, 0, 0
    )
    assert ledger.totals_by_model("never-used.ipynb") == []


def test_reset_deletes_only_this_notebook(ledger: Ledger) -> None:
    for _ in range(3):
        ledger.record(make_row(notebook="a.ipynb"))
    ledger.record(make_row(notebook="b.ipynb"))

    assert ledger.reset("a.ipynb") == 3
    assert ledger.notebook_total("a.ipynb").requests == 0
    assert ledger.notebook_total("b.ipynb").requests == 1
    assert ledger.reset("a.ipynb") == 0


def test_totals_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "usage.sqlite"
    with Ledger(path) as first:
        first.record(make_row(prompt=3, completion=4))
    with Ledger(path) as after_restart:
        after_restart.record(make_row(prompt=1, completion=1))
        assert after_restart.notebook_total("a.ipynb") == NotebookTotals("a.ipynb", 2, 4, 5, 9)


def test_the_ledger_never_has_a_column_for_a_key(ledger: Ledger) -> None:
    ledger.record(make_row())
    conn = sqlite3.connect(ledger.path)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(requests)")}
    conn.close()
    assert not any("key" in c or "auth" in c for c in columns)
    assert {"notebook", "model", "total_tokens", "estimated", "outcome"} <= columns


def test_migrations_bring_an_empty_file_to_the_latest_version_idempotently(
    tmp_path: Path,
) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    migrate(conn)
    migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"requests", "requests_notebook_model"} <= tables
    conn.close()
    with Ledger(path) as reopened:  # a migrated file opens without re-running anything
        reopened.record(make_row())
        assert reopened.notebook_total("a.ipynb").requests == 1


def _write_rows(path: str, worker: int, count: int, start: Barrier) -> None:
    start.wait(timeout=60)
    with Ledger(path) as ledger:
        for i in range(count):
            ledger.record(make_row(notebook=f"nb{worker}.ipynb", prompt=i, completion=1))


def test_concurrent_processes_lose_no_row(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")  # fresh file: the kernels also race to migrate it
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(4)
    workers = [ctx.Process(target=_write_rows, args=(path, w, 200, start)) for w in range(4)]
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join(timeout=90)
    assert [proc.exitcode for proc in workers] == [0, 0, 0, 0]

    with Ledger(path) as ledger:
        per_notebook = ledger.totals_by_notebook()
    assert sum(t.requests for t in per_notebook) == 800
    assert [(t.notebook, t.requests, t.prompt_tokens) for t in per_notebook] == [
        (f"nb{w}.ipynb", 200, sum(range(200))) for w in range(4)
    ]


@pytest.mark.parametrize(
    ("env", "user_ns", "kernel_id", "expected"),
    [
        ({"JPY_SESSION_NAME": "/home/u/a.ipynb"},
         {"__session__": "b.ipynb", "__vsc_ipynb_file__": "c.ipynb"}, "k1", "/home/u/a.ipynb"),
        ({}, {"__session__": "b.ipynb", "__vsc_ipynb_file__": "c.ipynb"}, "k1", "b.ipynb"),
        ({"JPY_SESSION_NAME": ""}, {"__vsc_ipynb_file__": "/w/c.ipynb"}, "k1", "/w/c.ipynb"),
        ({}, {"__session__": None}, "1234-abcd", "kernel:1234-abcd"),
    ],
)  # fmt: skip
def test_notebook_key_precedence(
    env: dict[str, str], user_ns: dict[str, object], kernel_id: str | None, expected: str
) -> None:
    assert notebook_key(user_ns, env, kernel_id) == expected


def test_default_ledger_path_honours_the_env_var(tmp_path: Path) -> None:
    chosen = tmp_path / "mine.sqlite"
    assert default_ledger_path({"ROUTING_MAGICS_USAGE_DB": str(chosen)}) == chosen
    data_dir = tmp_path / "jupyter-data"
    assert default_ledger_path({"JUPYTER_DATA_DIR": str(data_dir)}) == (
        data_dir / "routing_magics" / "usage.sqlite"
    )
    assert default_ledger_path({}).parts[-2:] == ("routing_magics", "usage.sqlite")
