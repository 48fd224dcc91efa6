"""One rate budget for every kernel: two real Jupyter kernels with one key run `--each` batches
at the same time against a server enforcing 60 requests a minute, and together stay under it.

Each kernel alone paces at 97% of the limit; without the shared budget the two sent twice the
limit and met a 429 every second once the first minute filled. The test takes about a minute:
62 rows at 60 a minute is what the limit allows.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from routing_magics.ledger.window import WINDOW
from tests.ui.test_kernel import Kernel, Run, execute, kernel_env, start_kernel, stop_kernel

ROWS = 31  # per kernel: 62 in all, more than one minute's 60
FRAME = (
    f"import pandas as pd\nreviews = pd.DataFrame({{'text': [f'r{{i}}' for i in range({ROWS})]}})"
)
BATCH = "%%route route/mistral-small-2503 --each reviews -o out --concurrency 8\necho: {text}"


@contextmanager
def kernels_with_one_key(emulator: Emulator, tmp: Path, count: int) -> Iterator[list[Kernel]]:
    """`count` kernels with the same key and the same ledger folder, as on one machine."""
    key = f"rk_test_{secrets.token_hex(16)}"
    env = kernel_env(ROUTING_RUN_API_KEY=key, ROUTING_RUN_BASE_URL=emulator.base_url,
                     ROUTING_RUN_FALLBACK_BASE_URL="",
                     ROUTING_MAGICS_USAGE_DB=str(tmp / "usage.sqlite"))  # fmt: skip
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            kernel = start_kernel(tmp, env)
            stack.callback(stop_kernel, kernel)
            kernel.ok("%load_ext routing_magics")
            started.append(kernel)
        yield started
        for kernel in started:
            kernel.assert_never_shown(key)
        for path in tmp.glob("*.sqlite*"):  # the ledger, the rate budget, their -wal and -shm
            assert path.is_file() and key.encode() not in path.read_bytes()


def most_in_a_minute(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered if s <= t < s + WINDOW) for s in ordered)


@pytest.mark.timeout(300)
def test_two_kernels_batching_with_one_key_share_the_per_minute_limit(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.per_minute_limit = 60
    with kernels_with_one_key(emu, tmp_path, 2) as kernels:
        for kernel in kernels:
            kernel.ok(FRAME)
        runs: dict[int, Run] = {}
        threads = [
            threading.Thread(target=lambda i=i, k=k: runs.__setitem__(i, execute(k.kc, BATCH, 220)))
            for i, k in enumerate(kernels)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=230)
        for i, kernel in enumerate(kernels):  # checked for the key when the kernels stop
            kernel.runs += [runs[i]] if i in runs else []
    assert sorted(runs) == [0, 1]
    for run in runs.values():
        assert run.reply["status"] == "ok", run.reply
        [summary] = [d["data"]["text/plain"] for d in run.displays
                     if " rows: " in d["data"].get("text/plain", "")]  # fmt: skip
        assert summary.startswith(f"{ROWS} rows: {ROWS} answered, 0 from cache, 0 failed")
    arrivals = [r.at for r in emu.requests if r.path == "/v1/chat/completions"]
    assert emu.rate_limited <= 1, f"{emu.rate_limited} requests refused with 429"
    assert len(arrivals) == 2 * ROWS + emu.rate_limited
    assert most_in_a_minute(arrivals) <= 60
