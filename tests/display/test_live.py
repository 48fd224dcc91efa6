"""display/live.py: what a streamed answer leaves in a cell, and what the user sees meanwhile."""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from routing_magics.api.models import ContentDelta, ReasoningDelta
from routing_magics.display.live import PLACEHOLDER, LiveView
from routing_magics.display.protocols import View
from routing_magics.display.render import FooterInfo, footer_text, markdown_to_html
from routing_magics.run import AnswerDraft

FOOTER = FooterInfo(
    model="route/mistral-small-2503",
    provider="routing-inference",
    latency_ms=1200,
    prompt_tokens=120,
    completion_tokens=340,
    estimated=False,
    notebook_total_tokens=2410,
    offline=True,
)
EMPTY = {"text/plain": "", "text/html": ""}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Fed:
    """A view fed as run.run_prompt feeds it: each delta into the draft, then onto the view."""

    def __init__(self, view: View, *, streamed: bool = True) -> None:
        self.view = view
        clock = getattr(view, "_clock", time.monotonic)
        self.draft = AnswerDraft("m", streamed=streamed, clock=clock)

    def reasoning(self, text: str) -> None:
        self.draft.add(ReasoningDelta(text))
        self.view.reasoning(text, self.draft)

    def content(self, text: str) -> None:
        self.draft.add(ContentDelta(text))
        self.view.content(text, self.draft)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


@dataclass
class Display:
    shown: dict[str, str]
    metadata: dict[str, Any] | None
    updates: list[tuple[float, dict[str, str]]] = field(default_factory=list)

    @property
    def current(self) -> dict[str, str]:
        return self.updates[-1][1] if self.updates else self.shown


class RecordingSink:
    """Records show() as nbval would (display_data) and update() as the frontend would."""

    def __init__(self, clock: FakeClock | None = None, fail_update_at: int | None = None) -> None:
        self.displays: list[Display] = []
        self.clock = clock
        self.fail_update_at = fail_update_at
        self.update_count = 0

    def show(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> Handle:
        display = Display(dict(data), metadata)
        self.displays.append(display)
        return Handle(self, display)

    @property
    def outputs(self) -> list[dict[str, str]]:
        """What the notebook file keeps: each display as it was when shown."""
        return [d.shown for d in self.displays]

    @property
    def visible(self) -> list[dict[str, str]]:
        """What the user sees at the end, top to bottom, empty displays left out."""
        return [d.current for d in self.displays if d.current != EMPTY]


class Handle:
    def __init__(self, sink: RecordingSink, display: Display) -> None:
        self.sink, self.display = sink, display

    def update(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> None:
        self.sink.update_count += 1
        if self.sink.update_count == self.sink.fail_update_at:
            raise KeyboardInterrupt
        when = self.sink.clock() if self.sink.clock else 0.0
        self.display.updates.append((when, dict(data)))


WORDS: tuple[str, ...] = ("the", "model", "routes", "each", "request", "to", "a", "provider")
WORDS += ("and", "streams", "tokens", "back", "while", "notebook", "renders", "markdown", "code")


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16))).capitalize() + "."


def block(rng: random.Random) -> str:
    kind = rng.choice(["p", "p", "p", "list", "code", "table", "heading", "numbered"])
    if kind == "p":
        return " ".join(sentence(rng) for _ in range(rng.randint(1, 4)))
    if kind == "heading":
        return "## " + sentence(rng)
    if kind == "list":
        return "\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(2, 5)))
    if kind == "numbered":
        return f"1. {sentence(rng)}\n\n   {sentence(rng)}\n\n2. {sentence(rng)}"
    if kind == "code":
        lines = [f"x_{i} = compute({i}, 'value')" for i in range(rng.randint(3, 10))]
        lines.insert(2, "")  # a blank line inside the fence must not split it
        return "```python\n" + "\n".join(lines) + "\n```"
    rows = [f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} |" for _ in range(rng.randint(2, 6))]
    return "| name | value |\n|---|---|\n" + "\n".join(rows)


def make_answer(chars: int, seed: int = 0) -> str:
    """Realistic markdown: paragraphs, headings, lists, fenced code, tables."""
    rng = random.Random(seed)
    blocks: list[str] = []
    while sum(len(b) + 2 for b in blocks) < chars:
        blocks.append(block(rng))
    return "\n\n".join(blocks)[:chars]


def chunk(text: str, sizes: Iterable[int]) -> list[str]:
    chunks, pos = [], 0
    for size in sizes:
        if pos >= len(text):
            break
        chunks.append(text[pos : pos + size])
        pos += size
    return chunks


