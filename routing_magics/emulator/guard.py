"""Who may use the control surface (/_emulator/…): holders of the per-process secret, from
this machine's loopback names only, and never a web page of another origin.

The /v1 endpoints stay open like routing.run's own; the control endpoints switch faults on, cut
limits and return every recorded prompt, so a local process or a browser tab must not reach them.
"""

from __future__ import annotations

import hmac
import secrets
from email.message import Message

#: The header that carries the secret; `Emulator.control_headers` builds it.
SECRET_HEADER = "X-Emulator-Secret"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def control_refusal(headers: Message, secret: str, host: str, port: int) -> tuple[int, str] | None:
    """(status, reason) when a control request must be refused, else None."""
    names = LOOPBACK | {host}
    if _host_of(headers.get("Host", "")) not in {(name, port) for name in names}:
        return 403, "the Host header does not name this emulator"
    origin = headers.get("Origin")
    if origin is not None and origin not in _origins(names, port):
        return 403, "requests from a web page of another origin are refused"
    given = headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        where = "printed by `python -m routing_magics.emulator`; Emulator.control_secret"
        return 401, f"send the emulator's control secret in {SECRET_HEADER} ({where})"
    return None


def _host_of(value: str) -> tuple[str, int | None]:
    """('127.0.0.1', 8123) from '127.0.0.1:8123', ('::1', 80) from '[::1]:80'."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return name, int(port) if port.isdigit() else None


def _origins(names: frozenset[str], port: int) -> set[str]:
    return {f"http://{f'[{n}]' if ':' in n else n}:{port}" for n in names}
