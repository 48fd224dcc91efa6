"""The control surface under /_emulator/ needs the per-process secret, this emulator's Host and
no foreign Origin; /v1 stays open; silent connections are dropped after the socket timeout."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from routing_magics.emulator import Emulator

HTTP = httpx.Client(timeout=10)
KEY = {"X-API-Key": "rk_test"}
PROMPT = {"model": "route/mistral-small-2503", "messages": [{"role": "user", "content": "hi"}]}


def control(emu: Emulator, name: str) -> str:
    return f"{emu.base_url.removesuffix('/v1')}/_emulator/{name}"


def test_without_the_secret_nothing_is_changed_or_read(emu: Emulator) -> None:
    HTTP.post(f"{emu.base_url}/chat/completions", json=PROMPT, headers=KEY)
    fault = {"kind": "PROVIDER_ERROR"}
    for headers in ({}, {"X-Emulator-Secret": "guess"}):
        assert HTTP.post(control(emu, "faults"), json=fault, headers=headers).status_code == 401
        assert (
            HTTP.post(control(emu, "config"), json={"daily_limit": 0}, headers=headers).status_code
            == 401
        )
        refused = HTTP.get(control(emu, "requests"), headers=headers)
        assert refused.status_code == 401 and "hi" not in refused.text
        assert "X-Emulator-Secret" in refused.json()["error"]
    assert emu.faults == [] and emu.daily_limit == 1500
    # A plain-text POST, as a web page could send without a preflight, changes nothing either.
    simple = HTTP.post(control(emu, "reset"), content=b"{}", headers={"Content-Type": "text/plain"})
    assert simple.status_code == 401 and len(emu.requests) == 1


def test_a_foreign_host_or_origin_is_refused_even_with_the_secret(emu: Emulator) -> None:
    secret = emu.control_headers
    rebound = {**secret, "Host": f"attacker.example:{emu.port}"}
    assert HTTP.get(control(emu, "requests"), headers=rebound).status_code == 403
    page = {**secret, "Origin": "https://attacker.example"}
    assert HTTP.post(control(emu, "faults"), json={"kind": "drop"}, headers=page).status_code == 403
    assert emu.faults == []
    same = {**secret, "Origin": f"http://127.0.0.1:{emu.port}"}
    assert HTTP.get(control(emu, "faults"), headers=same).status_code == 200
    local = {**secret, "Host": f"localhost:{emu.port}"}
    assert HTTP.get(control(emu, "config"), headers=local).status_code == 200


def test_the_v1_endpoints_stay_open_as_routing_runs_are(emu: Emulator) -> None:
    page = {**KEY, "Origin": "https://elsewhere.example", "Host": "api.example"}
    assert (
        HTTP.post(f"{emu.base_url}/chat/completions", json=PROMPT, headers=page).status_code == 200
    )
    assert HTTP.get(f"{emu.base_url}/models").status_code == 200


def test_each_emulator_has_its_own_secret() -> None:
    with Emulator() as one, Emulator() as two:
        assert one.control_secret != two.control_secret and len(one.control_secret) >= 24
        wrong = HTTP.get(control(one, "config"), headers=two.control_headers)
        assert wrong.status_code == 401


def test_the_command_line_prints_the_secret_and_it_works() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "routing_magics.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        line = process.stdout.readline()
        assert line.startswith("control secret: ")
        secret = line.split()[2]
        base = url.removesuffix("/v1")
        assert HTTP.get(f"{base}/_emulator/config").status_code == 401
        ok = HTTP.get(f"{base}/_emulator/config", headers={"X-Emulator-Secret": secret})
        assert ok.status_code == 200 and ok.json()["plan"] == "premium"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


# --- 10. socket timeouts ------------------------------------------------------------------


def test_a_body_announced_and_never_sent_does_not_hold_a_thread() -> None:
    with Emulator(socket_timeout=0.5) as emu:
        with socket.create_connection(("127.0.0.1", emu.port)) as silent:
            silent.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-API-Key: rk_test\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
            )
            silent.settimeout(10)
            started = time.monotonic()
            assert silent.recv(65536) == b""  # the emulator hung up
            assert time.monotonic() - started < 5
        # and it still answers everyone else
        assert (
            HTTP.post(f"{emu.base_url}/chat/completions", json=PROMPT, headers=KEY).status_code
            == 200
        )


def test_the_default_socket_timeout_is_a_minute() -> None:
    assert Emulator().socket_timeout == 60.0


@pytest.mark.parametrize("size", ["-5", str(10**12)])
def test_an_absurd_content_length_is_refused(emu: Emulator, size: str) -> None:
    with socket.create_connection(("127.0.0.1", emu.port)) as conn:
        conn.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-API-Key: rk_test\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        conn.settimeout(10)
        reply = conn.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413")
