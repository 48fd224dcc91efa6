"""Shells for the guarantees every flow keeps (tests/run/flows.py names the flows)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness
from tests.run.flows import setup


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """A keyed shell on the test emulator, with the notebook's frame and tool defined."""
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield setup(harness)


@pytest.fixture
def offline(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """A shell with no key yet: the extension's own emulator answers until `%route key`, after
    which requests go to the test emulator `emu` (ROUTING_RUN_BASE_URL)."""
    with magic_harness(emu, tmp_path, monkeypatch, keyed=False) as harness:
        yield setup(harness)
