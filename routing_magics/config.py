"""Settings from the environment; `%config RouteMagics.<trait>` overrides them (see magics.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

DEFAULT_BASE_URL = "https://api.routing.run/v1"
DEFAULT_FALLBACK_URL = "https://ai.routing.sh/v1"
#: The key the extension sends to its own emulator; never a real credential.
EMULATOR_KEY = "rk_emulator"
#: Tokens a second for the emulator the extension starts: a real model's pace, so demos stream.
DEMO_TOKEN_RATE = 150.0

ENV_KEY = "ROUTING_RUN_API_KEY"
ENV_BASE_URL = "ROUTING_RUN_BASE_URL"
ENV_FALLBACK_URL = "ROUTING_RUN_FALLBACK_BASE_URL"
ENV_OFFLINE = "ROUTING_MAGICS_OFFLINE"
ENV_USAGE_DB = "ROUTING_MAGICS_USAGE_DB"
ENV_EMULATOR_RATE = "ROUTING_MAGICS_EMULATOR_TOKEN_RATE"
ENV_ANSWER_DEADLINE = "ROUTING_MAGICS_ANSWER_DEADLINE"
#: Seconds one answer may take in all, keep-alives or not: generous, it only stops runaways.
DEFAULT_ANSWER_DEADLINE = 1800.0


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Effective settings of one notebook. The key is kept out of repr."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    fallback_base_url: str | None = DEFAULT_FALLBACK_URL
    offline: bool = False
    usage_db: str = ""
    emulator_token_rate: float | None = DEMO_TOKEN_RATE
    answer_deadline: float = DEFAULT_ANSWER_DEADLINE

    @property
    def use_emulator(self) -> bool:
        return self.offline or not self.api_key

    def describe(self) -> dict[str, str]:
        """What `%route config` shows: every setting, the key only as set/unset."""
        return {
            "api key": "set" if self.api_key else "unset",
            "base URL": public_url(self.base_url),
            "fallback base URL": public_url(self.fallback_base_url or "") or "(disabled)",
            "offline emulator": "on" if self.use_emulator else "off",
            "usage ledger": self.usage_db,
            "answer deadline": f"{self.answer_deadline:g} s",
        }


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read the ROUTING_* environment variables; unset ones keep the documented defaults."""
    env = os.environ if env is None else env
    fallback = env.get(ENV_FALLBACK_URL, DEFAULT_FALLBACK_URL)
    return Settings(
        api_key=env.get(ENV_KEY, "").strip() or None,
        base_url=env.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
        fallback_base_url=fallback or None,
        offline=_truthy(env.get(ENV_OFFLINE)),
        usage_db=env.get(ENV_USAGE_DB, ""),
        emulator_token_rate=_token_rate(env.get(ENV_EMULATOR_RATE, "")),
        answer_deadline=_deadline(env.get(ENV_ANSWER_DEADLINE, "")),
    )


def public_url(url: str) -> str:
    """`url` as it may be shown or stored: no user:password@, no query or fragment (tokens)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # unparseable: show nothing of it rather than a secret
        return "(unreadable URL)"
    if not parts.scheme or not host:
        return url.split("@")[-1].split("?")[0].split("#")[0]
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _deadline(text: str) -> float:
    """Seconds per answer: unset, unreadable or not positive → the generous default."""
    try:
        seconds = float(text)
    except ValueError:
        return DEFAULT_ANSWER_DEADLINE
    return seconds if 0 < seconds < float("inf") else DEFAULT_ANSWER_DEADLINE


def _token_rate(text: str) -> float | None:
    """Tokens/s for the emulator: unset or unreadable → the demo pace; 0 or less → unthrottled."""
    try:
        rate = float(text)
    except ValueError:
        return DEMO_TOKEN_RATE
    return rate if rate > 0 else None
