"""The README promises that the browser tests print their screenshot paths: pytest captures a
passing test's prints, so tests/browser lists them at the end of the report (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = "from tests.browser.conftest import pytest_terminal_summary, saved  # noqa: F401\n"
TEST = """
from pathlib import Path
from conftest import saved

def test_takes_a_screenshot(tmp_path):
    saved(tmp_path / "answer-light.png")
"""


def test_screenshot_paths_are_listed_at_the_end_of_a_quiet_run(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_shots.py").write_text(TEST)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    heading = next(i for i, line in enumerate(lines) if "browser screenshots" in line)
    assert lines[heading + 1].endswith("answer-light.png"), lines
