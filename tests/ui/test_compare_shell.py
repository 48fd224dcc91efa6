"""Several models in one cell in terminal IPython (no HTML): each answer printed whole once all
have finished (streams printed as they arrive would interleave), then the figures; and the
comparison's value type stays light."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness, one_line

MODELS = "route/mistral-small-2503,route/glm-5"


@pytest.fixture
def text(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch, display="text") as harness:
        yield harness


def test_a_terminal_prints_each_answer_whole_then_the_figures(text: Harness) -> None:
    cell = text.ok(f"%%route {MODELS} -o cmp\necho: first line\n\nsecond line")
    assert cell.outputs == []  # no HTML, no live display
    out = cell.stdout
    first, second = out.index("── route/mistral-small-2503 ──"), out.index("── route/glm-5 ──")
    assert first < second < out.index("Figures")
    assert out[first:second].count("first line\n\nsecond line") == 1  # whole, not interleaved
    assert "route/glm-5: first token " in out and ", finish stop, ok" in out
    assert [str(text.shell.user_ns["cmp"][m]) for m in MODELS.split(",")] == [
        "first line\n\nsecond line"
    ] * 2


def test_the_comparison_value_loads_no_renderer_and_no_ipython() -> None:
    code = (
        "import sys, routing_magics.run.comparison\n"
        "print(sorted(m for m in sys.modules if m.startswith(('IPython', 'markdown_it', "
        "'routing_magics.display.render', 'pandas'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    assert loaded == "[]"


@pytest.fixture
def rich(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


@pytest.mark.parametrize(
    ("setup", "line", "says"),
    [
        ("import polars as pl; f = pl.DataFrame({'text': ['a']})", "--each f",
         "--each f with several models needs a pandas DataFrame or Series"),
        ("import pandas as pd; f = pd.DataFrame({'text': ['a']})", "--each f --dry-run",
         "drop --dry-run and --cells"),
        ("f = 1", "--into x", "--into x goes with --each NAME"),
    ],
    ids=["polars", "each and dry run", "into without each"],
)  # fmt: skip
def test_a_batch_that_cannot_go_to_several_models_is_refused_unsent(
    rich: Harness, setup: str, line: str, says: str
) -> None:
    rich.ok(setup)
    message = one_line(rich.run(f"%%route {MODELS} {line}\necho: {{text}}").error)
    assert says in message
    assert rich.chat_requests() == []


def test_every_row_to_every_model_is_estimated_once_and_declined_for_all(text: Harness) -> None:
    """The estimate counts rows × models before any request; refused (no input box here, a
    threshold of 0), no model gets a row."""
    text.shell.user_ns["f"] = __import__("pandas").DataFrame({"text": ["a", "b", "c"]})
    text.run("%config RouteMagics.confirm_above_usd = 0.0")
    cell = text.run(f"%%route {MODELS} --each f -o out\nlabel: {{text}}")
    assert "Estimate:" in cell.stdout and "6 requests (3 rows × route/mistral-small-2503" in (
        cell.stdout
    )
    assert cell.stdout.count("Estimate:") == 1
    assert "the batch was not sent" in one_line(cell.error)
    assert text.chat_requests() == [] and "out" not in text.shell.user_ns
    sent = text.ok(f"%%route {MODELS} --each f -o out --yes\nlabel: {{text}}")
    assert list(text.shell.user_ns["out"].columns) == MODELS.split(",") and sent.stdout
