"""How a `%%route --each` batch is paced, as a notebook user sees it, through a real
InteractiveShell against the emulator: a retried 429 told the same way by the summary and by
`%route usage`, an override above the service's limit capped in one line, and long waits said
in the progress display."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness

MODEL = "route/mistral-small-2503"


def reviews(n: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"review{i}" for i in range(n)]})


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


@pytest.fixture
def text(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """A terminal's shell: the progress bar is one line on stderr."""
    with magic_harness(emu, tmp_path, monkeypatch, display="text") as harness:
        yield harness


def summary(h: Harness) -> str:
    return next(d["text/plain"] for d in h.cells[-1].final if " rows: " in d.get("text/plain", ""))


def usage_row(h: Harness) -> str:
    table = h.ok("%route usage").final_plain()
    return next(line for line in table.splitlines() if line.startswith(MODEL))


def test_a_retried_429_is_one_story_in_the_summary_and_in_usage(h: Harness, emu: Emulator) -> None:
    """The summary said `0 failed` while `%route usage` counted the 429s as failed."""
    emu.per_minute_limit = 6000
    emu.inject("RATE_LIMIT_EXCEEDED", times=3, retry_after=0.1)
    h.shell.user_ns["reviews"] = reviews(4)
    h.ok(f"%%route {MODEL} --each reviews -o out --concurrency 1\necho: {{text}}")
    said = summary(h)
    assert said.startswith("4 rows: 4 answered, 0 from cache, 0 failed, 0 not sent")
    assert "· 3 requests retried after a 429 ·" in said
    row = usage_row(h)
    assert re.search(r"\b7 \(3 retried\)", row), row  # 7 requests, of which 3 were retried
    assert "failed" not in row
    assert h.outcomes().count("retried") == 3 and h.outcomes().count("ok") == 4


def test_a_row_that_fails_after_its_retries_is_failed_in_both(h: Harness, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    emu.inject("PROVIDER_ERROR", times=3)  # sent three times: two retries, then it fails
    h.shell.user_ns["reviews"] = reviews(1)
    h.ok(f"%%route {MODEL} --each reviews -o out\necho: {{text}}")
    said = summary(h)
    assert said.startswith("1 rows: 0 answered, 0 from cache, 1 failed, 0 not sent")
    assert "· 2 requests retried ·" in said
    assert re.search(r"\b3 \(1 failed, 2 retried\)", usage_row(h))


def test_an_override_above_the_service_limit_is_capped_in_one_line(
    h: Harness, emu: Emulator
) -> None:
    """1000 a minute against 100 gave nine 429s and a slower batch than the default."""
    emu.per_minute_limit = 60
    h.shell.user_ns["reviews"] = reviews(4)
    h.ok("%config RouteMagics.requests_per_minute = 1000")
    cell = h.ok(f"%%route {MODEL} --each reviews -o out --concurrency 4\necho: {{text}}")
    lines = [line for line in cell.stdout.splitlines() if "requests_per_minute" in line]
    assert lines == [
        "requests_per_minute = 1,000 is above the 60 requests a minute the service allows this "
        "key: the batch is paced at 60"
    ]
    arrivals = sorted(r.at for r in h.chat_requests())
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) > 0.9, gaps  # 60 a minute: about a second apart, not a burst
    assert emu.rate_limited == 0
    h.ok("%config RouteMagics.requests_per_minute = 30")  # below the limit: the user's to pick
    h.shell.user_ns["few"] = reviews(2)
    again = h.ok(f"%%route {MODEL} --each few -o out --no-cache\necho: {{text}}")
    assert "requests_per_minute" not in again.stdout


def test_a_long_wait_is_said_in_the_progress_display(text: Harness, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    emu.inject("RATE_LIMIT_EXCEEDED", retry_after=2.5)
    text.shell.user_ns["reviews"] = reviews(2)
    cell = text.ok(f"%%route {MODEL} --each reviews -o out --concurrency 1\necho: {{text}}")
    assert re.search(r"waiting [12] s after a 429 \(Retry-After\)", cell.stderr), cell.stderr
    assert "2 rows: 2 answered" in cell.stdout
