"""The example notebooks run equally with a key: against a server that is not the bundled
emulator (a standalone one, as a proxy or routing.run itself would be), top to bottom."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from routing_magics.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("name", "printed"), [
    ("08-notebook-context", "Why did the total fail?"),  # what was sent, read from the result
    ("10-structured", "Dry run: nothing was sent."),
    ("12-choosing-a-route", "verdict_deepseek-v3.2"),  # the frame with a column per route
])  # fmt: skip
def test_a_notebook_runs_with_a_key_against_another_server(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, printed: str
) -> None:
    monkeypatch.delenv("ROUTING_MAGICS_OFFLINE", raising=False)
    monkeypatch.setenv("ROUTING_RUN_API_KEY", "rk_notebook_test_key")
    monkeypatch.setenv("ROUTING_RUN_BASE_URL", emu.base_url)
    monkeypatch.setenv("ROUTING_RUN_FALLBACK_BASE_URL", "")
    monkeypatch.setenv("ROUTING_MAGICS_USAGE_DB", str(tmp_path / "usage.sqlite"))
    path = ROOT / "notebooks" / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
    client.execute(env=dict(os.environ))  # raises on any failing cell not tagged to fail
    sent = [r for r in emu.requests if r.path.endswith("/chat/completions")]
    assert sent, "the notebook's cells reached the server"
    shown = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for cell in notebook.cells
        for o in cell.get("outputs", [])
    )
    assert printed in shown
    assert "rk_notebook_test_key" not in nbformat.writes(notebook)
