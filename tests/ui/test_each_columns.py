"""What `--into` may write into the user's frame: never a column that exists unless the cell says
`--overwrite`, never a column named by an empty or odd key of the model's, and never more than
MAX_JSON_COLUMNS columns from JSON keys. Through a real InteractiveShell against the emulator,
which answers "echo: X" with X, so the tests choose the model's keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from routing_magics.emulator import Emulator
from routing_magics.run.batch.columns import MAX_JSON_COLUMNS
from tests.helpers import Harness, magic_harness, one_line

MINE = ["mine 1", "mine 2"]


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    emu.per_minute_limit = 6000
    with magic_harness(emu, tmp_path, monkeypatch, display="text") as harness:
        harness.shell.user_ns["df"] = pd.DataFrame(
            {"text": ["a", "b"], "sentiment": MINE, "label_score": MINE, "label_": MINE}
        )
        yield harness


def column(h: Harness, name: str) -> list[object]:
    return h.shell.user_ns["df"][name].tolist()


@pytest.mark.parametrize("into", ["sentiment", "text"])  # text: the column the rows are read from
def test_into_an_existing_column_is_refused_before_any_request(h: Harness, into: str) -> None:
    before = column(h, into)
    message = one_line(h.run(f"%%route --each df --into {into}\necho: {{text}}!").error)
    assert message == (
        f"--into {into}: df already has a column {into!r}; add --overwrite to replace it, or "
        "name a new column"
    )
    assert column(h, into) == before and h.chat_requests() == []


def test_overwrite_lets_into_replace_the_column(h: Harness) -> None:
    h.ok("%%route --each df --into sentiment --overwrite\necho: {text}!")
    assert column(h, "sentiment") == ["a!", "b!"]


def test_overwrite_without_into_is_refused(h: Harness) -> None:
    for line in ("--each df --overwrite", "--overwrite"):
        message = one_line(h.run(f"%%route {line}\necho: hi").error)
        assert message.startswith("--overwrite goes with --each NAME --into COL")
    assert h.chat_requests() == []


def test_into_without_each_is_refused_before_any_request(h: Harness) -> None:
    message = one_line(h.run("%%route --into sentiment -o answer\necho: hi").error)
    assert message.startswith("--into sentiment goes with --each NAME")
    assert h.chat_requests() == [] and "answer" not in h.shell.user_ns


JSON_ROW = 'echo: {{"score": 0, "": "x", "  ": 1, "a\\u001b[2J": 2, "reason": "{text}"}}'


def test_json_keys_never_pick_an_existing_column_or_an_odd_name(h: Harness) -> None:
    cell = h.ok(f"%%route --each df --into label --format json -o facts\n{JSON_ROW}")
    assert column(h, "label_score") == MINE and column(h, "label_") == MINE  # kept
    assert column(h, "label_reason") == ["a", "b"]  # the new one is written
    assert list(h.shell.user_ns["df"].columns) == [
        "text", "sentiment", "label_score", "label_", "label_reason"
    ]  # fmt: skip
    assert list(h.shell.user_ns["facts"].columns) == ["score", "reason"]
    notes = [line for line in cell.stdout.splitlines() if line.startswith("--")]
    assert notes == [
        "--format json: 3 keys name no column (empty, blank, too long or not printable), "
        "so left out: '', '  ', 'a\\x1b[2J'",
        "--into label: kept the column label_score that df has; add --overwrite to replace it",
    ]
    assert "\x1b" not in cell.stdout


def test_json_keys_replace_existing_columns_with_overwrite_only_by_usable_names(
    h: Harness,
) -> None:
    h.ok(f"%%route --each df --into label --format json --overwrite\n{JSON_ROW}")
    assert column(h, "label_score") == [0, 0]  # the user said so
    assert column(h, "label_") == MINE  # an empty key names no column, ever


def test_an_answer_with_ten_thousand_keys_adds_at_most_the_bound(h: Harness) -> None:
    wide = json.dumps({f"k{i}": i for i in range(10_000)})
    h.shell.user_ns["wide"] = pd.DataFrame({"text": [wide]})
    cell = h.ok("%%route --each wide --into w --format json -o facts\necho: {text}")
    frame = h.shell.user_ns["wide"]
    assert list(frame.columns) == ["text"] + [f"w_k{i}" for i in range(MAX_JSON_COLUMNS)]
    assert h.shell.user_ns["facts"].shape == (1, MAX_JSON_COLUMNS)
    note = next(line for line in cell.stdout.splitlines() if "keys" in line)
    assert note == (
        f"--format json: the answers have 10,000 keys; the first {MAX_JSON_COLUMNS} make "
        f"columns and the other 9,950 are left out ('k50', 'k51', 'k52', …); ask for fewer keys"
    )


def test_polars_frames_follow_the_same_rules(h: Harness) -> None:
    h.shell.user_ns["pf"] = pl.DataFrame({"text": ["a"], "label_score": ["mine"]})
    message = one_line(h.run("%%route --each pf --into text -o pf2\necho: {text}").error)
    assert "--into text: pf already has a column 'text'; add --overwrite" in message
    cell = h.ok(f"%%route --each pf --into label --format json -o pf2\n{JSON_ROW}")
    assert h.shell.user_ns["pf2"]["label_score"].to_list() == ["mine"]
    assert h.shell.user_ns["pf2"]["label_reason"].to_list() == ["a"]
    assert "kept the column label_score that pf has" in cell.stdout
