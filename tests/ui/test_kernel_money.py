"""Money in a real Jupyter kernel against the emulator with prices of the test's own: a batch's
estimate before its first request, the yes/no in the input box (the kernel's stdin channel,
answered as a frontend answers it) and the refusal where there is none, `--yes`, the budget
refusing the next request unsent and stopping a batch with its rows kept and bound, an unpriced
route, the footer's budget left, and a budget that survives a kernel restart.

The notebook's spend only grows within the module's kernel, so each test sets its budget
relative to what was spent: a tiny one is reached, a large one is not.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from routing_magics.emulator import Emulator
from tests.ui.test_kernel import Kernel, Run, keyed_kernel
from tests.ui.test_kernel_context import run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX kernels only")

DEAR = "route/mistral-large-3"  # not a reasoning route: -m 20 leaves room for the echo
CHEAP_UNPRICED = "route/mistral-small-2503"  # the emulator publishes no price for it
#: $1,000 per million tokens for DEAR alone: every request costs a visible amount.
PRICED = [{"model": DEAR, "input_per_million": 1000, "output_per_million": 1000}]
FRAME = "import pandas as pd\nfive = pd.DataFrame({'text': list('abcde')})"
BATCH = f"%%route {DEAR} --each five -o out --no-cache -m 20"
WORDS = " ".join(f"word{i}" for i in range(40))
SPEND = f"%%route {DEAR}\necho: {WORDS}"
TINY = "0.00001"


@pytest.fixture(scope="module")
def kernel(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with keyed_kernel(emulator, tmp_path_factory.mktemp("kernel-money")) as k:
        k.ok(FRAME)
        yield k


@pytest.fixture
def priced(kernel: Kernel, emu: Emulator) -> Kernel:
    """The kernel, no budget, the default threshold; the emulator's prices are the test's own
    (fetched by the kernel once, at its first cell that needs them)."""
    emu.pricing = PRICED
    emu.per_minute_limit = 6000
    kernel.ok(
        "%route budget off\n%config RouteMagics.confirm_above_usd = 1.0\n"
        "%config RouteMagics.budget_refuses_unpriced = False"
    )
    return kernel


def chats(emu: Emulator) -> int:
    return len([r for r in emu.requests if r.path == "/v1/chat/completions"])


def values(kernel: Kernel, expression: str) -> Any:
    return json.loads(kernel.ok(f"import json; print(json.dumps({expression}))").stream("stdout"))


def footer(cell: Run) -> str:
    return str(cell.displays[-1]["data"]["text/plain"])


def test_a_batch_shows_its_estimate_before_its_first_request(priced: Kernel, emu: Emulator) -> None:
    cell = priced.ok(f"{BATCH}\necho: {{text}}")
    kinds = [m["msg_type"] for m in cell.messages if m["msg_type"] in ("stream", "display_data")]
    assert kinds[0] == "stream"  # said before the progress bar's first display
    estimate = cell.stream("stdout").splitlines()[0]
    assert re.fullmatch(
        r"Estimate: ≈ \$0\.\d+ for 5 requests \(5 rows × route/mistral-large-3\) · "
        r"≈ \d+ tokens in, from the requests · up to 20 out a row \(-m\) · today's prices",
        estimate,
    ), estimate
    assert chats(emu) == 5 and values(priced, "out.tolist()") == list("abcde")


def test_above_the_threshold_with_no_input_box_it_refuses_in_one_line(
    priced: Kernel, emu: Emulator
) -> None:
    priced.ok(f"%config RouteMagics.confirm_above_usd = {TINY}")
    cell, prompts = run(priced, f"{BATCH}\necho: {{text}}")  # allow_stdin=False: nbval's way
    message = cell.usage_error()
    assert message.startswith("the batch was not sent: its estimated cost ≈ $")
    assert "is above RouteMagics.confirm_above_usd ($0.00001)" in message
    assert "add --yes" in message and "%config RouteMagics.confirm_above_usd = 10" in message
    assert prompts == [] and chats(emu) == 0


def test_above_the_threshold_it_asks_in_the_input_box(priced: Kernel, emu: Emulator) -> None:
    priced.ok(f"%config RouteMagics.confirm_above_usd = {TINY}")
    declined, prompts = run(priced, f"{BATCH}\necho: {{text}}", ("n",))
    assert len(prompts) == 1
    assert re.fullmatch(r"Send 5 requests, estimated ≈ \$0\.\d+\? \[y/N\] ", prompts[0])
    assert declined.usage_error().startswith("the batch was not sent: the answer was no")
    assert chats(emu) == 0
    sent, prompts = run(priced, f"{BATCH}\necho: {{text}}", ("y",))
    assert sent.reply["status"] == "ok" and len(prompts) == 1
    assert chats(emu) == 5 and values(priced, "out.tolist()") == list("abcde")


def test_yes_sends_without_asking(priced: Kernel, emu: Emulator) -> None:
    priced.ok(f"%config RouteMagics.confirm_above_usd = {TINY}")
    cell, prompts = run(priced, f"{BATCH} --yes\necho: {{text}}")
    assert cell.reply["status"] == "ok" and prompts == [] and chats(emu) == 5


def test_the_budget_refuses_the_next_request_unsent(priced: Kernel, emu: Emulator) -> None:
    priced.ok(SPEND)  # something spent today, whatever ran before
    shown = priced.ok(f"%route budget {TINY}").stream("stdout")
    assert re.fullmatch(
        r"This notebook today: ≈ \$[\d.]+ spent of its \$0\.00001 budget \(≈ \$0 left\)\.\n", shown
    ), shown
    sent = chats(emu)
    refused = priced.run(SPEND).usage_error()
    assert refused.startswith("not sent: this notebook has spent ≈ $")
    assert "of its $0.00001 budget for today (BUDGET_EXCEEDED)" in refused
    assert "raise it with `%route budget AMOUNT` (USD)" in refused
    assert chats(emu) == sent  # the server saw no request
    priced.ok("%route budget off")
    priced.ok(SPEND)
    assert chats(emu) == sent + 1  # the next cell works


def test_a_batch_stops_at_the_budget_with_answered_rows_kept_and_bound(
    priced: Kernel, emu: Emulator
) -> None:
    priced.ok(SPEND)
    spent = priced.ok("%route budget").stream("stdout")
    usd = float(re.search(r"≈ \$([\d.]+) spent", spent).group(1))  # type: ignore[union-attr]
    priced.ok(f"%route budget {usd + 0.08:.6f}")  # room for two rows or three, not five
    long_rows = f"{BATCH.replace('-m 20', '-m 100')} --concurrency 1 --into answer --yes"
    before = chats(emu)
    cell = priced.run(f"{long_rows}\necho: {{text}} {WORDS}")  # ≈ $0.05 a row
    assert cell.usage_error().startswith("the batch stopped (not sent: this notebook has spent")
    kept = [v for v in values(priced, "out.tolist()") if v is not None]
    assert 1 <= len(kept) < 5 and kept == [f"{t} {WORDS}" for t in "abcde"][: len(kept)]
    assert values(priced, "five['answer'].tolist()")[: len(kept)] == kept
    assert chats(emu) == before + len(kept)  # the rest were never sent
    summary = next(d["data"]["text/plain"] for d in cell.displays
                   if " rows: " in d["data"]["text/plain"])  # fmt: skip
    assert f"{5 - len(kept)} not sent" in summary and "budget for today" in summary


def test_an_unpriced_route_is_counted_unknown_said_once_refused_only_when_asked(
    priced: Kernel, emu: Emulator
) -> None:
    priced.ok("%route budget 50")
    first = priced.ok(f"%%route {CHEAP_UNPRICED}\necho: first")
    said = f"{CHEAP_UNPRICED} has no known price: what it spends counts as unknown, not free"
    assert said in json.dumps(first.displays, ensure_ascii=False)
    second = priced.ok(f"%%route {CHEAP_UNPRICED}\necho: second")
    assert said not in json.dumps(second.displays, ensure_ascii=False)  # once
    shown = priced.ok("%route budget").stream("stdout")
    assert f"Not counted: {CHEAP_UNPRICED} (no known price, so unknown, not free)." in shown
    priced.ok("%config RouteMagics.budget_refuses_unpriced = True")
    sent = chats(emu)
    refused = priced.run(f"%%route {CHEAP_UNPRICED}\necho: third").usage_error()
    assert refused.startswith(f"not sent: {CHEAP_UNPRICED} has no known price")
    assert "(UNPRICED_ROUTE)" in refused and chats(emu) == sent
    priced.ok(SPEND)  # a priced route still goes


def test_the_footer_shows_the_budget_left_when_one_is_set(priced: Kernel) -> None:
    assert "budget left" not in footer(priced.ok(SPEND))
    priced.ok("%route budget 100")
    left = footer(priced.ok(SPEND))
    assert re.search(r" · budget left ≈ \$\d+(\.\d+)? of \$100\.00 · ", left), left


def test_a_budget_survives_a_kernel_restart(priced: Kernel) -> None:
    """Runs last in this module: it restarts the kernel."""
    priced.ok("%route budget 2.5")
    priced.km.restart_kernel(now=True)  # a new process, the same connection file and id
    priced.kc.wait_for_ready(timeout=60)
    priced.ok("%load_ext routing_magics")
    assert "of its $2.50 budget" in priced.ok("%route budget").stream("stdout")
