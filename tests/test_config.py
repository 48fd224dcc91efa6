import pytest

from routing_magics.config import (
    DEFAULT_BASE_URL,
    DEFAULT_FALLBACK_URL,
    public_url,
    settings_from_env,
)


def test_defaults_with_empty_environment() -> None:
    s = settings_from_env({})
    assert s.api_key is None and s.use_emulator
    assert s.base_url == DEFAULT_BASE_URL
    assert s.fallback_base_url == DEFAULT_FALLBACK_URL


def test_environment_overrides_and_empty_fallback_disables() -> None:
    s = settings_from_env(
        {
            "ROUTING_RUN_API_KEY": "rk_test_secret",
            "ROUTING_RUN_BASE_URL": "http://127.0.0.1:9/v1",
            "ROUTING_RUN_FALLBACK_BASE_URL": "",
            "ROUTING_MAGICS_USAGE_DB": "/tmp/u.sqlite",
        }
    )
    assert s.api_key == "rk_test_secret" and not s.use_emulator
    assert s.base_url == "http://127.0.0.1:9/v1"
    assert s.fallback_base_url is None
    assert s.usage_db == "/tmp/u.sqlite"


def test_offline_flag_forces_emulator_even_with_key() -> None:
    s = settings_from_env({"ROUTING_RUN_API_KEY": "rk_test_x", "ROUTING_MAGICS_OFFLINE": "1"})
    assert s.use_emulator


def test_key_never_in_repr_or_description() -> None:
    s = settings_from_env({"ROUTING_RUN_API_KEY": "rk_test_secret"})
    assert "rk_test_secret" not in repr(s)
    assert "rk_test_secret" not in str(s.describe())
    assert s.describe()["api key"] == "set"


def test_key_is_stripped_and_emulator_rate_parsed_leniently() -> None:
    s = settings_from_env({"ROUTING_RUN_API_KEY": " rk_test_k\r\n"})
    assert s.api_key == "rk_test_k"
    assert (
        settings_from_env({"ROUTING_MAGICS_EMULATOR_TOKEN_RATE": "fast"}).emulator_token_rate == 150
    )
    assert (
        settings_from_env({"ROUTING_MAGICS_EMULATOR_TOKEN_RATE": "0"}).emulator_token_rate is None
    )
    assert settings_from_env({"ROUTING_MAGICS_EMULATOR_TOKEN_RATE": "40"}).emulator_token_rate == 40


def test_answer_deadline_from_the_environment_with_a_generous_default() -> None:
    assert settings_from_env({}).answer_deadline == 1800.0
    assert settings_from_env({"ROUTING_MAGICS_ANSWER_DEADLINE": "90"}).answer_deadline == 90.0
    for junk in ("soon", "0", "-5", "inf", "nan"):
        assert settings_from_env({"ROUTING_MAGICS_ANSWER_DEADLINE": junk}).answer_deadline == 1800


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@proxy.example/v1", "https://proxy.example/v1"),
        ("https://proxy.example:8443/v1?token=abc#frag", "https://proxy.example:8443/v1"),
        ("http://:pw@[::1]:9/v1", "http://[::1]:9/v1"),
        ("https://api.routing.run/v1", "https://api.routing.run/v1"),
        ("http://u:p@host:notaport/v1", "(unreadable URL)"),
    ],
)
def test_public_url_drops_userinfo_query_and_fragment(url: str, shown: str) -> None:
    assert public_url(url) == shown
    assert settings_from_env({"ROUTING_RUN_BASE_URL": url}).describe()["base URL"] == shown
