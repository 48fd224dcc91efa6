"""Several models in one cell (`%%route route/a,route/b,route/c`) against the emulator. Prints
figures.

    python benchmarks/compare.py

1. At once: three models, each answer taking about a second (0.5 s latency, then streamed at
   400 tokens/s): the cell's wall time beside one model's and beside three one after another
   (goal: about one model's).
2. Bytes: what the live columns send while two answers stream, per character of the answers,
   as the answers grow (goal: flat, so O(n)).
3. Every row to every model under a binding per-minute limit: 2 models × 40 rows at 120 requests
   a minute, the time taken beside the limit's own (80 requests / 2 per second = 40 s).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from routing_magics.config import Settings
from routing_magics.display.columns import ColumnBoard
from routing_magics.display.progress import NoProgress
from routing_magics.emulator import Emulator
from routing_magics.run import RunOptions
from routing_magics.run.batch import BatchOptions
from routing_magics.run.batch.by_model import run_by_model
from routing_magics.run.compare import run_comparison
from routing_magics.session import Session

MODELS = ["route/mistral-small-2503", "route/deepseek-v3.2", "route/kimi-k2.6"]
PROMPT = "Explain the CAP theorem to a new engineer in five sentences."


class Sink:
    """Counts nothing itself: the board counts its bytes (ColumnBoard.sent_bytes)."""

    def show(self, data: dict[str, str], metadata: object = None) -> Sink:
        return self

    def update(self, data: dict[str, str], metadata: object = None) -> None:
        pass


class Clock:
    """Time as the feed says it is: 8 ticks a second, however fast the machine."""

    now = 0.0

    def __call__(self) -> float:
        return self.now


def session(base_url: str, tmp: Path) -> Session:
    settings = Settings(api_key="rk_bench", base_url=base_url, fallback_base_url=None,
                        usage_db=str(tmp / "u.sqlite"))  # fmt: skip
    return Session(settings, notebook="benchmark")


def at_once(tmp: Path) -> None:
    with Emulator(latency=0.5, token_rate=400) as emu:
        s = session(emu.base_url, tmp)
        try:
            took = {}
            for models in ([MODELS[0]], MODELS):
                started = time.monotonic()
                run_comparison(s, PROMPT, RunOptions(), models, {}, ColumnBoard(Sink()))
                took[len(models)] = time.monotonic() - started
        finally:
            s.close()
    print(f"1. three models at once: {took[3]:.2f} s; one model: {took[1]:.2f} s; "
          f"three one after another would take about {3 * took[1]:.2f} s")  # fmt: skip


def bytes_per_character(tmp: Path) -> None:
    """Feeds a board as two threads' streams would, 40 characters a tick, 8 ticks a second."""
    from routing_magics.api.models import ContentDelta
    from routing_magics.run import AnswerDraft

    rng = random.Random(7)
    words = ["the", "model", "routes", "each", "request", "to", "a", "provider", "streams"]
    for size in (2_000, 8_000, 32_000):
        text = {m: "" for m in MODELS[:2]}
        for model in text:
            paragraphs = []
            while sum(map(len, paragraphs)) < size:
                paragraphs.append(" ".join(rng.choice(words) for _ in range(60)))
            text[model] = "\n\n".join(paragraphs)
        clock = Clock()
        board = ColumnBoard(Sink(), clock=clock)
        views = {m: board.column(m) for m in text}
        drafts = {m: AnswerDraft(m) for m in text}
        board.start()
        for start in range(0, size, 40):
            for model, answer in text.items():
                piece = answer[start : start + 40]
                drafts[model].add(ContentDelta(piece))
                views[model].content(piece, drafts[model])
            clock.now += 0.125
            board.tick()
        board.close({})
        chars = sum(map(len, text.values()))
        print(f"2. answers of {chars:,} characters: {board.sent_bytes / chars:.1f} bytes sent "
              f"per character")  # fmt: skip


def every_row_to_every_model(tmp: Path) -> None:
    with Emulator(per_minute_limit=120, daily_limit=1_000_000) as emu:
        s = session(emu.base_url, tmp)
        frame = pd.DataFrame({"text": [f"row {i}" for i in range(40)]})
        started = time.monotonic()
        try:
            batch = BatchOptions(8, cache=False)
            done = run_by_model(s, "frame", frame, "echo: {text}", RunOptions(), MODELS[:2],
                                batch, {}, lambda m: NoProgress())  # fmt: skip
        finally:
            s.close()
        took = time.monotonic() - started
        answered = sum(r.count("ok") for r in done.results.values())
        limited = sum(r.rate_limited for r in done.results.values())
    print(f"3. 2 models × 40 rows at 120 a minute: {answered} answers in {took:.1f} s "
          f"(the limit alone: 40.0 s), {limited} 429s")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        at_once(Path(tmp))
        bytes_per_character(Path(tmp))
        every_row_to_every_model(Path(tmp))


if __name__ == "__main__":
    main()
