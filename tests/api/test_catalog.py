from routing_magics.api.catalog import BUILTIN_ROUTES, DEFAULT_MODEL, Catalog


def test_builtin_has_the_eleven_documented_routes() -> None:
    catalog = Catalog()
    assert len(catalog) == 11
    assert DEFAULT_MODEL in catalog
    assert catalog.context_of("route/glm-5") == 200_000
    assert catalog.get("route/kimi-k2.5").reasoning  # type: ignore[union-attr]
    assert not catalog.get("route/mistral-large-3").reasoning  # type: ignore[union-attr]


def test_mistral_routes_need_premium_or_better() -> None:
    route = Catalog().get("route/mistral-large-3")
    assert route is not None
    assert route.plans_allowed() == "Premium, Max or Ultra"
    assert not route.allowed_on("lite")
    assert route.allowed_on("max")


def test_suggest_close_matches_for_typos() -> None:
    catalog = Catalog()
    assert catalog.suggest("route/mistral-smal-2503")[0] == "route/mistral-small-2503"
    assert catalog.suggest("kimi")[0].startswith("route/kimi")
    assert catalog.suggest("zzzzzzzz") == []


def test_merge_prefers_service_limits_and_adds_new_routes() -> None:
    catalog = Catalog()
    catalog.merge(
        [
            {"id": "route/glm-5", "tier": "free", "limit": {"context": 202_752}},
            {
                "id": "route/glm-5.2",
                "tier": "lite",
                "capability": "chat",
                "limit": {"context": 1_000},
            },
            {"id": "route/whisper-large-v3", "capability": "stt"},
        ]
    )
    assert catalog.context_of("route/glm-5") == 202_752
    assert catalog.get("route/glm-5").reasoning  # type: ignore[union-attr]  # kept from our table
    assert catalog.context_of("route/glm-5.2") == 1_000
    assert "route/whisper-large-v3" not in catalog
    assert catalog.remote_loaded
    assert len(catalog) == len(BUILTIN_ROUTES) + 1


def test_merge_skips_what_it_cannot_read() -> None:
    catalog = Catalog()
    catalog.merge(
        [{"id": "route/glm-5", "limit": 5}, {"id": "route/x", "limit": {"context": "128k"}}]
    )
    assert catalog.context_of("route/glm-5") == 200_000  # unreadable limit: the table stays
    assert "route/x" in catalog and catalog.context_of("route/x") == 100_000
