"""`%%route --each` and `%route cache` through a real InteractiveShell against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    emu.per_minute_limit = 6000
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        harness.shell.user_ns["reviews"] = pd.DataFrame(
            {"text": ["great", "awful", "fine"], "stars": [5, 1, 3]}, index=[10, 20, 30]
        )
        yield harness


def summary(h: Harness) -> str:
    return next(d["text/plain"] for d in h.cells[-1].final if " rows: " in d.get("text/plain", ""))


def test_o_binds_a_series_aligned_to_the_index_and_into_adds_the_column(h: Harness) -> None:
    h.ok("%%route --each reviews -o sentiment --into sentiment\necho: {text} has {stars} stars")
    ns = h.shell.user_ns
    expected = pd.Series(
        ["great has 5 stars", "awful has 1 stars", "fine has 3 stars"],
        index=[10, 20, 30], name="sentiment", dtype=object,
    )  # fmt: skip
    pd.testing.assert_series_equal(ns["sentiment"], expected)
    pd.testing.assert_series_equal(ns["reviews"]["sentiment"], expected)
    assert summary(h).startswith("3 rows: 3 answered, 0 from cache, 0 failed, 0 not sent · ")
    assert h.outcomes() == ["ok"] * 3


def test_row_index_and_notebook_names_fill_the_template(h: Harness) -> None:
    h.shell.user_ns["text"] = "the notebook's text"
    h.shell.user_ns["tone"] = "briefly"
    h.ok("%%route --each reviews -o out\necho: {index}|{text}|{tone}|{row}")
    out = h.shell.user_ns["out"]
    assert out[10] == "10|great|briefly|text: great\nstars: 5"  # the row's field wins


def test_json_objects_become_columns_and_a_non_json_row_fails_alone(
    h: Harness, emu: Emulator
) -> None:
    h.shell.user_ns["reviews"].loc[20, "text"] = 'a "quote'  # breaks the JSON
    cell = h.ok(
        '%%route --each reviews -o facts --format json\necho: {{"word": "{text}", "n": {stars}}}'
    )
    facts = h.shell.user_ns["facts"]
    assert list(facts.columns) == ["word", "n"]
    assert facts.loc[10, "word"] == "great" and facts.loc[30, "n"] == 3
    assert facts.loc[20].isna().all()
    assert "1 failed" in summary(h)
    failed = cell.final[-1]
    assert "Failed rows" in failed["text/plain"] and "NOT_JSON" in failed["text/plain"]
    assert "<td>20</td>" in failed["text/html"]


def test_polars_frames_give_polars_series_and_into_needs_o(h: Harness, emu: Emulator) -> None:
    h.shell.user_ns["pf"] = pl.DataFrame({"text": ["a", "b"]})
    h.ok("%%route --each pf -o out\necho: {text}!")
    assert h.shell.user_ns["out"].to_list() == ["a!", "b!"]
    assert isinstance(h.shell.user_ns["out"], pl.Series)
    before = len(emu.requests)
    message = one_line(h.run("%%route --each pf --into ans\necho: {text}?").error)
    assert "polars frames cannot change in place; add -o NAME" in message
    assert len(emu.requests) == before
    cell = h.ok("%%route --each pf --into ans -o pf2\necho: {text}?")
    assert h.shell.user_ns["pf2"]["ans"].to_list() == ["a?", "b?"]
    assert h.shell.user_ns["pf"].columns == ["text"]
    assert "polars frames cannot change in place" in cell.stdout


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("--each reviews --concurrency 51", "--concurrency 51: give 1 to 50"),
        ("--each nothing", "--each nothing: no variable named 'nothing'"),
        ("--each reviews --chat", "--chat does not combine with --each"),
        ("--each reviews --format code", "--format code needs one answer"),
        ("--each reviews route/nope", "unknown model 'route/nope'"),
        ("--each reviews --rows 0", "--rows 0: show at least 1 row"),
        ("--each reviews --limit -1", "--limit -1: give 0 or more rows"),
        ("--each reviews --dry-run", "drop --tools, --cells and --dry-run"),
    ],
)
def test_bad_options_fail_in_one_line_before_any_request(
    h: Harness, emu: Emulator, line: str, words: str
) -> None:
    message = one_line(h.run(f"%%route {line}\necho: {{text}}").error)
    assert words in message
    assert [r for r in emu.requests if r.path == "/v1/chat/completions"] == []


def test_a_template_naming_a_missing_column_fails_before_any_request(
    h: Harness, emu: Emulator
) -> None:
    message = one_line(h.run("%%route --each reviews\necho: {txt}").error)
    assert "{txt} is not a column of reviews (columns: text, stars)" in message
    assert emu.requests == []


def test_a_column_name_cannot_break_the_one_line_error(h: Harness, emu: Emulator) -> None:
    h.shell.user_ns["odd"] = pd.DataFrame({"two\nlines \x1b[2J": ["x"]})
    message = one_line(h.run("%%route --each odd\necho: {txt}").error)
    assert "(columns: two lines" in message and "\x1b" not in message
    assert emu.requests == []


def test_a_daily_cap_fails_the_cell_but_binds_the_answered_rows(h: Harness, emu: Emulator) -> None:
    emu.daily_limit = 2
    message = one_line(h.run("%%route --each reviews -o out --limit 3\necho: {text}").error)
    assert "DAILY_REQUEST_LIMIT_EXCEEDED" in message and "2 answered rows are kept" in message
    assert h.shell.user_ns["out"].tolist() == ["great", "awful", None]
    assert "Stopped early" in summary(h)


def test_a_rerun_answers_from_the_cache_and_no_cache_asks_again(h: Harness, emu: Emulator) -> None:
    h.ok("%%route --each reviews -o a\necho: {text}")
    h.ok("%%route --each reviews -o b\necho: {text}")
    assert summary(h).startswith("3 rows: 0 answered, 3 from cache")
    assert h.shell.user_ns["b"].tolist() == h.shell.user_ns["a"].tolist()
    h.ok("%%route --each reviews --no-cache\necho: {text}")
    assert h.outcomes() == ["ok"] * 3 + ["cached"] * 3 + ["ok"] * 3


def test_single_cells_use_the_cache_with_cache_or_route_cache_on(h: Harness, emu: Emulator) -> None:
    h.ok("%%route --cache\necho: remember me")
    cell = h.ok("%%route --cache\necho: remember me")
    assert "remember me" in cell.final_plain()
    assert cell.final[-1]["text/plain"].endswith("cached")  # the footer
    assert h.outcomes() == ["ok", "cached"]
    assert len([r for r in emu.requests if r.path == "/v1/chat/completions"]) == 1
    h.ok("%%route\necho: remember me")  # off by default: asks the model
    assert h.outcomes()[-1] == "ok"
    assert "Answers cache on" in h.ok("%route cache on").stdout
    h.ok("%%route\necho: remember me")
    assert h.outcomes()[-1] == "cached"
    assert "(1 answer forgotten)" in h.ok("%route cache clear").stdout
    h.ok("%%route\necho: remember me")
    assert h.outcomes()[-1] == "ok"
    assert "use on, off or clear" in one_line(h.run("%route cache maybe").error)


def test_terminal_shows_one_progress_line_and_the_summary(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.per_minute_limit = 6000
    with magic_harness(emu, tmp_path, monkeypatch, display="text") as h:
        h.shell.user_ns["s"] = pd.Series(["x", "y"], name="word")
        cell = h.ok("%%route --each s -o out\necho: {word}")
        assert cell.outputs == []
        estimate, summary = cell.stdout.splitlines()[:2]  # the cost estimate, then the summary
        assert estimate.startswith("Estimate: cost unknown for 2 requests")
        assert summary.startswith("2 rows: 2 answered, 0 from cache, 0 failed, 0 not sent")
        assert "\n" not in cell.stderr.strip("\r\n ")  # one updating line, redrawn with \r
        assert h.shell.user_ns["out"].tolist() == ["x", "y"]
