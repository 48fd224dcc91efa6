"""`--schema`: structured answers through a real shell, against a scripted model on loopback that
answers like a compliant model (the forced tool, or JSON in the text) or a careless one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, TypedDict

import pandas as pd
import polars as pl
import pytest
from pydantic import BaseModel

import routing_magics
from routing_magics.prompt.schema import REPAIR_HEADING, SCHEMA_HEADING
from tests.helpers import Harness, one_line
from tests.run.model_server import ModelServer, careless, compliant, per_row

SPEC = '"sentiment, score float, urgent bool, summary: one sentence"'
GOOD = {"sentiment": "negative", "score": 0.2, "urgent": True, "summary": "Invoice is wrong."}


class Review(BaseModel):
    sentiment: str
    score: float


@dataclasses.dataclass
class ReviewRecord:
    sentiment: str
    score: float


class ReviewDict(TypedDict):
    sentiment: str
    score: float


@pytest.fixture
def model(h: Harness) -> Iterator[ModelServer]:
    """A compliant model by default; tests swap the policy with `use(h, policy)`."""
    with ModelServer(compliant(GOOD)) as server:
        h.ok(f"%config RouteMagics.base_url = {server.base_url!r}")
        yield server


def use(model: ModelServer, policy: Any) -> None:
    model._policy = policy


def test_a_concise_spec_through_the_tool_gives_data_and_an_escaped_table(
    h: Harness, model: ModelServer
) -> None:
    use(model, compliant({**GOOD, "summary": "<script>alert(1)</script>"}))
    cell = h.ok(f"%%route --schema {SPEC} -o r\nExtract the fields: my invoice is wrong!")
    data = h.shell.user_ns["r"].data
    assert data["sentiment"] == "negative" and data["urgent"] is True
    sent = model.chat_bodies()[0]
    assert sent["tool_choice"]["function"]["name"] == "record_answer"
    assert sent["tools"][0]["function"]["parameters"]["required"] == list(GOOD)
    html = cell.final_html()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


@pytest.mark.parametrize(
    ("name", "kind"), [("Review", Review), ("ReviewRecord", ReviewRecord), ("ReviewDict", dict)]
)
def test_each_schema_kind_through_the_text_path(
    h: Harness, model: ModelServer, name: str, kind: type
) -> None:
    h.shell.user_ns.update(Review=Review, ReviewRecord=ReviewRecord, ReviewDict=ReviewDict)
    h.ok('%config RouteMagics.schema_via = "text"')
    use(model, compliant({"sentiment": "positive", "score": "0.75"}))  # a numeric string
    h.ok(f"%%route --schema {name} -o r\nRead: loved it")
    data = h.shell.user_ns["r"].data
    assert isinstance(data, kind)
    score = data["score"] if isinstance(data, dict) else data.score
    assert score == 0.75  # coerced as pydantic does
    sent = model.chat_bodies()[0]
    assert "tools" not in sent and SCHEMA_HEADING in sent["messages"][0]["content"]


def test_a_json_schema_dict_is_checked_with_jsonschema(h: Harness, model: ModelServer) -> None:
    h.shell.user_ns["shape"] = {"type": "object", "properties": {"n": {"type": "integer"}},
                                "required": ["n"]}  # fmt: skip
    use(model, careless({"n": "many"}, {"n": 3}))
    h.ok("%%route --schema shape -o r\nHow many?")
    assert h.shell.user_ns["r"].data == {"n": 3}


def test_a_careless_answer_is_repaired_once_and_both_turns_are_recorded(
    h: Harness, model: ModelServer
) -> None:
    use(model, careless({**GOOD, "score": "n/a"}, GOOD))
    cell = h.ok(f"%%route --schema {SPEC} -o r\nExtract the fields: my invoice is wrong!")
    assert h.shell.user_ns["r"].data == GOOD
    bodies = model.chat_bodies()
    assert len(bodies) == 2
    repair = bodies[1]["messages"][-1]
    assert repair["role"] == "tool" and REPAIR_HEADING in repair["content"]
    assert "score" in repair["content"]
    assert "repair turn fixed it" in cell.final_plain()
    assert h.outcomes() == ["ok", "ok"]


@pytest.mark.parametrize("repairs", [0, 2])
def test_an_answer_that_never_matches_fails_in_one_line_after_the_bound(
    h: Harness, model: ModelServer, repairs: int
) -> None:
    h.ok(f"%config RouteMagics.schema_repairs = {repairs}")
    use(model, compliant({**GOOD, "score": "n/a"}))
    cell = h.run(f"%%route --schema {SPEC} -o r\nExtract the fields")
    line = one_line(cell.error)
    assert "does not match the concise spec" in line and "score" in line
    assert len(model.chat_bodies()) == repairs + 1
    assert len(h.outcomes()) == repairs + 1


@pytest.mark.parametrize(
    ("value", "words"),
    [("42", "is a int, not a schema"), ("nothing_here", "has nothing by that name")],
)
def test_a_spec_that_is_not_a_schema_fails_before_any_request(
    h: Harness, model: ModelServer, value: str, words: str
) -> None:
    h.shell.user_ns["answer_count"] = 42
    name = "answer_count" if value == "42" else value
    line = one_line(h.run(f"%%route --schema {name}\nhi").error)
    assert words in line and f"--schema {name}" in line
    assert model.chat_bodies() == []


def _tickets(h: Harness) -> None:
    texts = ["alpha: refund please", "beta: broken", "gamma: thanks"]
    h.shell.user_ns["tickets"] = pd.DataFrame({"text": texts}, index=[7, 8, 9])


ROWS = {"alpha": {"sentiment": "negative", "score": 0.1},
        "gamma": {"sentiment": "positive", "score": 0.9}}  # fmt: skip


def test_each_gives_typed_aligned_columns_and_a_failed_row(h: Harness, model: ModelServer) -> None:
    _tickets(h)
    h.shell.user_ns["Review"] = Review
    use(model, per_row(ROWS, wrong={"sentiment": "?", "score": "bad"}))
    h.ok("%%route --each tickets --schema Review -o fields --into f_\nRead: {text}")
    fields = h.shell.user_ns["fields"]
    assert list(fields.index) == [7, 8, 9]
    assert str(fields["score"].dtype) == "Float64" and str(fields["sentiment"].dtype) == "string"
    assert fields.loc[7, "score"] == 0.1 and pd.isna(fields.loc[8, "score"])
    tickets = h.shell.user_ns["tickets"]
    assert tickets.loc[9, "f_sentiment"] == "positive"
    assert "SCHEMA_MISMATCH" in h.cells[-1].final_plain()  # the failed-rows table


def test_polars_frames_get_a_polars_frame_of_fields(h: Harness, model: ModelServer) -> None:
    h.shell.user_ns["tickets"] = pl.DataFrame({"text": ["alpha one", "gamma two"]})
    use(model, per_row(ROWS))
    h.ok('%%route --each tickets --schema "sentiment, score float" -o fields\nRead: {text}')
    fields = h.shell.user_ns["fields"]
    assert isinstance(fields, pl.DataFrame) and fields["score"].to_list() == [0.1, 0.9]


def test_the_cache_keys_on_the_schema_and_serves_validated_objects(
    h: Harness, model: ModelServer
) -> None:
    h.shell.user_ns["Review"] = Review
    use(model, compliant({"sentiment": "positive", "score": 1.0}))
    for _ in range(2):
        h.ok("%%route --cache --schema Review -o r\nRead: fine")
    assert len(model.chat_bodies()) == 1
    assert h.shell.user_ns["r"].data == Review(sentiment="positive", score=1.0)
    h.ok('%%route --cache --schema "sentiment, score float" -o r\nRead: fine')
    assert len(model.chat_bodies()) == 2  # another schema: another key


def test_ask_and_each_are_the_python_faces(h: Harness, model: ModelServer) -> None:
    session = h.magics.session
    use(model, per_row(ROWS))
    done = routing_magics.ask("Read: alpha", schema=Review, session=session)
    assert done.data == Review(sentiment="negative", score=0.1)
    frame = pd.DataFrame({"text": ["alpha", "gamma"]})
    out = routing_magics.each(frame, "Read: {text}", schema=Review, session=session,
                              progress=False)  # fmt: skip
    assert out["sentiment"].tolist() == ["negative", "positive"]
