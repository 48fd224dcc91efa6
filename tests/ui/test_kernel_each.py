"""`%%route --each` in a real Jupyter kernel: the progress bar and summary as a notebook gets
them, an interrupt mid-batch (finished rows bound, the next cell works), and a resume."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from routing_magics.emulator import Emulator
from tests.ui.test_kernel import Kernel, keyed_kernel, outcomes

FRAME = (
    "import pandas as pd\n"
    "reviews = pd.DataFrame({'text': [f'review{i}' for i in range(40)]}, index=range(100, 140))"
)


@pytest.fixture(scope="module")
def kernel(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with keyed_kernel(emulator, tmp_path_factory.mktemp("kernel-each")) as k:
        yield k


def chats(emu: Emulator) -> int:
    return len([r for r in emu.requests if r.path == "/v1/chat/completions"])


def values(kernel: Kernel, expression: str) -> Any:
    run = kernel.ok(f"import json; print(json.dumps({expression}))")
    return json.loads(run.stream("stdout"))


def test_a_batch_shows_a_progress_bar_then_a_summary_and_binds_the_column(
    kernel: Kernel, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    kernel.ok(FRAME)
    run = kernel.ok("%%route --each reviews -o out --into answer --concurrency 4\necho: {text}")
    updates = [u["content"]["data"] for u in run.of("update_display_data")]
    assert any("application/vnd.jupyter.widget-view+json" in u for u in updates)  # tqdm's bar
    # The bar's display starts and ends as one heading: what nbval replays is what the
    # notebook keeps, no dead widget is saved, and a code host shows a line, not an empty box.
    stored = [out["data"] for out in run.stored() if out["type"] == "display_data"]
    assert stored == [d["data"] for d in run.displays]  # (the cost estimate is a stdout line)
    assert run.displays[0]["data"]["text/plain"] == "--each reviews: 40 rows"
    [summary] = [d["data"] for d in run.displays if " rows: " in d["data"].get("text/plain", "")]
    assert summary["text/plain"].startswith("40 rows: 40 answered, 0 from cache, 0 failed")
    assert "text/markdown" not in summary
    assert values(kernel, "out.index.tolist()") == list(range(100, 140))
    assert values(kernel, "out.tolist()") == [f"review{i}" for i in range(40)]
    assert values(kernel, "reviews['answer'].tolist()") == [f"review{i}" for i in range(40)]


def test_interrupt_mid_batch_keeps_finished_rows_and_a_rerun_sends_only_the_rest(
    kernel: Kernel, emu: Emulator
) -> None:
    emu.per_minute_limit = 6000
    emu.latency = 0.25
    kernel.ok(FRAME.replace("review{i}", "stop{i}"))
    interrupted: list[float] = []

    def interrupt_after_some_rows() -> None:
        deadline = time.monotonic() + 20
        while chats(emu) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        interrupted.append(time.monotonic())
        kernel.km.interrupt_kernel()

    threading.Thread(target=interrupt_after_some_rows, daemon=True).start()
    run = kernel.run("%%route --each reviews -o out --concurrency 4\necho: {text}")
    took = time.monotonic() - interrupted[0]
    assert took < 2, f"the batch should stop at once, took {took:.2f} s"
    line = run.stopped()  # not "UsageError: the batch stopped (stopped by the user (interrupt))…"
    assert re.fullmatch(
        r"Stopped: \d+ answered rows are kept, \d+ not sent; run the cell again to send only those",
        line,
    ), line
    answers = values(kernel, "out.tolist()")
    done = [a for a in answers if a is not None]
    assert 5 <= len(done) < 40
    assert all(a is None or a == f"stop{i}" for i, a in enumerate(answers))
    assert "stopped" in outcomes(kernel)
    emu.latency = 0.0
    kernel.ok("%%route\necho: the next cell works")
    before = chats(emu)
    again = kernel.ok("%%route --each reviews -o out --concurrency 4\necho: {text}")
    assert chats(emu) - before == 40 - len(done)  # only the rows without an answer
    [summary] = [d["data"] for d in again.displays if " rows: " in d["data"].get("text/plain", "")]
    assert f"{len(done)} from cache" in summary["text/plain"]
    assert values(kernel, "out.tolist()") == [f"stop{i}" for i in range(40)]
    assert json.dumps(again.reply).count("error") == 0
