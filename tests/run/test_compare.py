"""Several models in one cell, below the shells: the agreement of short answers (pure), what
`-o` binds (run/comparison.py), and how model lists are read."""

from __future__ import annotations

import sys

import pytest

from routing_magics.api.errors import ConfigurationError
from routing_magics.api.models import Completion
from routing_magics.display.figures import ModelFigures
from routing_magics.run.agreement import SHORT_ANSWER, agreement
from routing_magics.run.compare import MAX_MODELS, parse_models
from routing_magics.run.comparison import Comparison


def test_short_answers_agree_when_equal_but_for_case_and_surrounding_spaces() -> None:
    found = agreement(
        ["r1", "r2", "r3", "r4", "r5"],
        [["Yes", " no\n", "maybe", None, "x" * (SHORT_ANSWER + 1)],
         ["yes ", "NO", "perhaps", "yes", "x" * (SHORT_ANSWER + 1)]],
    )  # fmt: skip
    assert (found.compared, found.agreed, found.long_rows) == (3, 2, 1)  # r4: one did not answer
    assert found.share == pytest.approx(2 / 3)
    assert found.disagreements == [("r3", ["maybe", "perhaps"])]


def test_nothing_to_compare_has_no_share() -> None:
    assert agreement(["r1"], [[None], ["a"]]).share is None


def figures(model: str, outcome: str = "ok", error: str | None = None) -> ModelFigures:
    return ModelFigures(model, 50, 1.5, 10, 20, False, 0.001, "stop", outcome, error)


def test_a_comparison_is_indexed_by_model_in_the_order_given() -> None:
    cmp = Comparison(
        {"route/b": Completion("B"), "route/a": Completion("")},
        [figures("route/b"), figures("route/a", "PROVIDER_ERROR", "route/a is down")],
    )
    assert list(cmp) == ["route/b", "route/a"] and len(cmp) == 2
    assert str(cmp["route/b"]) == "B"
    assert cmp.failures == {"route/a": "route/a is down"}
    with pytest.raises(KeyError, match="the models are route/b, route/a"):
        cmp["route/c"]
    summary = cmp.summary
    assert summary.index.tolist() == ["route/b", "route/a"]
    assert summary.loc["route/a", "outcome"] == "PROVIDER_ERROR"
    assert summary.loc["route/b", "ttft_s"] == 0.05


def test_the_summary_says_plainly_when_pandas_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what `import pandas` meets uninstalled
    cmp = Comparison({"route/a": Completion("A")}, [figures("route/a")])
    with pytest.raises(ConfigurationError, match="pandas is not installed"):
        print(cmp.summary)


@pytest.mark.parametrize(
    ("text", "says"),
    [("route/a,,route/b", "missing between commas"), ("route/a,route/a", "named twice"),
     (",".join(f"route/m{i}" for i in range(MAX_MODELS + 1)), f"at most {MAX_MODELS}")],
)  # fmt: skip
def test_a_model_list_that_cannot_be_meant_is_refused(text: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        parse_models(text)


def test_spaces_around_commas_are_forgiven() -> None:
    assert parse_models("route/a, route/b") == ["route/a", "route/b"]
