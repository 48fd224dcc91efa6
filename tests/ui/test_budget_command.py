"""`%route budget` in an InteractiveShell against the emulator (with its own prices): set, show,
relative, off, and each bad amount refused in one line that says what to give."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line

PRICED = [{"model": "route/mistral-large-3", "input_per_million": 1000, "output_per_million": 1000}]


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    emu.pricing = PRICED
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def spent(h: Harness) -> float:
    line = h.ok("%route budget").stdout
    return float(re.search(r"≈ \$([\d.]+) spent", line).group(1))  # type: ignore[union-attr]


def test_set_show_relative_and_off(h: Harness) -> None:
    assert h.ok("%route budget").stdout == (
        "This notebook today: ≈ $0 spent, no budget (`%route budget USD` sets one).\n"
    )
    assert "of its $2.50 budget (≈ $2.50 left)" in h.ok("%route budget $2.50").stdout
    h.ok("%%route route/mistral-large-3\necho: " + "word " * 30)
    used = spent(h)
    assert used > 0
    shown = h.ok("%route budget +1").stdout
    budget = float(re.search(r"of its \$([\d.]+) budget", shown).group(1))  # type: ignore[union-attr]
    assert budget == pytest.approx(used + 1, abs=0.01)
    assert h.ok("%route budget off").stdout.startswith("No budget for this notebook today.\n")
    assert "no budget" in h.ok("%route budget").stdout


def test_a_default_applies_until_off(h: Harness) -> None:
    h.ok("%config RouteMagics.daily_budget_usd = 3.0")
    assert "of its $3.00 budget" in h.ok("%route budget").stdout
    h.ok("%route budget off")
    assert "no budget" in h.ok("%route budget").stdout


@pytest.mark.parametrize("amount", ["0", "-1", "lots", "nan", "inf", "+", "+x"])
def test_a_bad_amount_is_one_line_saying_what_to_give(h: Harness, amount: str) -> None:
    message = one_line(h.run(f"%route budget {amount}").error)
    assert message.startswith(f"%route budget {amount}: give an amount in USD")
    assert "no budget" in h.ok("%route budget").stdout  # nothing was set