def stream(
    text: str,
    chunks: list[str],
    *,
    step: float = 0.002,
    reasoning: Sequence[str] = (),
    **view_args: Any,
) -> tuple[RecordingSink, Fed]:
    """Feed reasoning then `chunks` (which must join to `text`) through a LiveView, then finish."""
    assert "".join(chunks) == text
    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock, **view_args))
    for delta in reasoning:
        clock.now += step
        view.reasoning(delta)
    for delta in chunks:
        clock.now += step
        view.content(delta)
    view.finish(FOOTER)
    return sink, view


def parts_of(sink: RecordingSink) -> list[str]:
    """The answer's frozen parts: shown outputs that are neither placeholders nor the footer."""
    return [
        d.shown["text/plain"]
        for d in sink.displays[:-1]
        if d.shown != EMPTY and "routing-magics-reasoning" not in d.shown["text/html"]
    ]


def size(data: dict[str, str]) -> int:
    return sum(len(v.encode()) for v in data.values())


ANSWER = make_answer(6000, seed=3)


def test_same_text_any_chunking_same_outputs() -> None:
    rng = random.Random(7)
    chunkings = [
        [ANSWER],
        list(ANSWER),
        chunk(ANSWER, [4] * len(ANSWER)),
        chunk(ANSWER, (rng.randint(1, 40) for _ in range(len(ANSWER)))),
        ANSWER.splitlines(keepends=True),
    ]
    results = [stream(ANSWER, c)[0].outputs for c in chunkings]
    slow = stream(ANSWER, chunk(ANSWER, [9] * len(ANSWER)), step=0.1)  # every delta updates
    results.append(slow[0].outputs)
    assert len(results[0]) > 10
    assert all(outputs == results[0] for outputs in results)


def test_parts_rebuild_the_answer_at_block_boundaries() -> None:
    sink, _ = stream(ANSWER, chunk(ANSWER, [4] * len(ANSWER)), freeze_chars=300)
    parts = parts_of(sink)
    assert "".join(parts) == ANSWER
    assert all(len(part) >= 300 for part in parts[:-1])
    for part in parts[:-1]:
        assert part.endswith("\n\n") and part.count("```") % 2 == 0
    for part in parts[1:]:
        assert part[0] not in " \t\n"
    assert all(
        d.shown["text/html"] == markdown_to_html(d.shown["text/plain"])
        for d in sink.displays[1:-1]
        if d.shown != EMPTY
    )


def test_outputs_read_placeholder_part_placeholder_part_footer() -> None:
    sink, _ = stream(ANSWER, chunk(ANSWER, [4] * len(ANSWER)))
    outputs = sink.outputs
    assert outputs[0] == PLACEHOLDER
    body = outputs[:-1]
    assert body[0::2] == [EMPTY] * len(body[0::2])  # placeholders at even positions
    assert EMPTY not in body[1::2]  # parts at odd positions
    assert "routing-magics-footer" in outputs[-1]["text/html"]
    # At the end every live handle is empty again, so the screen shows parts then the footer.
    assert sink.visible == [d.shown for d in sink.displays if d.shown != EMPTY]
    assert all(d.current == EMPTY for d in sink.displays if d.shown == EMPTY and d.updates)


def test_every_output_is_plain_text_and_html() -> None:
    sink, _ = stream(ANSWER, chunk(ANSWER, [4] * len(ANSWER)), reasoning=["think ", "hard"])
    everything = [d.shown for d in sink.displays] + [
        data for d in sink.displays for _, data in d.updates
    ]
    assert all(set(data) == {"text/plain", "text/html"} for data in everything)


@pytest.mark.parametrize("chars", [1_000, 10_000, 50_000])
@pytest.mark.parametrize("seed", [0, 1])
def test_bytes_sent_stay_linear(chars: int, seed: int) -> None:
    text = make_answer(chars, seed)
    sink, view = stream(text, chunk(text, [4] * len(text)), step=0.002)  # 500 tokens/s
    final = sum(size(data) for data in sink.outputs)
    assert sum(len(d.updates) for d in sink.displays) > chars / 400  # updates did get through
    assert view.sent_bytes <= 3 * final


