"""The columns of a comparison (display/columns.py) and its figures table (compare_table.py):
what nbval replays, the bytes a long answer costs, escaping, and the marks."""

from __future__ import annotations

import random

from routing_magics.api.models import ContentDelta, ReasoningDelta
from routing_magics.display.columns import MIN_WIDTH, ColumnBoard
from routing_magics.display.compare_table import figures_bundle
from routing_magics.display.figures import ModelFigures
from routing_magics.run import AnswerDraft
from tests.display.test_live import EMPTY, FOOTER, FakeClock, RecordingSink, block


def feed(board: ColumnBoard, clock: FakeClock, answers: dict[str, str], step: int = 7) -> None:
    """Stream every answer at once, a few characters a tick, as the threads and the main
    thread of run/compare.py would."""
    views = {m: board.column(m) for m in answers}
    drafts = {m: AnswerDraft(m, clock=clock) for m in answers}
    board.start()
    for start in range(0, max(map(len, answers.values())), step):
        for model, text in answers.items():
            piece = text[start : start + step]
            if piece:
                drafts[model].add(ContentDelta(piece))
                views[model].content(piece, drafts[model])
        clock.now += 0.05
        board.tick()
    for view in views.values():
        view.finish(FOOTER)
    board.close({})


def long_answer(seed: int, blocks: int) -> str:
    rng = random.Random(seed)
    return "\n\n".join(block(rng) for _ in range(blocks)) + "\n"


def test_the_notebook_keeps_a_placeholder_then_the_whole_columns() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    answers = {"route/a": long_answer(1, 30), "route/b": long_answer(2, 10)}
    board = ColumnBoard(sink, clock=clock)
    feed(board, clock, answers)
    placeholder, final = sink.displays
    assert placeholder.shown == EMPTY and placeholder.current == EMPTY  # reset at the end
    assert len(placeholder.updates) > 5  # it streamed
    assert final.updates == []
    for text in answers.values():
        assert text.strip() in final.shown["text/plain"]
    assert f"minmax(min(100%,{MIN_WIDTH}),1fr)" in final.shown["text/html"]


def test_the_bytes_sent_grow_linearly_with_the_answers() -> None:
    sent = {}
    for blocks in (40, 160):
        clock = FakeClock()
        board = ColumnBoard(RecordingSink(clock), clock=clock)
        answers = {"route/a": long_answer(3, blocks), "route/b": long_answer(4, blocks)}
        feed(board, clock, answers, step=40)
        sent[blocks] = board.sent_bytes / sum(map(len, answers.values()))
    # Bytes per answer character stay flat as the answers grow four times (quadratic would too).
    assert sent[160] < 1.5 * sent[40], sent


def test_model_text_is_escaped_live_and_at_the_end() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    board = ColumnBoard(sink, clock=clock)
    view = board.column("route/<b>x</b>")
    draft = AnswerDraft("m", clock=clock)
    board.start()
    for text in ("<script>alert(1)</script> ", "<img src=x onerror=alert(2)>"):
        draft.add(ReasoningDelta(text))
        view.reasoning(text, draft)
        clock.now += 1
        board.tick()
    draft.add(ContentDelta("<iframe src=javascript:alert(3)>"))
    view.content("<iframe src=javascript:alert(3)>", draft)
    board.close({"route/<b>x</b>": "failed <b>here</b>"})
    pages = [u["text/html"] for _, u in sink.displays[0].updates] + [
        sink.displays[1].shown["text/html"]
    ]
    for page in pages:
        assert "<script" not in page and "<img" not in page and "<iframe" not in page
        assert "<b>" not in page
    assert "failed &lt;b&gt;here&lt;/b&gt;" in pages[-1]


def figures(model: str, seconds: float, cost: float | None, outcome: str = "ok") -> ModelFigures:
    return ModelFigures(model, 100, seconds, 10, 20, False, cost, "stop", outcome)


def test_the_figures_mark_the_fastest_and_the_cheapest_of_those_that_answered() -> None:
    table = figures_bundle([
        figures("route/a", 2.0, 0.002), figures("route/b", 1.0, None),
        figures("route/c", 0.5, 0.001, outcome="PROVIDER_ERROR"), figures("route/d", 3.0, 0.003),
    ])  # fmt: skip
    lines = table["text/plain"].splitlines()
    assert "total 1.00 s · fastest" in lines[2]  # route/c failed: it is not in the running
    assert "≈ $0.002 · cheapest" in lines[1]  # route/b has no known price
    assert lines[3].endswith("finish stop, PROVIDER_ERROR")
    assert table["text/html"].count("fastest") == table["text/html"].count("cheapest") == 1
