"""Throughput and cost of `--each` batches against the emulator. Prints figures.

    python benchmarks/batch.py [--rows 200] [--paced-rows 90] [--tiny-rows 10000]
    python benchmarks/batch.py --only-background [--background-rows 2000]

1. Latency-bound: 0.5 s per request, concurrency 8, a per-minute limit that does not bind:
   rows per second beside the ideal (concurrency / latency), and the connections opened.
2. Limit-bound: the emulator allows 120 requests a minute: rows per second beside that limit,
   and how many 429s came back (goal: none).
3. Stop: 2 s latency, 8 requests in flight, the Stop event set mid-batch: how long until the
   batch has returned (goal: under half a second), with the streams in flight closed.
4. 10,000 rows with tiny answers, unthrottled, the emulator in another process: peak memory
   growth of this process and the time each row costs on our side (CPU time of this process,
   which holds the batch, httpx, the ledger and the cache, per row).
5. Schema: the time `--schema` adds per row on our side: reading the answer tool's arguments and
   validating them against a 5-field pydantic model, and against the same fields as a concise
   spec (jsonschema) (goal: under 1 ms a row).
6. Two batches at once with one key, under one per-minute limit (100, as routing.run): the ratio
   of the limit their sends reached together and the 429s, with the machine's shared rate budget
   and, for comparison, with a budget each (as before it was shared) (goal: ~0.97, no 429).
7. Foreground latency: `1 + 1` round trips in a real kernel while a `--background` batch at
   concurrency 50 streams there, beside the same kernel idle (goal: median under 50 ms).
8. Budget: the time the budget's gate takes per request over a ledger of 100,000 of today's rows,
   with no budget and with one, and 2,000 tiny rows with and without a budget (goal: well under
   a millisecond without a budget; no visible change in rows per second).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from routing_magics.config import Settings
from routing_magics.display.progress import NoProgress
from routing_magics.emulator import Emulator
from routing_magics.run import RunOptions
from routing_magics.run.batch import BatchOptions, BatchResult, run_batch
from routing_magics.session import Session

TEMPLATE = "echo: {text}"


def batch(
    base_url: str, rows: int, concurrency: int, db: Path, stop: threading.Event | None = None
) -> BatchResult:
    settings = Settings(api_key="rk_bench", base_url=base_url, fallback_base_url=None,
                        usage_db=str(db))  # fmt: skip
    return session_batch(settings, rows, concurrency, stop)


def session_batch(
    settings: Settings, rows: int, concurrency: int, stop: threading.Event | None = None
) -> BatchResult:
    session = Session(settings, notebook="benchmark")
    frame = pd.DataFrame({"text": [f"row {i}" for i in range(rows)]})
    try:
        return run_batch(
            session, "frame", frame, TEMPLATE, RunOptions(), BatchOptions(concurrency, cache=False),
            {}, NoProgress(), stop,
        )  # fmt: skip
    finally:
        session.close()


def latency_bound(rows: int, tmp: Path) -> None:
    with Emulator(latency=0.5, per_minute_limit=1_000_000, daily_limit=1_000_000) as emu:
        result = batch(emu.base_url, rows, 8, tmp / "a.sqlite")
        rate, ideal = rows / result.seconds, 8 / 0.5
        print(f"latency-bound: {rows} rows, 0.5 s latency, concurrency 8: {result.seconds:.2f} s, "
              f"{rate:.2f} rows/s, ideal {ideal:.0f} rows/s, ratio {rate / ideal:.3f}; "
              f"{emu.connections} connections for {result.requests} requests")  # fmt: skip


def limit_bound(rows: int, tmp: Path) -> None:
    with Emulator(latency=0.5, per_minute_limit=120, daily_limit=1_000_000) as emu:
        result = batch(emu.base_url, rows, 8, tmp / "b.sqlite")
        arrivals = sorted(r.at for r in emu.requests if r.path == "/v1/chat/completions")
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        print(f"limit-bound: {rows} rows at 120/min: {result.seconds:.1f} s, sending "
              f"{rate * 60:.1f} requests/min, ratio to the limit {rate / 2:.3f}; "
              f"429s: {emu.rate_limited} (client saw {result.rate_limited}), "
              f"answered {result.count('ok')}/{rows}")  # fmt: skip


def stop_time(tmp: Path) -> None:
    with Emulator(latency=2.0, per_minute_limit=1_000_000, daily_limit=1_000_000) as emu:
        stop, pressed = threading.Event(), []

        def press() -> None:
            while len(emu.requests) < 9:  # the account request, then 8 rows in flight
                time.sleep(0.01)
            time.sleep(0.2)
            pressed.append(time.monotonic())
            stop.set()

        threading.Thread(target=press, daemon=True).start()
        result = batch(emu.base_url, 40, 8, tmp / "s.sqlite", stop)
        took = time.monotonic() - pressed[0]
        print(f"stop: {took * 1000:.0f} ms from Stop to the batch returning; "
              f"{result.count('stopped')} rows stopped in flight, "
              f"{result.count('not sent')} not sent")  # fmt: skip


def tiny_rows(rows: int, tmp: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "routing_magics.emulator", "--per-minute-limit", "100000000",
         "--daily-limit", "100000000"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        batch(url, 50, 8, tmp / "warm.sqlite")  # imports, first connections
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu, wall = time.process_time(), time.monotonic()
        result = batch(url, rows, 8, tmp / "c.sqlite")
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
        print(f"tiny rows: {rows:,} rows unthrottled, concurrency 8: {wall:.1f} s "
              f"({rows / wall:.0f} rows/s), peak memory growth {grown:.1f} MB, our CPU time "
              f"{cpu / rows * 1000:.2f} ms per row; answered {result.count('ok'):,}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)


def schema_cost(rows: int) -> None:
    from pydantic import BaseModel

    from routing_magics.api.models import Completion, ToolCall
    from routing_magics.prompt.schema import schema_from_spec, schema_of
    from routing_magics.run.structured import StructuredUse, check

    class Ticket(BaseModel):
        sentiment: str
        score: float
        urgent: bool
        summary: str
        votes: int

    spec = "sentiment, score float, urgent bool, summary, votes int"
    answers = [
        Completion(tool_calls=[ToolCall(f"c{i}", "record_answer", json.dumps(
            {"sentiment": "negative", "score": i / rows, "urgent": i % 2 == 0,
             "summary": f"ticket {i} is about an invoice", "votes": i}))])
        for i in range(rows)
    ]  # fmt: skip
    for label, schema in (("pydantic", schema_of(Ticket, "Ticket")),
                          ("concise", schema_from_spec(spec, {}))):  # fmt: skip
        use = StructuredUse(schema, "tool")
        check(use, answers[0])  # builds the validator once, as the first row does
        started = time.perf_counter()
        valid = sum(check(use, done).ok for done in answers)
        took = (time.perf_counter() - started) / rows * 1000
        print(
            f"schema ({label}, 5 fields): {took:.3f} ms a row to read and validate; "
            f"{valid:,}/{rows:,} valid"
        )


def two_batches(rows: int, tmp: Path, *, shared: bool) -> None:
    """Two batches of `rows` at once, one key, the emulator allowing 100 a minute; `shared`:
    one ledger folder (one rate budget), else a folder each (each batch paced on its own)."""
    with Emulator(latency=0.5, per_minute_limit=100, daily_limit=1_000_000) as emu:
        results: list[BatchResult] = []
        folders = [tmp / ("shared" if shared else f"own{i}") for i in range(2)]
        threads = [
            threading.Thread(target=lambda f=folder: results.append(session_batch(
                Settings(api_key="rk_bench_two", base_url=emu.base_url, fallback_base_url=None,
                         usage_db=str(f / "usage.sqlite")), rows, 8)))
            for folder in folders
        ]  # fmt: skip
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        sent = sorted(r.at for r in emu.requests if r.path == "/v1/chat/completions")
        rate = (len(sent) - 1) / (sent[-1] - sent[0]) * 60
        answered = sum(r.count("ok") for r in results)
        budget = "one shared rate budget" if shared else "a rate budget each"
        print(f"two batches, {budget}: 2 x {rows} rows at 100/min in {took:.1f} s, "
              f"{answered / took * 60:.1f} rows/min answered, sends at {rate:.1f}/min, "
              f"ratio to the limit {rate / 100:.3f}; 429s: {emu.rate_limited}, "
              f"answered {answered}/{2 * rows}")  # fmt: skip


def foreground_latency(rows: int, tmp: Path) -> None:
    """Case 7: `1 + 1` round trips in a kernel while a 50-concurrency `--background` batch runs
    there (the emulator in another process, streaming), beside the same without the batch."""
    from jupyter_client.manager import KernelManager

    server = subprocess.Popen(
        [sys.executable, "-m", "routing_magics.emulator", "--per-minute-limit", "100000000",
         "--daily-limit", "100000000", "--latency", "0.5", "--token-rate", "50"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    km = KernelManager(kernel_name="python3")
    try:
        assert server.stdout is not None
        env = dict(os.environ, ROUTING_RUN_API_KEY="rk_bench", ROUTING_RUN_FALLBACK_BASE_URL="",
                   ROUTING_RUN_BASE_URL=server.stdout.readline().strip(),
                   ROUTING_MAGICS_USAGE_DB=str(tmp / "fg.sqlite"))  # fmt: skip
        km.start_kernel(env=env)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        _round_trip(kc, "%load_ext routing_magics")
        idle = [_round_trip(kc, "1 + 1") for _ in range(50)]
        words = " ".join(f"w{i}" for i in range(8))
        _round_trip(kc, f"import pandas as pd\nframe = pd.DataFrame({{'text': "
                        f"[f'row {{i}} {words}' for i in range({rows})]}})")  # fmt: skip
        _round_trip(kc, "%%route --each frame --background --concurrency 50 -o out\necho: {text}")
        busy = []
        for _ in range(100):
            busy.append(_round_trip(kc, "1 + 1"))
            time.sleep(0.05)
        waited = _round_trip(kc, "%route wait")
        print(f"foreground latency: `1 + 1` round trip while a {rows:,}-row background batch runs "
              f"at concurrency 50 (0.5 s latency, streamed): median {_ms(busy, 0.5)}, p95 "
              f"{_ms(busy, 0.95)}, max {_ms(busy, 1.0)} over {len(busy)} cells; without the "
              f"batch: median {_ms(idle, 0.5)}; the batch ran {waited:.1f} s more after the "
              f"last sample (goal: median under 50 ms)")  # fmt: skip
    finally:
        km.shutdown_kernel(now=True)
        server.terminate()
        server.wait(timeout=10)


def _round_trip(kc: Any, code: str) -> float:
    """Seconds from sending `code` to the kernel's reply (the iopub messages are not read)."""
    started = time.monotonic()
    msg_id = kc.execute(code)
    while kc.get_shell_msg(timeout=120)["parent_header"].get("msg_id") != msg_id:
        pass
    return time.monotonic() - started


