"""routing_magics.api: the public face loads its names on first use and hands out the real ones."""

from __future__ import annotations

import subprocess
import sys

import pytest

import routing_magics.api as api
from routing_magics.api import client, errors, models


def test_names_resolve_to_the_objects_of_their_modules() -> None:
    assert api.RoutingClient is client.RoutingClient
    assert api.ContentDelta is models.ContentDelta
    assert api.DailyLimitExceeded is errors.DailyLimitExceeded
    assert all(getattr(api, name) is not None for name in api.__all__)
    assert set(api.__all__) <= set(dir(api))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'RoutingClinet'"):
        _ = api.RoutingClinet  # type: ignore[attr-defined]


def test_importing_the_package_and_its_face_loads_no_http_stack_and_no_ipython() -> None:
    code = (
        "import sys, routing_magics, routing_magics.api; "
        "print(*(m in sys.modules for m in ('httpx', 'IPython', 'markdown_it', 'ipywidgets')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"] * 4
