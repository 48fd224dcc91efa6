"""The preflight (ui/preflight.py) as another flow calls it: requests for several models (one per
row and model, as the side-by-side flow builds them) are estimated as rows × models, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.api.models import ChatRequest
from routing_magics.emulator import Emulator
from routing_magics.ui.preflight import confirm_cost, preflight
from tests.helpers import Harness, magic_harness

A, B = "route/mistral-large-3", "route/mistral-medium-2505"
PRICED = [{"model": m, "input_per_million": 1000, "output_per_million": 1000} for m in (A, B)]


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    emu.pricing = PRICED
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def rows(model: str, n: int = 4) -> list[ChatRequest]:
    return [ChatRequest(model, [{"role": "user", "content": f"row {i}"}], {"max_tokens": 10})
            for i in range(n)]  # fmt: skip


def test_requests_for_two_models_are_rows_times_models(
    h: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    session = h.magics.session
    preflight(session, yes=False, confirm_above=None)([*rows(A), *rows(B)])
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("Estimate: ≈ $0.") and f"for 8 requests (4 rows × {A}, {B})" in line
    direct = confirm_cost(session, rows(A), [A, B], yes=True, confirm_above=0.0)
    assert direct.requests == 8 and capsys.readouterr().out.splitlines()[0] == line
