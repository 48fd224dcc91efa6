"""routing.run over httpx, for scripts and for the notebook shells; knows nothing of IPython.

    from routing_magics.api import RoutingClient, ContentDelta

The names below load on first use (PEP 562), so importing this package costs nothing until
one is needed: httpx is imported with the client, not with `routing_magics`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .account import AccountInfo
    from .catalog import BUILTIN_ROUTES, Catalog, Route
    from .client import RoutingClient
    from .errors import (
        APIError,
        AuthenticationError,
        ConfigurationError,
        DailyLimitExceeded,
        InvalidModel,
        MalformedKey,
        ModelNotAllowed,
        ProtocolError,
        ProviderError,
        ProviderTimeout,
        RateLimited,
        RoutingError,
        Stopped,
        StreamError,
        Timeout,
        TransportError,
    )
    from .models import (
        ChatRequest,
        Completion,
        ContentDelta,
        Event,
        Finish,
        FrameSent,
        ReasoningDelta,
        ToolCall,
        ToolCallDelta,
        Usage,
        UsageReport,
    )
    from .pricing import Price, PriceList
    from .stream import ChatStream
    from .transport import Timeouts

_HOMES = {
    "catalog": ("BUILTIN_ROUTES", "Catalog", "Route"),
    "client": ("RoutingClient",),
    "stream": ("ChatStream",),
    "transport": ("Timeouts",),
    "pricing": ("Price", "PriceList"),
    "account": ("AccountInfo",),
    "models": (
        "ChatRequest", "Completion", "ContentDelta", "Event", "Finish", "FrameSent",
        "ReasoningDelta",
        "ToolCall", "ToolCallDelta", "Usage", "UsageReport",
    ),
    "errors": (
        "APIError", "AuthenticationError", "ConfigurationError", "DailyLimitExceeded",
        "InvalidModel", "MalformedKey", "ModelNotAllowed", "ProtocolError", "ProviderError",
        "ProviderTimeout", "RateLimited", "RoutingError", "Stopped", "StreamError", "Timeout",
        "TransportError",
    ),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [
    "BUILTIN_ROUTES",
    "APIError",
    "AccountInfo",
    "AuthenticationError",
    "Catalog",
    "ChatRequest",
    "ChatStream",
    "Completion",
    "ConfigurationError",
    "ContentDelta",
    "DailyLimitExceeded",
    "Event",
    "Finish",
    "FrameSent",
    "InvalidModel",
    "MalformedKey",
    "ModelNotAllowed",
    "Price",
    "PriceList",
    "ProtocolError",
    "ProviderError",
    "ProviderTimeout",
    "RateLimited",
    "ReasoningDelta",
    "Route",
    "RoutingClient",
    "RoutingError",
    "Stopped",
    "StreamError",
    "Timeout",
    "Timeouts",
    "ToolCall",
    "ToolCallDelta",
    "TransportError",
    "Usage",
    "UsageReport",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
