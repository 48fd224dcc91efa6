"""Shared fixtures: one offline routing.run emulator for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routing_magics.emulator import Emulator


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The session's emulator, started once on a free loopback port."""
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    """The session emulator, fresh for this test: no faults, no requests, zero usage."""
    emulator.reset()
    emulator.plan = "premium"
    emulator.token_rate = None
    emulator.daily_limit = 1500
    emulator.per_minute_limit = 100
    emulator.latency = 0.0
    return emulator
