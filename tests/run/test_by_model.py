"""Every row to every model (run/batch/by_model.py) below the shells, on the test emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from routing_magics.api import errors
from routing_magics.config import Settings
from routing_magics.display.progress import NoProgress, Progress
from routing_magics.emulator import Emulator
from routing_magics.run.batch import BatchOptions
from routing_magics.run.batch.by_model import run_by_model
from routing_magics.run.options import RunOptions
from routing_magics.session import Session

MODELS = ["route/mistral-small-2503", "route/glm-5"]


@pytest.fixture
def session(emu: Emulator, tmp_path: Path) -> Iterator[Session]:
    settings = Settings(api_key="rk_test", base_url=emu.base_url, fallback_base_url=None,
                        usage_db=str(tmp_path / "u.sqlite"))  # fmt: skip
    s = Session(settings, notebook="by_model.ipynb")
    yield s
    s.close()


def test_ctrl_c_between_two_models_keeps_the_first_models_rows(
    session: Session, emu: Emulator
) -> None:
    """A Ctrl-C that lands after the first model's batch, before the second starts (here, as
    its progress bar is made), stops the rest and keeps what the first answered."""
    emu.per_minute_limit = 6000

    def progress(model: str) -> Progress:
        if model == MODELS[1]:
            raise KeyboardInterrupt
        return NoProgress()

    frame = pd.DataFrame({"text": ["a", "b"]}, index=["r1", "r2"])
    done = run_by_model(session, "frame", frame, "echo: {text}", RunOptions(), MODELS,
                        BatchOptions(2, None, False, "text", None), {}, progress)  # fmt: skip
    assert isinstance(done.stopped_by, errors.Stopped)
    assert list(done.results) == [MODELS[0]] and done.not_sent(MODELS[1])
    assert [o.text for o in done.results[MODELS[0]].outcomes] == ["a", "b"]