def test_one_huge_code_fence_streams_in_pieces_within_the_byte_bound() -> None:
    code = "".join(f"value_{i} = compute({i})\n" for i in range(1500))
    text = f"Here:\n\n```python\n{code}```\n\nDone.\n"
    sink, view = stream(text, chunk(text, [4] * len(text)), step=0.002)  # 500 tokens/s
    parts = parts_of(sink)
    assert "".join(parts) == text and len(parts) > 5  # text/plain stays the exact answer
    code_parts = [d["text/html"] for d in sink.outputs if "value_" in d.get("text/plain", "")]
    # every piece of the fence, continuations too, renders as highlighted Python, never as prose
    assert all('<code class="language-python"' in html for html in code_parts)
    assert all(re.search(r'<span class="n">\d+</span>', html) for html in code_parts)
    assert view.sent_bytes <= 3 * sum(size(data) for data in sink.outputs)


def test_sent_bytes_counts_shows_and_updates() -> None:
    sink, view = stream(ANSWER, chunk(ANSWER, [4] * len(ANSWER)))
    shown = sum(size(d.shown) for d in sink.displays)
    updated = sum(size(data) for d in sink.displays for _, data in d.updates)
    assert view.sent_bytes == shown + updated


def test_first_token_shows_at_once() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock))
    view.content("Hel")
    assert sink.outputs == [EMPTY]
    assert sink.displays[0].current["text/plain"] == "Hel"
    assert "Hel" in sink.displays[0].current["text/html"]


def test_updates_are_throttled_and_pending_text_follows() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock, max_updates_per_second=15))
    start = clock.now
    for _ in range(2000):  # two seconds of 1 ms deltas, all in one paragraph
        clock.now += 0.001
        view.content("a ")
    times = [when for d in sink.displays for when, _ in d.updates]
    assert len(times) <= 31  # never more than 15/s over 2 s, plus the first at once
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 1 / 15 - 1e-9 for gap in gaps)
    # one growing paragraph: updates wait for the tail to double, but never longer than 0.5 s
    assert all(gap <= 0.5 + 1 / 15 + 1e-9 for gap in gaps)
    assert times[0] == pytest.approx(start + 0.001)
    clock.now += 1.0
    view.content("z")  # a delta after the interval flushes what was pending
    assert sink.displays[-1].current["text/plain"].endswith("a a z")


def test_finish_shows_what_the_throttle_held_back() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock))
    view.content("Hello")
    view.content(", world")  # same instant: held back
    assert sink.displays[0].current["text/plain"] == "Hello"
    view.finish(FOOTER)
    assert [d["text/plain"] for d in sink.visible] == [
        "Hello, world",
        footer_text(FOOTER),
    ]


def test_reasoning_collapses_when_the_answer_starts() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock))
    for delta in ["Let me ", "think <about> ", "it."]:
        view.reasoning(delta)
        clock.now += 0.75
    live = sink.displays[0]
    assert live.shown == EMPTY
    assert re.match(
        r'<details class="routing-magics-reasoning [^"]*" open>', live.current["text/html"]
    )
    view.content("The answer.")
    view.finish(FOOTER)
    outputs = sink.outputs
    assert outputs[0] == EMPTY and outputs[2] == EMPTY
    collapsed = outputs[1]["text/html"]
    assert re.match(r'<details class="routing-magics-reasoning [^"]*">', collapsed)
    assert "<summary>Reasoning · 3 tokens · 1.5 s</summary>" in collapsed
    assert "think &lt;about&gt; it." in collapsed and "The answer" not in collapsed
    assert outputs[1]["text/plain"] == "Reasoning (3 tokens):\nLet me think <about> it."
    assert outputs[3]["text/plain"] == "The answer."
    assert live.current == EMPTY  # the open view is gone; the collapsed one is never updated
    assert sink.displays[1].updates == []


def test_reasoning_only_answer_still_collapses_and_warns() -> None:
    sink = RecordingSink()
    view = Fed(LiveView(sink, clock=FakeClock()), streamed=False)  # --no-stream: one block
    view.reasoning("all the thinking")
    view.finish(FOOTER, notice="max_tokens went on reasoning: run again with -m 4000")
    texts = [d["text/plain"] for d in sink.visible]
    assert texts[0] == "Reasoning (4 tokens):\nall the thinking"  # one block: estimated
    assert texts[1] == "max_tokens went on reasoning: run again with -m 4000"
    assert texts[2].startswith("route/mistral-small-2503")
    assert sink.displays[0].shown == EMPTY


def test_long_reasoning_streams_a_bounded_window() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock, reasoning_window=500))
    for i in range(3000):
        clock.now += 0.01
        view.reasoning(f"step {i}. ")
    biggest = max(len(data["text/plain"]) for _, data in sink.displays[0].updates)
    assert biggest < 700
    assert "earlier characters" in sink.displays[0].current["text/plain"]
    view.finish(FOOTER)
    assert "step 0. step 1." in sink.visible[0]["text/plain"]  # the collapsed view has it all


