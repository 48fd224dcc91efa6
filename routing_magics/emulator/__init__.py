"""An offline routing.run: the chat-completions API on loopback, with deterministic answers.

    from routing_magics.emulator import Emulator
    with Emulator(plan="premium", token_rate=None) as emu:
        client = OpenAI(api_key="rk_test", base_url=emu.base_url)
        emu.inject("PROVIDER_ERROR", times=2)   # the next two chat requests fail with 502

Standard library only (http.server). `python -m routing_magics.emulator` serves it from a shell
and accepts any API key there (`Emulator(any_key=True)`); in-process it wants `rk_` keys (keys.py).
Usage counting: every authenticated, well-formed chat request counts toward the day/hour/minute
counters, including ones a fault or an unknown model fails; requests refused by the daily cap
itself do not count.
"""

from __future__ import annotations

from .faults import FAULT_KINDS, Fault
from .server import Emulator
from .state import RecordedRequest

__all__ = ["FAULT_KINDS", "Emulator", "Fault", "RecordedRequest"]
