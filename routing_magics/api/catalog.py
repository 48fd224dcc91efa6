"""The routes routing.run serves: context window, reasoning, plan tier; merged with GET /models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

#: Plans from cheapest to richest; a plan may call every route of its tier and the tiers below.
PLANS = ("free", "lite", "premium", "max", "ultra")


@dataclass(frozen=True)
class Route:
    id: str
    context: int
    reasoning: bool
    tier: str
    providers: tuple[str, ...] = ()
    max_output: int | None = None
    tools: bool = True  # takes `tools`; no route is known not to (facts: "compatible models")

    @property
    def tier_label(self) -> str:
        return self.tier.capitalize()

    def allowed_on(self, plan: str) -> bool:
        """Whether `plan` includes this route (tiers are cumulative)."""
        plan, tier = plan.lower(), self.tier.lower()
        if plan not in PLANS or tier not in PLANS:
            return True
        return PLANS.index(plan) >= PLANS.index(tier)

    def plans_allowed(self) -> str:
        """E.g. 'Premium, Max or Ultra'."""
        names = [p.capitalize() for p in PLANS if self.allowed_on(p)]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# The 11 routes of routing.run's chat-completions page. Context from that page; tier and the
# reasoning flag from GET /v1/models and third-party end-to-end checks (the API does not report
# reasoning, so clients keep their own table).
BUILTIN_ROUTES: tuple[Route, ...] = (
    Route("route/minimax-m2.5", 100_000, True, "lite", ("minimax", "opencode"), 100_000),
    Route("route/minimax-m2.7", 100_000, True, "premium", ("opencode", "minimax"), 100_000),
    Route("route/kimi-k2.5", 131_072, True, "free", ("crof",), 32_768),
    Route("route/kimi-k2.6", 131_072, True, "lite", ("crof",), 32_768),
    Route("route/glm-5", 200_000, True, "free", ("crof",), 131_072),
    Route("route/deepseek-v3.2", 163_840, True, "free", ("crof", "chutes"), 65_536),
    Route("route/deepseek-v4-pro", 163_840, True, "lite", ("crof",), 131_072),
    Route("route/qwen3.5-plus", 100_000, True, "premium", ("opencode",), 65_536),
    Route("route/mistral-large-3", 128_000, False, "premium", ("routing-inference",), 32_768),
    Route("route/mistral-medium-2505", 128_000, False, "premium", ("routing-inference",), 32_768),
    Route("route/mistral-small-2503", 128_000, False, "premium", ("routing-inference",), 32_768),
)

DEFAULT_MODEL = "route/mistral-small-2503"
#: Context assumed for a route we know nothing about (the smallest documented window).
FALLBACK_CONTEXT = 100_000


class Catalog:
    """Routes by id; starts from the built-in table, grows with what GET /models reports."""

    def __init__(self, routes: Iterable[Route] = BUILTIN_ROUTES) -> None:
        self._routes: dict[str, Route] = {r.id: r for r in routes}
        self.remote_loaded = False
        #: the ids GET /models listed: what this key may call
        self.remote_ids: frozenset[str] = frozenset()

    def __contains__(self, model: object) -> bool:
        return model in self._routes

    def __iter__(self) -> Any:
        return iter(sorted(self._routes.values(), key=lambda r: r.id))

    def __len__(self) -> int:
        return len(self._routes)

    def get(self, model: str) -> Route | None:
        return self._routes.get(model)

    def takes_tools(self, model: str) -> bool:
        """Whether the route is known to take `tools` (unknown routes are assumed to)."""
        route = self._routes.get(model)
        return route.tools if route else True

    def context_of(self, model: str) -> int:
        route = self._routes.get(model)
        return route.context if route else FALLBACK_CONTEXT

    def suggest(self, model: str, n: int = 3) -> list[str]:
        """Close matches for a mistyped id, e.g. 'mistral-small' → ['route/mistral-small-2503']."""
        import difflib  # only for a mistyped id: kept off the load path

        names = {i.removeprefix("route/"): i for i in self._routes}
        wanted = model.removeprefix("route/")
        close = difflib.get_close_matches(wanted, list(names), n=n, cutoff=0.6)
        if not close:
            close = [name for name in names if wanted.lower() in name.lower()][:n]
        return [names[name] for name in close]

    def merge(self, remote: Iterable[Mapping[str, Any]]) -> None:
        """Fold in GET /v1/models items: `limit.context` and `tier` win over the built-in table."""
        listed: set[str] = set()
        for item in remote:
            model = item.get("id")
            if not isinstance(model, str) or item.get("capability", "chat") != "chat":
                continue
            limit = item.get("limit")
            limit = limit if isinstance(limit, Mapping) else {}
            known = self._routes.get(model)
            context = _positive_int(limit.get("context")) or (
                known.context if known else FALLBACK_CONTEXT
            )
            tier = item.get("tier") if isinstance(item.get("tier"), str) else None
            tier = tier or (known.tier if known else "free")
            if known:
                self._routes[model] = replace(known, context=context, tier=tier)
            else:
                output = _positive_int(limit.get("output"))
                self._routes[model] = Route(model, context, False, tier, (), output)
            listed.add(model)
        self.remote_loaded, self.remote_ids = True, frozenset(listed)


def _positive_int(value: Any) -> int | None:
    """A count from the service's JSON, or None for anything else ("128k", -1, null)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return int(value)