def _ms(samples: list[float], quantile: float) -> str:
    ordered = sorted(samples)
    return f"{ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000:.1f} ms"


def budget_gate_cost(rows: int, tmp: Path) -> None:
    """Case 8: the budget's gate: the time one check takes (every request pays it, budget or not)
    over a ledger holding `rows` of today's rows, and a batch of tiny rows with a budget set."""
    from routing_magics.ledger import Ledger, UsageRow

    with Ledger(tmp / "gate.sqlite") as ledger:
        now = time.time()
        row = UsageRow("benchmark", "route/m", "e", None, 40, 10, 50, False, None, None, "ok", now)
        ledger.record_many([row] * rows)
    with Emulator(per_minute_limit=100_000_000, daily_limit=100_000_000) as emu:
        settings = Settings(api_key="rk_bench", base_url=emu.base_url, fallback_base_url=None,
                            usage_db=str(tmp / "gate.sqlite"))  # fmt: skip
        session = Session(settings, notebook="benchmark")
        try:
            for label, budget in (("no budget", None), ("a budget", 1_000_000.0)):
                session.budget.set(budget)
                session.budget.check("route/glm-5")  # prices fetched, ledger opened
                started, n = time.perf_counter(), 200
                for _ in range(n):
                    session.budget.check("route/glm-5")
                took = (time.perf_counter() - started) / n * 1000
                print(f"budget gate ({label}, {rows:,} rows today): {took:.3f} ms a check")
        finally:
            session.close()
        for label, budget in (("no budget", None), ("a budget", 1_000_000.0)):
            db = tmp / f"gate-{len(label)}.sqlite"
            with Ledger(db):
                pass
            probe = Session(Settings(api_key="rk_bench", base_url=emu.base_url,
                                     usage_db=str(db)), notebook="benchmark")  # fmt: skip
            probe.budget.set(budget)
            probe.close()
            started = time.monotonic()
            result = batch(emu.base_url, 2_000, 8, db)
            wall = time.monotonic() - started
            print(f"budget gate: 2,000 tiny rows, concurrency 8, {label}: {2_000 / wall:.0f} "
                  f"rows/s; answered {result.count('ok'):,}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--paced-rows", type=int, default=90)
    parser.add_argument("--tiny-rows", type=int, default=10_000)
    parser.add_argument("--schema-rows", type=int, default=10_000)
    parser.add_argument("--two-rows", type=int, default=75, help="rows of each batch in case 6")
    parser.add_argument("--only-schema", action="store_true", help="run case 5 alone")
    parser.add_argument("--only-two", action="store_true", help="run case 6 alone")
    parser.add_argument("--background-rows", type=int, default=2_000)
    parser.add_argument("--only-background", action="store_true", help="run case 7 alone")
    parser.add_argument("--only-budget", action="store_true", help="run case 8 alone")
    parser.add_argument("--ledger-rows", type=int, default=100_000)
    args = parser.parse_args()
    if args.only_schema:
        return schema_cost(args.schema_rows)
    if args.only_two:
        with tempfile.TemporaryDirectory() as tmp:
            two_batches(args.two_rows, Path(tmp), shared=True)
            two_batches(args.two_rows, Path(tmp), shared=False)
        return None
    if args.only_background:
        with tempfile.TemporaryDirectory() as tmp:
            return foreground_latency(args.background_rows, Path(tmp))
    if args.only_budget:
        with tempfile.TemporaryDirectory() as tmp:
            return budget_gate_cost(args.ledger_rows, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        latency_bound(args.rows, Path(tmp))
        limit_bound(args.paced_rows, Path(tmp))
        stop_time(Path(tmp))
        tiny_rows(args.tiny_rows, Path(tmp))
        two_batches(args.two_rows, Path(tmp), shared=True)
        two_batches(args.two_rows, Path(tmp), shared=False)
        foreground_latency(args.background_rows, Path(tmp))
        budget_gate_cost(args.ledger_rows, Path(tmp))
    schema_cost(args.schema_rows)


if __name__ == "__main__":
    main()
