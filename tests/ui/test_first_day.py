"""First-day stumbles (issue 20), as a user sees them in a real InteractiveShell."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.emulator import Emulator
from tests.helpers import Harness, magic_harness


@pytest.fixture
def h(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with magic_harness(emu, tmp_path, monkeypatch) as harness:
        harness.shell.user_ns["reviews"] = pd.DataFrame({"stars": range(200), "text": ["ok"] * 200})
        yield harness


def footer(cell_plain: str) -> str:
    """The footer line of a finished cell's text/plain outputs."""
    return next(line for line in reversed(cell_plain.splitlines()) if " · " in line)


# --- a frame cut says so in the footer, and -o carries it ----------------------------------


def test_a_cut_frame_is_said_in_the_footer_and_carried_by_o(h: Harness) -> None:
    cell = h.ok("%%route --df reviews -o answer\nWhich stars are most common?")
    assert "50 of 200 rows sent (--rows)" in footer(cell.final_plain())
    assert "50 of 200 rows sent (--rows)" in cell.final_html()
    answer = h.shell.user_ns["answer"]
    assert [(f.name, f.rows_sent, f.rows_total, f.cut_by) for f in answer.frames] == [
        ("reviews", 50, 200, "--rows")
    ]
    assert str(answer.frames[0]) == "50 of 200 rows sent (--rows)"


def test_an_interpolated_frame_is_said_too_and_a_whole_one_is_not(h: Harness) -> None:
    cell = h.ok("%%route --rows 20\nCompare {reviews} with the rest.")
    assert "20 of 200 rows sent (--rows)" in footer(cell.final_plain())
    h.shell.user_ns["small"] = pd.DataFrame({"x": [1, 2, 3]})
    whole = h.ok("%%route -o r\nSummarise {small}.")
    assert "rows sent" not in footer(whole.final_plain())
    assert [(f.rows_sent, f.rows_total, f.cut_by) for f in h.shell.user_ns["r"].frames] == [
        (3, 3, None)
    ]


def test_several_cut_frames_are_named_and_a_context_cut_says_why(h: Harness) -> None:
    h.shell.user_ns["wide"] = pd.DataFrame({f"c{i}": range(100_000) for i in range(20)})
    cell = h.ok("%%route route/minimax-m2.5 --rows 100000 --df wide\nCompare {reviews}.")
    line = footer(cell.final_plain())
    assert "reviews: 200 of 200" not in line  # not cut: --rows 100000 is above its 200
    assert "wide: " in line and " of 100,000 rows sent (to fit the context)" in line


def test_no_frame_no_word(h: Harness) -> None:
    cell = h.ok("%%route -o r\necho: hi")
    assert "rows sent" not in cell.final_plain() and h.shell.user_ns["r"].frames == []


# --- a Stop reads "Stopped", not as a usage error --------------------------------------------


def interrupt_main_after(seconds: float) -> threading.Timer:
    """Ctrl-C, as a terminal or the kernel's interrupt sends it, to the thread running the cell."""
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a thread is POSIX")
def test_a_stopped_cell_says_stopped_and_keeps_the_partial_answer(
    h: Harness, emu: Emulator
) -> None:
    emu.token_rate = 20  # 150 words take ~8 s; the stop comes after ~1 s
    timer = interrupt_main_after(1.0)
    cell = h.run("%%route -o r\necho: " + " ".join(f"word{i}" for i in range(150)))
    timer.join()
    assert type(cell.error).__name__ == "Stopped"  # the cell fails: "Run all" stops here
    assert cell.stdout.strip() == (
        "Stopped: the answer so far is kept; run the cell again for a full one"
    )
    assert "UsageError" not in cell.everything() and "Traceback" not in cell.everything()
    kept = cell.final_plain()
    assert "word0" in kept and "word149" not in kept
    assert footer(kept).endswith("stopped")
    assert h.outcomes() == ["stopped"]
    emu.token_rate = None
    assert "ok" in h.ok("%%route\necho: ok").final_plain()  # the next cell works


# --- the saved progress bar leaves a line, not an empty output -----------------------------


def test_the_bars_place_keeps_a_line_and_the_summary_follows(h: Harness, emu: Emulator) -> None:
    emu.per_minute_limit = 6000
    h.shell.user_ns["few"] = h.shell.user_ns["reviews"].head(5)
    cell = h.ok("%%route --each few -o out\necho: {text}")
    saved = cell.final  # as a notebook keeps them (updates applied)
    assert saved == cell.shown  # as nbval replays them (first versions only)
    assert [d["text/plain"] for d in saved][:1] == ["--each few: 5 rows"]
    assert "--each few: 5 rows" in saved[0]["text/html"]
    assert saved[1]["text/plain"].startswith("5 rows: 5 answered, 0 from cache, 0 failed")
    assert all(d.get("text/plain", "").strip() for d in saved)  # no empty output anywhere
    assert any(
        o.update and "application/vnd.jupyter.widget-view+json" in o.data for o in cell.outputs
    )
