"""The standalone emulator takes whatever key a user types into the openai SDK (issue 20)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from routing_magics.emulator import Emulator

PLAIN = "route/mistral-small-2503"
HI: Any = [{"role": "user", "content": "echo: hello from the SDK"}]


def serve(*flags: str) -> tuple[subprocess.Popen[str], str]:
    """`python -m routing_magics.emulator --port 0 …` and the base URL it printed."""
    command = [sys.executable, "-m", "routing_magics.emulator", "--port", "0", *flags]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


@pytest.fixture(scope="module")
def standalone() -> Iterator[str]:
    process, base_url = serve()
    try:
        yield base_url
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def client(base_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=10)


@pytest.mark.parametrize("key", ["anything", "sk-from-another-service", "rk_real_looking"])
def test_the_sdk_works_with_any_key(standalone: str, key: str) -> None:
    answer = client(standalone, key).chat.completions.create(model=PLAIN, messages=HI)
    assert answer.choices[0].message.content == "hello from the SDK"
    chunks = client(standalone, key).chat.completions.create(model=PLAIN, messages=HI, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "hello from the SDK"
    assert len(client(standalone, key).models.list().data) == 11


def test_a_key_that_asks_for_a_401_gets_one(standalone: str) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client(standalone, "invalid-on-purpose").chat.completions.create(model=PLAIN, messages=HI)
    response = caught.value.response
    assert response.headers["X-Error-Code"] == "AUTHENTICATION_ERROR"
    assert "refuses keys that start with 'invalid'" in response.text
    assert "invalid-on-purpose" not in response.text


def test_strict_keys_is_routing_runs_rule() -> None:
    process, base_url = serve("--strict-keys")
    try:
        with pytest.raises(openai.AuthenticationError) as caught:
            client(base_url, "anything").chat.completions.create(model=PLAIN, messages=HI)
        assert "routing.run keys start with rk_" in caught.value.response.text
        answer = client(base_url, "rk_x").chat.completions.create(model=PLAIN, messages=HI)
        assert answer.choices[0].message.content == "hello from the SDK"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_the_in_process_emulator_keeps_the_rk_rule(emu: Emulator) -> None:
    """Tests and `%load_ext` rely on a bad key failing like routing.run's."""
    with pytest.raises(openai.AuthenticationError):
        client(emu.base_url, "anything").chat.completions.create(model=PLAIN, messages=HI)
    with Emulator(any_key=True) as lenient:
        answer = client(lenient.base_url, "anything").chat.completions.create(
            model=PLAIN, messages=HI
        )
        assert answer.choices[0].message.content == "hello from the SDK"
