"""Several models in one cell (`%%route route/a,route/b`) in a real Jupyter kernel, against a
scripted service of several models with prices (tests/run/models_service.py): the requests in
flight at once, each answer in its column and bound, the figures table, a failing model beside
answering ones, `--each` with two models and their agreement, and what is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from routing_magics.emulator import Emulator
from tests.run.models_service import ModelsService, Reply, overlapping
from tests.ui.test_kernel import EMPTY, Kernel, Run, keyed_kernel, outcomes

GLM, KIMI, DEEPSEEK = "route/glm-5", "route/kimi-k2.5", "route/deepseek-v3.2"
WORDS = "echo: " + " ".join(f"w{i}" for i in range(12))


@pytest.fixture(scope="module")
def service() -> Iterator[ModelsService]:
    with ModelsService({}) as s:
        yield s


@pytest.fixture(scope="module")
def kernel(service: ModelsService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with keyed_kernel(cast(Emulator, service), tmp_path_factory.mktemp("compare")) as k:
        yield k


@pytest.fixture(autouse=True)
def fresh(service: ModelsService) -> None:
    service.spans.clear()
    service.requests.clear()


def values(kernel: Kernel, expression: str) -> Any:
    return json.loads(kernel.ok(f"import json; print(json.dumps({expression}))").stream("stdout"))


def said(model: str) -> Reply:
    """A model that says its name, then the prompt's words."""
    name = model.removeprefix("route/")
    return Reply(lambda prompt: f"{name} says " + prompt.removeprefix("echo: "))


def grid(run: Run) -> dict[str, str]:
    [found] = [d["data"] for d in run.displays if "routing-magics-compare" in str(d["data"])]
    return cast(dict[str, str], found)


def figures(run: Run) -> dict[str, str]:
    [found] = [d["data"] for d in run.displays if "routing-magics-figures" in str(d["data"])]
    return cast(dict[str, str], found)


@pytest.mark.parametrize("models", [[GLM, KIMI], [GLM, KIMI, DEEPSEEK]], ids=["two", "three"])
def test_models_answer_at_once_each_in_its_column_and_bound(
    kernel: Kernel, service: ModelsService, models: list[str]
) -> None:
    service.replies = {m: said(m) for m in models}
    before = len(outcomes(kernel)) if models == [GLM, KIMI, DEEPSEEK] else 0
    run = kernel.ok(f"%%route {','.join(models)} -o cmp\n{WORDS}")
    assert sorted(service.chat_models()) == sorted(models)
    assert overlapping(service.spans), service.spans  # sent at once, not one after another
    # The live grid is a placeholder, updated while streaming and reset at the end: what nbval
    # replays (display_data as sent) is what the notebook keeps.
    assert run.displays[0]["data"] == EMPTY
    assert run.of("update_display_data"), "the columns stream into the live display"
    assert [out["data"] for out in run.stored()] == [d["data"] for d in run.displays]
    shown = grid(run)
    for model in models:
        answer = f"{model.removeprefix('route/')} says w0 w1"
        assert answer in shown["text/plain"] and answer in shown["text/html"]
        assert f">{model}</div>" in shown["text/html"]  # the column's heading
    assert shown["text/html"].count("routing-magics-footer") == len(models)
    table = figures(run)["text/plain"].splitlines()
    assert [line.split(":")[0] for line in table[1 : 1 + len(models)]] == models
    assert sum("· fastest" in line for line in table) == 1
    assert sum("· cheapest" in line for line in table) == 1
    cheapest = next(line for line in table if "cheapest" in line)
    assert cheapest.startswith(DEEPSEEK if DEEPSEEK in models else KIMI)  # by the prices
    assert all("finish stop, ok" in line for line in table[1 : 1 + len(models)])
    assert values(kernel, "list(cmp)") == models
    texts = values(kernel, "{m: cmp[m].text for m in cmp}")
    assert texts == {m: f"{m.removeprefix('route/')} says {WORDS[6:]}" for m in models}
    summary = values(kernel, "cmp.summary.reset_index()[['model', 'outcome']].values.tolist()")
    assert summary == [[m, "ok"] for m in models]
    assert outcomes(kernel)[before:] == ["ok"] * len(models)  # a ledger row each


def test_a_failing_model_keeps_the_others_answers(kernel: Kernel, service: ModelsService) -> None:
    service.replies = {
        GLM: said(GLM),
        KIMI: Reply(fail=403, code="MODEL_NOT_ALLOWED"),
        DEEPSEEK: Reply(lambda p: "<script>alert(1)</script> partial then more", break_after=3),
    }
    run = kernel.ok(f"%%route {GLM},{KIMI},{DEEPSEEK} -o cmp\n{WORDS}")  # the cell succeeds
    html = grid(run)["text/html"]
    assert "glm-5 says w0" in html
    assert "(MODEL_NOT_ALLOWED)" in html  # the failing column says why
    assert "&lt;script&gt;alert(1)&lt;/script&gt; partial" in html and "<script>" not in html
    assert "(STREAM_ERROR)" in html
    lines = figures(run)["text/plain"].splitlines()
    assert ", MODEL_NOT_ALLOWED (" in next(line for line in lines if line.startswith(KIMI))
    assert values(kernel, f"cmp[{GLM!r}].text").startswith("glm-5 says")
    assert values(kernel, f"cmp[{DEEPSEEK!r}].text") == "<script>alert(1)</script> partial then"
    assert set(values(kernel, "list(cmp.failures)")) == {KIMI, DEEPSEEK}
    assert {"ok", "MODEL_NOT_ALLOWED", "STREAM_ERROR"} <= set(outcomes(kernel))
    kernel.ok(f"%%route {GLM}\necho: the next cell works")


