"""The shared flow (run.py) as a `%%route` user sees it: errors, partial answers, the reasoning
view, the usage ledger, Ctrl-C and the terminal view, through a real InteractiveShell."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing_magics.emulator import Emulator
from routing_magics.emulator.answers import prompt_tokens, tokenize
from routing_magics.ledger import Ledger
from tests.helpers import EMPTY, Harness, magic_harness, one_line

LONG_ECHO = "echo: " + " ".join(f"word{i}" for i in range(200))


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        yield harness


def footer(h: Harness) -> str:
    return h.cells[-1].final[-1]["text/plain"]


def assert_next_cell_works(h: Harness) -> None:
    cell = h.ok("%%route\necho: ok after")
    assert "ok after" in cell.final_plain()
    assert h.outcomes()[-1] == "ok"


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "times", "words"),
    [
        ("INVALID_MODEL", 1, "%route models"),
        ("AUTHENTICATION_ERROR", 1, "%route key"),
        ("DAILY_REQUEST_LIMIT_EXCEEDED", 1, "%route usage"),
        ("PROVIDER_ERROR", 3, "another route"),
        ("PROVIDER_TIMEOUT", 3, "faster route"),
    ],
)
def test_each_error_code_fails_the_cell_in_one_line(
    h: Harness, emu: Emulator, kind: str, times: int, words: str
) -> None:
    emu.inject(kind, times=times)
    cell = h.run("%%route\necho: hello")
    message = one_line(cell.error)
    assert f"({kind})" in message
    assert words in message  # what to do about it
    assert cell.stderr.strip() == f"UsageError: {message}"  # no traceback wall
    assert "Traceback" not in cell.stdout + cell.stderr
    assert len(h.chat_requests()) == times
    assert h.outcomes() == [kind]
    assert footer(h).endswith("error")
    assert_next_cell_works(h)


def test_model_not_allowed_names_the_plans_that_include_it(h: Harness, emu: Emulator) -> None:
    emu.plan = "lite"
    cell = h.run("%%route route/mistral-small-2503\necho: hello")
    message = one_line(cell.error)
    assert "(MODEL_NOT_ALLOWED)" in message
    assert "Premium, Max or Ultra" in message
    assert h.outcomes() == ["MODEL_NOT_ALLOWED"]
    h.ok("%%route route/kimi-k2.5\necho: a free route still works")
    assert h.outcomes()[-1] == "ok"


def test_a_mid_stream_error_keeps_the_partial_answer(h: Harness, emu: Emulator) -> None:
    emu.inject("midstream_error", after=5)
    cell = h.run("%%route\necho: one two three four five six seven eight")
    message = one_line(cell.error)
    assert "Upstream provider disconnected" in message
    shown = cell.final_plain()
    assert "one two three four five" in shown  # five tokens arrived before the error
    assert "six" not in shown
    assert message not in shown  # said once, by the UsageError line, not again as a notice
    assert shown.rstrip().endswith("· error")  # the footer marks the answer as cut short
    assert h.outcomes() == ["STREAM_ERROR"]
    assert_next_cell_works(h)


def test_streamed_parts_make_up_the_answer_and_placeholders_end_empty(h: Harness) -> None:
    paragraphs = "\n\n".join(f"Paragraph {p}: " + " ".join(["text"] * 60) for p in range(8))
    cell = h.ok(f"%%route route/kimi-k2.5 -o r\necho: {paragraphs}")
    assert h.shell.user_ns["r"].text == paragraphs
    assert EMPTY in cell.shown, "the live view starts from an empty placeholder"
    assert any(o.update and o.data != EMPTY for o in cell.outputs), "it streamed by updates"
    # Applying every update (as a notebook does) gives back what nbval records: the shown bundles.
    assert cell.final == cell.shown
    parts = [d for d in cell.shown if "routing-magics-answer" in d["text/html"]]
    assert len(parts) >= 2, "a long answer is frozen in parts"
    assert "".join(d["text/plain"] for d in parts) == paragraphs


# --- what the answer looks like --------------------------------------------------------------


def test_reasoning_is_collapsed_above_the_answer(h: Harness) -> None:
    cell = h.ok("%%route route/kimi-k2.5 -o r\necho: PINEAPPLE")
    finals = cell.final
    reasoning = [d for d in finals if "<details" in d["text/html"]]
    assert len(reasoning) == 1
    html = reasoning[0]["text/html"]
    opening = re.search(r"<details[^>]*>", html)
    assert opening is not None and "open" not in opening.group(0)
    result = h.shell.user_ns["r"]
    tokens = len(tokenize(result.reasoning))
    assert f"Reasoning · {tokens} tokens" in html
    assert "PINEAPPLE" not in html
    answer = next(i for i, d in enumerate(finals) if "PINEAPPLE" in d["text/html"])
    assert finals.index(reasoning[0]) < answer
    assert "<details" not in finals[answer]["text/html"]


def test_max_tokens_spent_on_reasoning_says_so(h: Harness) -> None:
    cell = h.ok("%%route route/kimi-k2.5 -m 20 -o r\necho: the answer")
    shown = cell.final_plain()
    assert "max_tokens (20) went on reasoning" in shown
    assert "larger value" in shown
    assert h.shell.user_ns["r"].text == ""
    assert h.shell.user_ns["r"].finish_reason == "length"
    assert h.chat_requests()[-1].body["max_tokens"] == 20


def test_footer_names_model_provider_tokens_and_running_total(h: Harness) -> None:
    h.ok("%%route route/kimi-k2.5 -o r\necho: hi")
    first = h.shell.user_ns["r"].usage
    line = footer(h)
    assert line.startswith("route/kimi-k2.5 · crof · ")
    assert f"{first.prompt_tokens} in / {first.completion_tokens} out" in line
    assert f"notebook total {first.total_tokens} tokens" in line
    assert "offline emulator" not in line
    h.ok("%%route route/kimi-k2.5 -o r\necho: hi")
    assert f"notebook total {2 * first.total_tokens} tokens" in footer(h)


def test_ledger_totals_equal_the_usage_the_server_reported(h: Harness) -> None:
    prompts = ["echo: one", "echo: two two", "tell me about tables", "echo: " + "z " * 50]
    expected: dict[str, list[int]] = {}
    for i, prompt in enumerate(prompts):
        model = ("route/kimi-k2.5", "route/mistral-small-2503")[i % 2]
        h.ok(f"%%route {model} -o r\n{prompt}")
        usage = h.shell.user_ns["r"].usage
        body = h.chat_requests()[-1].body
        result = h.shell.user_ns["r"]
        # What the emulator counted: prompt chars / 4, and one token per streamed piece.
        assert usage.prompt_tokens == prompt_tokens(body["messages"])
        assert usage.completion_tokens == len(tokenize(result.reasoning) + tokenize(result.text))
        assert not usage.estimated
        sums = expected.setdefault(model, [0, 0, 0, 0])
        for j, n in enumerate(
            (1, usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
        ):
            sums[j] += n
    with Ledger(h.db) as ledger:
        totals = {t.model: t for t in ledger.totals_by_model(h.magics.session.notebook)}
    assert {
        m: [t.requests, t.prompt_tokens, t.completion_tokens, t.total_tokens]
        for m, t in totals.items()
    } == expected
    table = h.ok("%route usage").final_plain()
    for model, (requests, tokens_in, tokens_out, total) in expected.items():
        row = next(line for line in table.splitlines() if line.startswith(model))
        assert row.split()[1:5] == [
            f"{requests:,}",
            f"{tokens_in:,}",
            f"{tokens_out:,}",
            f"{total:,}",
        ]


# --- Ctrl-C and the terminal ------------------------------------------------------------------


def press_ctrl_c_once_streaming(emu: Emulator, delay: float) -> threading.Thread:
    """SIGINT to the main thread `delay` s after the chat request reached the emulator."""
    main = threading.main_thread().ident
    assert main is not None

    def wait_then_interrupt() -> None:
        deadline = time.monotonic() + 10
        while not any(r.path == "/v1/chat/completions" for r in emu.requests):
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(delay)
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=wait_then_interrupt, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_stops_at_once_keeps_the_partial_answer_and_records_it(
    h: Harness, emu: Emulator
) -> None:
    emu.token_rate = 20  # 200 words: 10 s
    started = time.monotonic()
    press_ctrl_c_once_streaming(emu, delay=0.4)
    cell = h.run(f"%%route\n{LONG_ECHO}")
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"the stream should stop at once, took {elapsed:.2f} s"
    assert type(cell.error).__name__ == "Stopped"  # the cell fails, but not as a UsageError
    assert cell.stdout.strip().startswith("Stopped: the answer so far is kept")
    assert "word0 word1" in cell.final_plain()
    assert "word199" not in cell.final_plain()
    assert footer(h).endswith("stopped")
    assert h.outcomes() == ["stopped"]
    emu.token_rate = None
    assert_next_cell_works(h)


def test_terminal_view_prints_reasoning_answer_and_footer(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with magic_harness(emu, tmp_path, monkeypatch, display="text") as h:
        cell = h.ok("%%route route/kimi-k2.5\necho: plain **words**")
        assert cell.outputs == []
        out = cell.stdout
        assert out.startswith("Reasoning:\n")
        assert "\nAnswer:\nplain **words**\n" in out
        assert out.rstrip().endswith("]") and "route/kimi-k2.5 · crof" in out.splitlines()[-1]
        emu.inject("midstream_error", after=2)
        failed = h.run("%%route\necho: one two three four")
        assert "(STREAM_ERROR)" in one_line(failed.error)
        assert failed.stdout.startswith("one two\n")
        assert "three" not in failed.stdout
