"""The answers cache (ledger/cache.py) in the ledger's file: keys, restarts, several writers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from routing_magics.ledger import MIGRATIONS, AnswerCache, CachedAnswer, Ledger, request_key

MESSAGES = [{"role": "user", "content": "hi"}]


def _key(model: str, messages: list[dict[str, str]], params: dict[str, object], **kw: str) -> str:
    where = {"fmt": "markdown", "service": "https://api.routing.run/v1", **kw}
    return request_key(model, messages, params, **where)


def test_the_key_changes_with_anything_that_changes_the_request() -> None:
    base = _key("route/a", MESSAGES, {"temperature": 0.2})
    assert base == _key("route/a", [dict(m) for m in MESSAGES], {"temperature": 0.2})
    assert base != _key("route/b", MESSAGES, {"temperature": 0.2})
    assert base != _key("route/a", MESSAGES, {"temperature": 0.3})
    assert base != _key("route/a", MESSAGES, {"temperature": 0.2, "max_tokens": 9})
    assert base != _key("route/a", [{"role": "user", "content": "hi!"}], {})
    assert base != _key("route/a", MESSAGES, {"temperature": 0.2}, fmt="json")
    assert base != _key("route/a", MESSAGES, {"temperature": 0.2}, service="emulator")


def test_answers_survive_a_restart_and_share_the_ledger_file(tmp_path: Path) -> None:
    path = tmp_path / "u.sqlite"
    cache = AnswerCache(path)
    cache.put("k1", CachedAnswer("route/a", "answer one", "thought", "prov", "stop"))
    cache.close()
    with Ledger(path) as ledger:  # the same file, migrated once for both
        assert ledger.notebook_total("x").requests == 0
    again = AnswerCache(path)
    assert again.get("k1") == CachedAnswer("route/a", "answer one", "thought", "prov", "stop")
    assert again.get("nope") is None
    assert len(again) == 1 and again.clear() == 1 and len(again) == 0
    assert len(MIGRATIONS) >= 2


WRITER = """
import sys
from routing_magics.ledger import AnswerCache, CachedAnswer
cache = AnswerCache(sys.argv[1])
for i in range(200):
    cache.put_many({f"{sys.argv[2]}-{i}": CachedAnswer("route/a", f"text {i}")})
"""


def test_several_processes_write_at_once_without_losing_answers(tmp_path: Path) -> None:
    path = str(tmp_path / "u.sqlite")
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, path, f"w{n}"]) for n in range(3)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0]
    cache = AnswerCache(path)
    assert len(cache) == 600
    keys = [f"w{n}-{i}" for n in range(3) for i in range(200)]
    assert len(cache.get_many(keys)) == 600  # looked up in slices of 500