def test_no_model_answering_fails_the_cell_in_one_line(
    kernel: Kernel, service: ModelsService
) -> None:
    service.replies = {GLM: Reply(fail=403, code="MODEL_NOT_ALLOWED"),
                       KIMI: Reply(fail=403, code="MODEL_NOT_ALLOWED")}  # fmt: skip
    line = kernel.run(f"%%route {GLM},{KIMI}\n{WORDS}").usage_error()
    assert line.startswith(f"no model answered — {GLM}: ") and f"; {KIMI}: " in line


FRAME = (
    "import pandas as pd\n"
    "reviews = pd.DataFrame({'text': ['loved it', 'awful', 'meh', 'great']}, "
    "index=[10, 20, 30, 40])"
)


def label(prompt: str, unsure: str) -> str:
    text = prompt.removeprefix("echo: ")
    return {"loved it": "Positive", "awful": "negative", "meh": unsure, "great": "positive "}[text]


def test_each_row_goes_to_every_model_into_a_column_each(
    kernel: Kernel, service: ModelsService
) -> None:
    service.replies = {GLM: Reply(lambda p: label(p, "neutral"), pause=0),
                       KIMI: Reply(lambda p: label(p, "negative"), pause=0)}  # fmt: skip
    kernel.ok(FRAME)
    run = kernel.ok(f"%%route {GLM},{KIMI} --each reviews -o out --into label\necho: {{text}}")
    assert sorted(service.chat_models()) == sorted([GLM] * 4 + [KIMI] * 4)
    assert values(kernel, "out.index.tolist()") == [10, 20, 30, 40]
    assert values(kernel, "out.columns.tolist()") == [GLM, KIMI]
    assert values(kernel, f"out[{KIMI!r}].tolist()") == ["Positive", "negative", "negative",
                                                         "positive "]  # fmt: skip
    assert values(kernel, "reviews['label_glm-5'].tolist()")[2] == "neutral"
    text = "\n".join(d["data"]["text/plain"] for d in run.displays)
    assert "Agreement: the models give the same answer on 3 of 4 rows (75%" in text
    differ = next(d["data"] for d in run.displays if "Rows where they differ" in str(d["data"]))
    assert "30" in differ["text/plain"] and "neutral" in differ["text/plain"]
    tally = next(d["data"]["text/plain"] for d in run.displays if "Every row to" in str(d["data"]))
    glm = next(line for line in tally.splitlines() if line.startswith(GLM)).split()
    assert glm[1:5] == ["4", "0", "0", "0"] and "$" in glm[-1]  # answered, …, cost


@pytest.mark.parametrize(
    ("options", "words"),
    [("--chat", "--chat does not combine with several models"),
     ("--tools len", "--tools does not combine with several models"),
     ("--format code", "--format code does not combine"),
     ("", "is named twice")],
)  # fmt: skip
def test_what_does_not_combine_is_refused_before_sending(
    kernel: Kernel, service: ModelsService, options: str, words: str
) -> None:
    models = f"{GLM},{GLM}" if not options else f"{GLM},{KIMI}"
    line = kernel.run(f"%%route {models} {options}\n{WORDS}").usage_error()
    assert words in line
    assert service.chat_models() == []


def test_dry_run_shows_each_models_request_and_sends_nothing(
    kernel: Kernel, service: ModelsService, tmp_path: Path
) -> None:
    run = kernel.ok(f"%%route {GLM},{KIMI} --dry-run -o reqs\n{WORDS}")
    shown = "\n".join(d["data"]["text/plain"] for d in run.displays)
    assert GLM in shown and KIMI in shown and shown.count("w11") == 2
    assert values(kernel, "{m: r.model for m, r in reqs.items()}") == {GLM: GLM, KIMI: KIMI}
    assert service.chat_models() == []


def test_interrupt_stops_every_model_and_keeps_what_arrived(
    kernel: Kernel, service: ModelsService
) -> None:
    service.replies = {GLM: Reply(pause=0.2), KIMI: Reply(pause=0.2)}
    interrupted: list[float] = []

    def interrupt_on_first_words(msg: dict[str, Any]) -> None:
        if not interrupted and msg["msg_type"] == "update_display_data" and "w1" in str(msg):
            interrupted.append(time.monotonic())
            kernel.km.interrupt_kernel()

    run = kernel.run(f"%%route {GLM},{KIMI} -o cmp\n{WORDS}", on_message=interrupt_on_first_words)
    assert interrupted, "no words arrived to interrupt"
    assert time.monotonic() - interrupted[0] < 2
    assert run.stopped().startswith("Stopped: the answer so far is kept")
    kept = values(kernel, "[cmp[m].text for m in cmp]")
    assert all(text.startswith("w0") and "w11" not in text for text in kept), kept
    assert outcomes(kernel)[-2:] == ["stopped", "stopped"]
    lines = figures(run)["text/plain"]
    assert lines.count(", stopped") == 2
    kernel.ok(f"%%route {GLM},{KIMI}\necho: the next cell works")


def test_one_line_names_several_models_too(kernel: Kernel, service: ModelsService) -> None:
    service.replies = {GLM: said(GLM), KIMI: said(KIMI)}
    run = kernel.ok(f"%route {GLM},{KIMI} {WORDS}")
    assert overlapping(service.spans)
    text = grid(run)["text/plain"]
    assert "glm-5 says w0" in text and "kimi-k2.5 says w0" in text
