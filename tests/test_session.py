"""routing_magics.session: a notebook's chat memory, and the emulator started off the load path."""

from __future__ import annotations

import httpx

from routing_magics.config import Settings
from routing_magics.prompt.memory import ChatMemory
from routing_magics.session import Session


def test_chat_memory_keeps_exchanges_in_order_and_hands_out_copies() -> None:
    memory = ChatMemory()
    memory.add("hi", "hello")
    memory.add("and?", "and so on")
    assert len(memory) == 2
    messages = memory.messages()
    assert messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "and?"},
        {"role": "assistant", "content": "and so on"},
    ]
    messages[0]["content"] = "changed"
    messages.clear()
    assert memory.messages()[0] == {"role": "user", "content": "hi"}
    memory.reset()
    assert len(memory) == 0
    assert memory.messages() == []


def test_the_emulator_url_comes_at_once_and_a_request_sent_at_once_is_answered(
    tmp_path: object,
) -> None:
    session = Session(Settings(offline=True, usage_db=f"{tmp_path}/u.sqlite"), notebook="nb")
    try:
        url = session.start_emulator()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert session.start_emulator() == url  # one emulator per session
        # Sent before the server thread may be up: the bound socket's backlog holds it.
        reply = httpx.get(f"{url}/models", headers={"X-API-Key": "rk_test"}, timeout=10)
        assert reply.status_code == 200 and reply.json()["data"]
        emulator = session.emulator
        assert emulator is not None and emulator.base_url == url
    finally:
        session.close()
    assert session.emulator is None
