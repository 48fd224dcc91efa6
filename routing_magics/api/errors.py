"""One exception tree for everything that can go wrong talking to routing.run.

    RoutingError                      base; str() is one line: what happened, then what to do
     ├── ConfigurationError           bad setting or option, caught before any request
     │    └── MalformedKey            MALFORMED_KEY: a key that cannot be sent as a header
     ├── APIError                     the service answered with an error status
     │    ├── InvalidModel            400 INVALID_MODEL
     │    ├── AuthenticationError     401 AUTHENTICATION_ERROR
     │    ├── ModelNotAllowed         403 MODEL_NOT_ALLOWED
     │    ├── RateLimited             429 (per-minute/hour caps; retried)
     │    │    └── DailyLimitExceeded 429 DAILY_REQUEST_LIMIT_EXCEEDED (never retried)
     │    ├── ProviderError           502 PROVIDER_ERROR
     │    └── ProviderTimeout         504 PROVIDER_TIMEOUT
     ├── StreamError                  an {"error": …} event inside a 200 stream
     ├── TransportError               could not reach the service, or it hung up
     │    └── Timeout                 no byte within the read timeout
     ├── ProtocolError                a body that is not the expected JSON / SSE
     └── Stopped                      the user interrupted (Ctrl-C, Stop button)

Every error carries `partial_text` (content streamed before it happened) and `code`
(the server's X-Error-Code, or our own name). The API key never appears in a message.

Hints advise a script (environment variables, RoutingClient's methods, the HTTP endpoints) and
never name a magic: ui/advice.py gives a notebook user the magics' words for the same codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

EXCERPT_CHARS = 200


class RoutingError(Exception):
    """Base of every routing_magics error. Without a `hint`, the one for its code applies."""

    default_hint: ClassVar[str] = ""
    default_code: ClassVar[str] = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        status: int | None = None,
        partial_text: str = "",
        endpoint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        #: No hint was given, so the code's general one applies: a shell may put its own words
        #: for the code in its place (ui/advice.py). A raiser's own hint is always kept.
        self.hint_is_generic = hint is None
        self.hint = hint_for_code(self.code, type(self)) if hint is None else hint
        self.status = status
        self.partial_text = partial_text
        self.endpoint = endpoint

    @classmethod
    def generic_hint(cls) -> str:
        """What to do about an error of this class when the raiser says nothing more."""
        return cls.default_hint

    def __str__(self) -> str:
        return self.describe()

    def describe(self, hint: str | None = None) -> str:
        """One line: what happened, the code, then `hint` (the error's own unless given)."""
        hint = self.hint if hint is None else hint
        where = f" ({self.code})" if self.code and self.code != "ERROR" else ""
        return f"{self.message}{where}" + (f" — {hint}" if hint else "")


class ConfigurationError(RoutingError):
    default_code = ""  # our own check, not the service's: no code to show


class MalformedKey(ConfigurationError):
    default_code = "MALFORMED_KEY"
    default_hint = "copy the rk_… key again, exactly, into ROUTING_RUN_API_KEY"


class APIError(RoutingError):
    default_hint = "try again in a moment; if it persists, check https://docs.routing.run"
    #: Seconds the server asked us to wait (its Retry-After), when it said.
    retry_after: float | None = None


class InvalidModel(APIError):
    default_code = "INVALID_MODEL"
    default_hint = "RoutingClient.list_models() (GET /v1/models) lists the routes your key can call"


class AuthenticationError(APIError):
    default_code = "AUTHENTICATION_ERROR"
    default_hint = "use a valid rk_ key: set ROUTING_RUN_API_KEY, or pass it to RoutingClient"


class ModelNotAllowed(APIError):
    default_code = "MODEL_NOT_ALLOWED"
    default_hint = (
        "pick a route your plan includes (RoutingClient.list_models() lists them) "
        "or upgrade your plan"
    )


class RateLimited(APIError):
    default_code = "RATE_LIMITED"
    default_hint = "wait a minute and retry"


class DailyLimitExceeded(RateLimited):
    default_code = "DAILY_REQUEST_LIMIT_EXCEEDED"

    @classmethod
    def generic_hint(cls) -> str:
        from .account import reset_phrase  # say when, in the user's local time

        return (
            f"the plan's daily cap is reached and resets {reset_phrase()}; "
            "RoutingClient.user_requests() (GET /v1/user/requests) shows what is left"
        )


class ProviderError(APIError):
    default_code = "PROVIDER_ERROR"
    default_hint = "every upstream failed; retry, or pick another route"


class ProviderTimeout(APIError):
    default_code = "PROVIDER_TIMEOUT"
    default_hint = "the upstreams timed out; retry, or pick a faster route"


class StreamError(RoutingError):
    default_code = "STREAM_ERROR"
    default_hint = "the partial answer is kept in the error's partial_text; retry for a full one"


class TransportError(RoutingError):
    default_code = "CONNECTION_ERROR"
    default_hint = "check your network and the base URL (ROUTING_RUN_BASE_URL), then retry"


class Timeout(TransportError):
    default_code = "TIMEOUT"
    default_hint = "the service went quiet; retry, or allow a longer silence with Timeouts(read=…)"


class ProtocolError(RoutingError):
    default_code = "PROTOCOL_ERROR"
    default_hint = "the endpoint did not answer like routing.run; check ROUTING_RUN_BASE_URL"


class Stopped(RoutingError):
    default_code = "STOPPED"
    default_hint = "the partial answer is kept"

    def describe(self, hint: str | None = None) -> str:
        hint = self.hint if hint is None else hint
        return f"{self.message} — {hint}" if hint else self.message


ERROR_CLASSES: dict[str, type[APIError]] = {
    "INVALID_MODEL": InvalidModel,
    "AUTHENTICATION_ERROR": AuthenticationError,
    "MODEL_NOT_ALLOWED": ModelNotAllowed,
    "DAILY_REQUEST_LIMIT_EXCEEDED": DailyLimitExceeded,
    "PROVIDER_ERROR": ProviderError,
    "PROVIDER_TIMEOUT": ProviderTimeout,
}

# Without X-Error-Code a 403 may be a proxy's block page, not a plan problem: it stays APIError.
STATUS_CLASSES: dict[int, type[APIError]] = {
    401: AuthenticationError,
    429: RateLimited,
    502: ProviderError,
    504: ProviderTimeout,
}


def hint_for_code(code: str, cls: type[RoutingError] = RoutingError) -> str:
    """A script's advice for `code`: its error class's (a ConfigurationError with a service's
    code gets that code's), else `cls`'s."""
    return ERROR_CLASSES.get(code, cls).generic_hint()


def error_class_for(status: int, code: str | None) -> type[APIError]:
    """The class for an HTTP error: X-Error-Code first, then the status, else APIError."""
    if code and code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    if status == 429 and code and "DAILY" in code:
        return DailyLimitExceeded
    return STATUS_CLASSES.get(status, APIError)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def api_error(
    status: int, code: str | None, body: str, model: str | None, endpoint: str
) -> APIError:
    """An HTTP error answer → its error: routing.run's words, plus what to do when we know."""
    detail = excerpt(json_error_message(body) or body, 300)
    said = f"routing.run said: {detail}" if detail else f"routing.run answered HTTP {status}"
    cls = error_class_for(status, code)
    advice = _advice(cls, model) if model else ""
    message = f"{advice} ({said})" if advice else said
    code = code or (f"HTTP_{status}" if cls is APIError else None)
    return cls(message, code=code, status=status, endpoint=endpoint)


def _advice(cls: type[APIError], model: str) -> str:
    """The actionable first half of a 400 / 403 message, from the built-in catalog."""
    from .catalog import Catalog

    catalog = Catalog()
    if cls is InvalidModel:
        matches = catalog.suggest(model)
        maybe = f"; did you mean {' or '.join(matches)}?" if matches else ""
        return f"routing.run has no model {model!r}{maybe}"
    if cls is not ModelNotAllowed:
        return ""
    route = catalog.get(model)
    if route is None:
        return f"your plan cannot call {model}"
    family = _family(model)
    siblings = [r for r in catalog if _family(r.id) == family]
    same_tier = len(siblings) > 1 and all(r.tier == route.tier for r in siblings)
    who = f"{family.capitalize()} routes need" if same_tier else "it needs"
    return f"your plan cannot call {model}; {who} {route.plans_allowed()}"


def _family(model: str) -> str:
    return model.rsplit("/", 1)[-1].split("-", 1)[0]


def json_error_message(body: str) -> str:
    """The message of a JSON error body (`{"error": {"message": …}}` or `{"error": "…"}`)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, Mapping):
        error = error.get("message")
    return error if isinstance(error, str) else ""


def outcome_of(error: RoutingError | None) -> str:
    """How a request ended, as the ledger and the footer tell it: "ok", "stopped" or a code."""
    if error is None:
        return "ok"
    return "stopped" if isinstance(error, Stopped) else error.code
