"""display/toolblock.py and LiveView.tool_call: each call its own escaped, collapsible block,
open while its step lasts, then collapsed, with outputs nbval can replay."""

from __future__ import annotations

from routing_magics.display.live import LiveView
from routing_magics.display.protocols import ToolCallInfo
from routing_magics.display.terminal import TextView
from routing_magics.display.toolblock import short, tool_html, tool_plain
from tests.display.test_live import EMPTY, FOOTER, Fed, RecordingSink

OSLO = 'rows_where(city="Oslo", min_amount=50)'


def call(index: int, state: str = "done", result: str = "17", step: int = 1) -> ToolCallInfo:
    return ToolCallInfo(index, step, OSLO, state, result)  # type: ignore[arg-type]


def test_block_reads_call_arrow_result_and_escapes_everything() -> None:
    assert tool_plain(call(0)) == f"{OSLO} → 17"
    html = tool_html(ToolCallInfo(0, 1, 'f(x="<i>")', "failed", "ValueError: <script>"), open=False)
    assert html.startswith('<details class="routing-magics-tool routing-magics-tool-failed">')
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "f(x=&quot;&lt;i&gt;&quot;)" in html
    assert "<summary><code>" in html and " open" not in html
    assert " open>" in tool_html(call(0), open=True)


def test_summary_keeps_one_short_line_the_body_all_of_it() -> None:
    long = "first line " * 20 + "\nsecond"
    assert len(short(long)) <= 82 and "second" not in short(long)
    html = tool_html(call(0, result=long), open=False)
    assert "second" in html.split("</summary>")[1]


def test_step_of_reasoning_calls_then_answer_replays_like_nbval() -> None:
    sink = RecordingSink()
    view = LiveView(sink)
    step1 = Fed(view)
    step1.reasoning("I will call the tool.")
    view.tool_call(call(0, "running", ""))
    view.tool_call(call(0))
    view.tool_call(call(1, "failed", "KeyError: 'Lima'"))
    # While the step lasts, the blocks are open on live handles.
    first = next(d for d in sink.visible if "routing-magics-tool" in d["text/html"])
    assert first["text/html"].startswith(
        '<details class="routing-magics-tool routing-magics-tool-done" open>'
    )
    step2 = Fed(view)
    step2.content("Oslo had 17.")
    view.finish(FOOTER)
    visible = [d["text/plain"] for d in sink.visible]
    assert visible == [
        "Reasoning (1 tokens):\nI will call the tool.",
        f"{OSLO} → 17",
        f"{OSLO} raised KeyError: 'Lima'",
        "Oslo had 17.",
        visible[-1],
    ]
    closed = [d for d in sink.visible if "routing-magics-tool" in d["text/html"]]
    assert all(" open" not in d["text/html"] for d in closed)
    # What nbval replays (as shown) equals what the notebook keeps (after updates).
    assert sink.outputs == [d.current for d in sink.displays]
    assert all(d.current == EMPTY for d in sink.displays if d.updates)


def test_blocks_of_an_earlier_step_close_when_the_next_step_calls_at_once() -> None:
    sink = RecordingSink()
    view = LiveView(sink)
    view.tool_call(call(0))
    view.tool_call(call(1, step=2))
    kept = [d["text/html"] for d in sink.visible]
    assert " open" not in kept[0] and " open" in kept[1]
    view.finish(FOOTER)
    assert sink.outputs == [d.current for d in sink.displays]


def test_text_view_prints_a_line_per_finished_call() -> None:
    out: list[str] = []
    view = TextView(out.append)
    fed = Fed(view)
    fed.reasoning("thinking")
    view.tool_call(call(0, "running", ""))
    view.tool_call(call(0))
    Fed(view).content("Done.")
    view.finish(FOOTER)
    text = "".join(out)
    assert f"thinking\n[tool] {OSLO} → 17\nDone.\n[" in text
