"""No prompt carries a credential: the API key, or a base URL's password or token.

A prompt picks them up without anyone meaning to: a cell that printed the key or a URL sent by
`--cells`, an error that quotes it through `{Err[n]}`, a notebook value, a tool's result, a
frame's row. Every request is built through `redact` (run/single.py for cells and their tool
steps, run/batch/flow.py for rows), which puts a placeholder in the place of each copy and
notes how many on the request (`ChatRequest.redacted`), so the cell can say so and `.request`
shows what was really sent. The replacement is one pass, longest secret first, so a
placeholder is never itself rewritten.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

from ..api.models import ChatRequest
from ..config import Settings

KEY_PLACEHOLDER = "[routing.run API key removed]"
PASSWORD_PLACEHOLDER = "[base URL password removed]"
TOKEN_PLACEHOLDER = "[base URL token removed]"
#: What each placeholder stands for, as the cell's notice names it.
STANDS_FOR = {
    KEY_PLACEHOLDER: "the routing.run API key",
    PASSWORD_PLACEHOLDER: "a base URL's password",
    TOKEN_PLACEHOLDER: "a base URL's token",
}
#: A base URL's password or query value shorter than this is not looked for: replacing every
#: "v1" or "pw" in a prompt would mangle it, and such a value guards little. The key always is.
MIN_SECRET_CHARS = 6


class Redactor:
    """The secrets of one session's settings, each with its placeholder."""

    def __init__(self, placeholders: Mapping[str, str]) -> None:
        self.placeholders = dict(placeholders)  # secret → placeholder
        longest_first = sorted(self.placeholders, key=len, reverse=True)
        alternatives = "|".join(re.escape(secret) for secret in longest_first)
        self._pattern = re.compile(alternatives) if alternatives else None

    @classmethod
    def of(cls, settings: Settings) -> Redactor:
        found: dict[str, str] = {}
        for url in (settings.base_url, settings.fallback_base_url or ""):
            found.update(_url_secrets(url))
        if settings.api_key:
            found[settings.api_key] = KEY_PLACEHOLDER
        return cls(found)

    def text(self, text: str, counts: Counter[str]) -> str:
        """`text` with every secret replaced; adds what was replaced to `counts`."""
        if self._pattern is None:
            return text

        def swap(match: re.Match[str]) -> str:
            placeholder = self.placeholders[match.group(0)]
            counts[placeholder] += 1
            return placeholder

        return self._pattern.sub(swap, text)

    def messages(
        self, messages: Iterable[Mapping[str, Any]], counts: Counter[str]
    ) -> list[dict[str, Any]]:
        """Fresh message dicts, each text content redacted."""
        fresh = []
        for message in messages:
            content = message.get("content")
            if isinstance(content, str):
                message = {**message, "content": self.text(content, counts)}
            fresh.append(dict(message))
        return fresh


def redact(settings: Settings, request: ChatRequest) -> ChatRequest:
    """`request` with no credential of `settings` in its messages, the copies counted."""
    counts: Counter[str] = Counter(request.redacted)
    messages = Redactor.of(settings).messages(request.messages, counts)
    return replace(request, messages=messages, redacted=dict(counts))


def redaction_notice(redacted: Mapping[str, int], where: str = "the prompt") -> str | None:
    """The line that says what was taken out of `where` before sending; None if nothing."""
    if not redacted:
        return None
    found = ", ".join(
        f"{STANDS_FOR[placeholder]} ({copies:,} cop{'y' if copies == 1 else 'ies'})"
        for placeholder, copies in redacted.items()
    )
    instead = ", ".join(redacted)
    return f"Removed from {where} before sending: {found}; the model got {instead} instead."


def _url_secrets(url: str) -> dict[str, str]:
    """A base URL's password and query values (a proxy's token), as written and decoded."""
    try:
        parts = urlsplit(url)
        password = parts.password or ""
    except ValueError:
        return {}
    found = {text: PASSWORD_PLACEHOLDER for text in (password, unquote(password))}
    for pair in parts.query.split("&"):
        value = pair.partition("=")[2]
        for text in (value, unquote_plus(value)):
            found.setdefault(text, TOKEN_PLACEHOLDER)
    return {text: p for text, p in found.items() if len(text) >= MIN_SECRET_CHARS}