def test_finish_after_an_interrupt_keeps_the_partial_answer() -> None:
    def deltas() -> Iterable[str]:
        yield from chunk(ANSWER[:2000], [4] * 500)
        raise KeyboardInterrupt

    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock))
    with pytest.raises(KeyboardInterrupt):
        try:
            for delta in deltas():
                clock.now += 0.002
                view.content(delta)
        finally:
            view.finish(
                FooterInfo("route/x", None, None, 5, 500, True, None, False, status="stopped"),
                notice="stopped",
            )
    visible = [d["text/plain"] for d in sink.visible]
    assert "".join(visible[:-2]) == ANSWER[:2000]
    assert visible[-2:] == ["stopped", "route/x · 5 in / 500 out (estimated) · stopped"]
    assert all(d.current == EMPTY for d in sink.displays if d.shown == EMPTY)


def test_finish_after_an_interrupt_inside_an_update() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock, fail_update_at=3)
    view = Fed(LiveView(sink, clock=clock))
    delivered = ""
    with pytest.raises(KeyboardInterrupt):
        for delta in chunk(ANSWER, [4] * len(ANSWER)):
            clock.now += 0.05
            delivered += delta
            view.content(delta)
    view.finish(FOOTER, notice="stopped")
    assert all(d.current == EMPTY for d in sink.displays if d.shown == EMPTY)
    assert 0 < len(delivered) < 100
    assert [d["text/plain"] for d in sink.visible][:2] == [delivered, "stopped"]


def test_finish_is_idempotent_and_ignores_late_deltas() -> None:
    sink = RecordingSink()
    view = Fed(LiveView(sink, clock=FakeClock()))
    view.content("hi")
    view.finish(FOOTER)
    count = len(sink.displays)
    view.finish(FOOTER, notice="again")
    view.content("late")
    assert len(sink.displays) == count


def test_reasoning_after_the_answer_began_is_kept_below_it() -> None:
    sink = RecordingSink()
    view = Fed(LiveView(sink, clock=FakeClock()))
    view.content("Answer.")
    view.reasoning("an afterthought")
    view.finish(FOOTER)
    texts = [d["text/plain"] for d in sink.visible]
    assert texts[:2] == ["Answer.", "Reasoning (1 tokens):\nan afterthought"]


def test_nothing_streamed_still_gets_notice_and_footer() -> None:
    sink = RecordingSink()
    view = Fed(LiveView(sink, clock=FakeClock()))
    view.finish(FOOTER, notice="<b>401</b> AUTHENTICATION_ERROR", metadata={"routing_magics": {}})
    assert sink.outputs[0]["text/plain"] == "<b>401</b> AUTHENTICATION_ERROR"
    assert "&lt;b&gt;401&lt;/b&gt;" in sink.outputs[0]["text/html"]
    assert sink.displays[-1].metadata == {"routing_magics": {}}


def test_custom_renderer_is_used_for_parts() -> None:
    sink = RecordingSink()
    view = Fed(LiveView(sink, clock=FakeClock(), renderer=lambda text: f"<pre>{len(text)}</pre>"))
    view.content("*not markdown*")
    view.finish(FOOTER)
    assert sink.visible[0] == {"text/plain": "*not markdown*", "text/html": "<pre>14</pre>"}


def test_the_live_tail_highlights_a_code_fence_once_it_is_finished() -> None:
    clock = FakeClock()
    sink = RecordingSink(clock)
    view = Fed(LiveView(sink, clock=clock))
    view.content("```python\nx = 1\n")
    live = sink.displays[0].current["text/html"]
    assert '<code class="language-python"' in live and "<span" not in live  # still open: plain
    clock.now += 1
    view.content("```\n\nAfter it.")
    live = sink.displays[0].current["text/html"]
    assert '<span class="n">1' in live and "After it." in live  # closed: highlighted
    view.finish(FOOTER)
    assert '<span class="n">1' in sink.outputs[1]["text/html"]  # and so it is kept


def test_a_finished_piece_of_an_unclosed_fence_is_kept_highlighted() -> None:
    code = "".join(f"n_{i} = {i}\n" for i in range(400))
    text = f"```python\n{code}"
    sink, _ = stream(text, chunk(text, [40] * len(text)), step=0.01)
    pieces = [d["text/html"] for d in sink.outputs if "n_" in d.get("text/plain", "")]
    assert len(pieces) > 1
    assert all(re.search(r'<span class="n">\d+', html) for html in pieces)
