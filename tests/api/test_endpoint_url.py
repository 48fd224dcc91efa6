"""Request URLs: the path goes after the base URL's path, and a query the base carries stays one."""

from __future__ import annotations

import pytest

from routing_magics.api.transport import endpoint_url


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("https://api.routing.run/v1", "https://api.routing.run/v1/chat/completions"),
        ("http://proxy:8080/v1/", "http://proxy:8080/v1/chat/completions"),
        ("http://proxy/v1?token=abc", "http://proxy/v1/chat/completions?token=abc"),
        ("http://u:p@proxy/v1?t=1#x", "http://u:p@proxy/v1/chat/completions?t=1#x"),
    ],
)
def test_the_path_goes_before_the_query(base: str, url: str) -> None:
    assert endpoint_url(base, "/chat/completions") == url
