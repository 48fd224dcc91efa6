"""Which API keys the emulator accepts, and what a refused one is told.

Two rules. The in-process emulator (tests, `%load_ext` without a key) is strict like routing.run:
a key must start with `rk_`. Run standalone (`python -m routing_magics.emulator`), it accepts any
key, so `OpenAI(base_url=…, api_key="anything")` works; only a key that asks for a 401 on purpose
(one starting with `invalid`) is refused, for demos and tests of the bad-key path.
"""

from __future__ import annotations

from email.message import Message

from .wire import INVALID_KEY, MISSING_KEY

#: The prefix of keys that ask the lenient (standalone) emulator for a 401.
REFUSED_PREFIX = "invalid"
REFUSED_KEY = f"Invalid API key: this emulator refuses keys that start with {REFUSED_PREFIX!r}"


def sent_key(headers: Message) -> str | None:
    """The key from X-API-Key or `Authorization: Bearer`; None when neither header was sent."""
    key = headers.get("X-API-Key")
    if key is None:
        scheme, _, value = headers.get("Authorization", "").partition(" ")
        if not scheme:
            return None
        key = value if scheme.lower() == "bearer" else ""
    return key.strip()


def key_accepted(key: str | None, any_key: bool) -> bool | None:
    """None when no key was sent, else whether this emulator takes it."""
    if key is None:
        return None
    if any_key:
        return bool(key) and not key.lower().startswith(REFUSED_PREFIX)
    return key.startswith("rk_") and len(key) > len("rk_")


def refusal_text(key: str | None, any_key: bool) -> str:
    """The plain-text body of the 401 for this key."""
    if not any_key:
        return MISSING_KEY if key is None else INVALID_KEY
    return REFUSED_KEY if key else MISSING_KEY
