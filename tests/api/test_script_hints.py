"""api/ advises a script, not a notebook: what a RoutingClient user reads when routing.run
refuses (emulator faults over loopback), and that no api/ module mentions a magic at all."""

from __future__ import annotations

from pathlib import Path

import pytest

import routing_magics.api
from routing_magics.api import RoutingClient, Timeouts, errors
from routing_magics.emulator import Emulator

KEY = "rk_test_script_hints"
HI = [{"role": "user", "content": "echo: hi"}]
MISTRAL = "route/mistral-small-2503"
#: Words that only make sense inside a notebook.
NOTEBOOK_WORDS = ("%route", "%config", "cell")

FAULTS = [
    ("INVALID_MODEL", errors.InvalidModel, "RoutingClient.list_models()"),
    ("AUTHENTICATION_ERROR", errors.AuthenticationError, "ROUTING_RUN_API_KEY"),
    ("MODEL_NOT_ALLOWED", errors.ModelNotAllowed, "RoutingClient.list_models()"),
    ("DAILY_REQUEST_LIMIT_EXCEEDED", errors.DailyLimitExceeded, "GET /v1/user/requests"),
    ("RATE_LIMIT_EXCEEDED", errors.RateLimited, "wait a minute and retry"),
    ("PROVIDER_ERROR", errors.ProviderError, "pick another route"),
    ("midstream_error", errors.StreamError, "partial_text"),
    ("drop", errors.TransportError, "ROUTING_RUN_BASE_URL"),
]


def client(emu: Emulator, **options: object) -> RoutingClient:
    """One attempt, no waiting: each fault surfaces as the error a script would catch."""
    return RoutingClient(KEY, emu.base_url, None, max_attempts=1, sleep=lambda _: None, **options)


def assert_script_advice(error: errors.RoutingError, pointer: str) -> None:
    text = str(error)
    assert pointer in error.hint and error.hint in text
    assert not [word for word in NOTEBOOK_WORDS if word in text], text


@pytest.mark.parametrize(("kind", "cls", "pointer"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_refused_request_advises_a_script(
    emu: Emulator, kind: str, cls: type[errors.RoutingError], pointer: str
) -> None:
    emu.inject(kind, after=2)
    with client(emu) as routing, pytest.raises(cls) as caught:
        list(routing.stream(MISTRAL, HI))
    assert_script_advice(caught.value, pointer)


def test_a_silent_service_advises_a_longer_read_timeout(emu: Emulator) -> None:
    emu.inject("stall", seconds=1.0)
    quiet = Timeouts(read=0.2)
    with client(emu, timeouts=quiet) as routing, pytest.raises(errors.Timeout) as caught:
        list(routing.stream(MISTRAL, HI))
    assert_script_advice(caught.value, "Timeouts(read=")


def test_a_real_unknown_model_and_a_real_daily_cap_advise_a_script(emu: Emulator) -> None:
    with client(emu) as routing:
        with pytest.raises(errors.InvalidModel) as unknown:
            routing.complete("route/mistral-smal", HI)
        assert "did you mean route/mistral-small-2503" in str(unknown.value)
        assert_script_advice(unknown.value, "RoutingClient.list_models()")
        emu.daily_limit = 0
        with pytest.raises(errors.DailyLimitExceeded) as capped:
            routing.complete(MISTRAL, HI)
    assert_script_advice(capped.value, "RoutingClient.user_requests()")
    assert "resets at midnight UTC" in capped.value.hint


def test_a_key_that_cannot_be_sent_advises_the_environment_variable(emu: Emulator) -> None:
    with pytest.raises(errors.MalformedKey) as caught:
        RoutingClient("rk_two words", emu.base_url, None)
    assert isinstance(caught.value, errors.ConfigurationError)
    assert_script_advice(caught.value, "ROUTING_RUN_API_KEY")
    assert "two words" not in str(caught.value)


def test_no_api_module_mentions_a_magic() -> None:
    package = Path(routing_magics.api.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "%route" in line or "%config" in line
    ]
    assert offenders == [], "api/ knows nothing of IPython:\n" + "\n".join(offenders)
